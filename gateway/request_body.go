package gateway

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/ebxml"
)

// NumContentEncoding: the request's Content-Encoding is not one the front
// doors decode (gzip, deflate; identity is none), or its body does not
// decode as it says.
const NumContentEncoding = 910011

// bodyError says why a front door cannot read a request's body.
type bodyError struct {
	// tooLarge: the body decodes to more than --max-body.
	tooLarge bool
	// unsupported: the Content-Encoding is not one the doors decode.
	unsupported bool
	// unread: the body did not arrive whole (the sender stopped, or was
	// too slow for the read timeout).
	unread bool
	// text says what was wrong.
	text string
}

// Error implements error.
func (e *bodyError) Error() string { return e.text }

// messageError is e as an ebXML MessageError: NotSupported 910001 for a
// body over the limit (as for one over it as received), NotSupported or
// MimeProblem 910011 for the encoding.
func (e *bodyError) messageError() *ebxml.MessageError {
	switch {
	case e.tooLarge:
		return ebxml.NewMessageError(ebxml.CodeNotSupported, NumBodyTooLarge, e.text)
	case e.unsupported:
		return ebxml.NewMessageError(ebxml.CodeNotSupported, NumContentEncoding, e.text)
	case e.unread:
		return ebxml.NewMessageError(ebxml.CodeMimeProblem, 0, e.text)
	}
	return ebxml.NewMessageError(ebxml.CodeMimeProblem, NumContentEncoding, e.text)
}

// fault is e as the SOAP door's final fault (300), its number first (a
// body that did not arrive whole: the retryable 200, without a number).
func (e *bodyError) fault() *ebxml.SOAPFault {
	if e.unread {
		return fault(ebxml.TMSCodeSystemFailure, e.text)
	}
	num := NumContentEncoding
	if e.tooLarge {
		num = NumBodyTooLarge
	}
	return fault(ebxml.TMSCodeMalformed, fmt.Sprintf("%d:%s", num, e.text))
}

// frontBody returns the body of a front-door request as the door reads
// it: decodeBody of the bytes received (readFrontBody) under the
// request's Content-Encoding, within --max-body. The body is the door's
// own (no buffer of the server's), so a parse may keep parts of it. It never lets Fiber
// decode (c.Body): Fiber decodes without any bound — a few kilobytes of
// gzip can hold gigabytes — and hands a decoder's error text back as if it
// were the body.
func frontBody(c *fiber.Ctx, max int) ([]byte, *bodyError) {
	raw, ok := c.Locals(frontBodyKey).(receivedBody)
	if !ok {
		raw = readBody(c, max)
	}
	if raw.err != nil {
		return nil, raw.err
	}
	return decodeBody(c.Get(fiber.HeaderContentEncoding), raw.b, max)
}

// frontBodyKey is the fiber.Ctx Locals key of the body readFrontBody read.
const frontBodyKey = "porxgate.frontBody"

// receivedBody is a request's body as received, or why it was not read.
type receivedBody struct {
	b   []byte
	err *bodyError
}

// readFrontBody is the front doors' first handler: it reads the request's
// body as it arrives (the server streams bodies), at most max bytes, and
// keeps it for frontBody, before the door is admitted (admission): as
// when the server read it, a message is refused as busy only once it has
// arrived, and a slow sender holds no door.
func readFrontBody(max int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(frontBodyKey, readBody(c, max))
		return c.Next()
	}
}

// readBody reads the body of c's request, at most max bytes: one that
// says it is longer (Content-Length) is refused unread, one that turns
// out longer (chunked) once max+1 bytes have come. Either way the rest
// is left to the connection's gentle close (refusedUnread), so that the
// refusal reaches the sender.
func readBody(c *fiber.Ctx, max int) receivedBody {
	req := c.Request()
	tooLarge := &bodyError{tooLarge: true, text: fmt.Sprintf("message body exceeds the %d-byte limit", max)}
	if req.Header.ContentLength() > max {
		refusedUnread(c)
		return receivedBody{err: tooLarge}
	}
	stream := req.BodyStream()
	if stream == nil {
		// The server's own buffer, reused for its next request: the doors
		// keep parts of the body (ebxml.ParseRequestInPlace), so they get
		// a copy of their own, as of a streamed body.
		return receivedBody{b: bytes.Clone(req.Body())}
	}
	b, err := readAllSized(stream, req.Header.ContentLength(), max)
	switch {
	case err != nil:
		return receivedBody{err: &bodyError{unread: true, text: fmt.Sprintf("the body did not arrive whole: %v", err)}}
	case len(b) > max:
		refusedUnread(c)
		return receivedBody{err: tooLarge}
	}
	return receivedBody{b: b}
}

// readAllSized reads r to its end, at most max+1 bytes, as io.ReadAll of
// io.LimitReader(r, max+1) does, into one buffer of size+1 bytes when the
// sender said the size (a Content-Length within max; size < 0: not said).
// io.ReadAll starts at 512 bytes and grows as it goes: about four times a
// 25 KB message in allocations and copies, the front door's largest
// allocation per message. The spare byte lets the end of r be seen
// without growing; a body longer than it said grows the buffer as
// io.ReadAll would, up to max+1 bytes.
func readAllSized(r io.Reader, size, max int) ([]byte, error) {
	if size < 0 || size > max {
		return io.ReadAll(io.LimitReader(r, int64(max)+1))
	}
	lr := io.LimitedReader{R: r, N: int64(max) + 1}
	b := make([]byte, 0, size+1)
	for {
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// decodeBody returns raw as it decodes under the Content-Encoding enc:
// raw itself for none (or identity), else what gzip or deflate (a zlib
// stream, or raw deflate as some senders send it) decodes it to, which
// must be no more than max bytes (the bound of a body as received).
// Decoding stops at max+1 bytes, so a body that would decode to far more
// costs no more than that.
func decodeBody(enc string, raw []byte, max int) ([]byte, *bodyError) {
	enc = strings.ToLower(strings.TrimSpace(enc))
	if enc == "" || enc == "identity" {
		return raw, nil
	}
	var (
		r   io.Reader
		err error
	)
	switch enc {
	case "gzip", "x-gzip":
		r, err = gzip.NewReader(bytes.NewReader(raw))
	case "deflate":
		if r, err = zlib.NewReader(bytes.NewReader(raw)); err != nil {
			r, err = flate.NewReader(bytes.NewReader(raw)), nil
		}
	default:
		return nil, &bodyError{unsupported: true, text: fmt.Sprintf("Content-Encoding %q is not supported (gzip, deflate or none)", enc)}
	}
	var b []byte
	if err == nil {
		b, err = io.ReadAll(io.LimitReader(r, int64(max)+1))
	}
	switch {
	case err != nil:
		return nil, &bodyError{text: fmt.Sprintf("the body does not decode as its Content-Encoding %s: %v", enc, err)}
	case len(b) > max:
		return nil, &bodyError{tooLarge: true, text: fmt.Sprintf("message body exceeds the %d-byte limit once decoded (Content-Encoding %s)", max, enc)}
	}
	return b, nil
}
