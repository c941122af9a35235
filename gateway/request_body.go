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
	}
	return ebxml.NewMessageError(ebxml.CodeMimeProblem, NumContentEncoding, e.text)
}

// fault is e as the SOAP door's final fault (300), its number first.
func (e *bodyError) fault() *ebxml.SOAPFault {
	num := NumContentEncoding
	if e.tooLarge {
		num = NumBodyTooLarge
	}
	return fault(ebxml.TMSCodeMalformed, fmt.Sprintf("%d:%s", num, e.text))
}

// frontBody returns the body of a front-door request as the door reads
// it: decodeBody of the bytes received under the request's
// Content-Encoding, within --max-body. It never lets Fiber decode
// (c.Body): Fiber decodes without any bound — a few kilobytes of gzip can
// hold gigabytes — and hands a decoder's error text back as if it were
// the body.
func frontBody(c *fiber.Ctx, max int) ([]byte, *bodyError) {
	return decodeBody(c.Get(fiber.HeaderContentEncoding), c.Request().Body(), max)
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
