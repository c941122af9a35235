package outbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/porxgate/porxgate/ebxml"
)

// maxResponseBytes bounds how much of a receiver's answer is read.
const maxResponseBytes = 1 << 20

// attemptError is a failed delivery attempt; final when retrying cannot help.
type attemptError struct {
	final bool
	msg   string
}

func (e *attemptError) Error() string { return e.msg }

// retryable and final build attempt errors.
func retryable(format string, args ...any) error {
	return &attemptError{msg: fmt.Sprintf(format, args...)}
}

func final(format string, args ...any) error {
	return &attemptError{final: true, msg: fmt.Sprintf(format, args...)}
}

// isFinal reports whether err is an attempt error retrying cannot help.
func isFinal(err error) bool {
	var ae *attemptError
	return errors.As(err, &ae) && ae.final
}

// send POSTs d to url once and says whether the receiver took it, reading
// the receiver's answer into a tree with read (nil: etree's own reader). The
// client must not follow redirects (NewWorker's does not): a redirect is
// a failed attempt.
func send(ctx context.Context, client *http.Client, read ebxml.XMLReader, url string, d Delivery) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.Body))
	if err != nil {
		return final("request to %s: %v", url, err)
	}
	req.Header.Set("Content-Type", d.ContentType)
	req.Header.Set("SOAPAction", `"`+d.SOAPAction+`"`)
	resp, err := client.Do(req)
	if err != nil {
		return retryable("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return retryable("HTTP %d redirect to %q: not followed (the route's url must be the MHS endpoint itself)",
			resp.StatusCode, resp.Header.Get("Location"))
	}
	ct := resp.Header.Get("Content-Type")
	if takenOnStatus(resp.StatusCode, d) {
		// Taken, unless the body, read whole, is an eb:ErrorList refusing
		// the message; a body cut short or longer than a signal (drainBytes)
		// cannot say otherwise. Read no more than that, so that the
		// connection may be used again.
		body, err := io.ReadAll(io.LimitReader(resp.Body, drainBytes))
		if err != nil || len(body) == drainBytes {
			return nil
		}
		return judge(resp.StatusCode, envelopeOf(read, ct, body), d, read)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return retryable("reading the answer of %s: %v", url, err)
	}
	return judge(resp.StatusCode, envelopeOf(read, ct, body), d, read)
}

// envelopeOf returns the SOAP envelope of a receiver's answer: for a
// multipart/related answer (ebMS 2.0 packaging), its header part, found as
// the front door finds a request's (a preamble, the start parameter, the
// parameters quoted or not); for any other, or a multipart body that cannot
// be read so, the body itself.
func envelopeOf(read ebxml.XMLReader, contentType string, body []byte) []byte {
	mt, _, _ := strings.Cut(contentType, ";")
	if !strings.EqualFold(strings.TrimSpace(mt), "multipart/related") {
		return body
	}
	if m, _ := ebxml.ParseRequestWith(read, contentType, "", body); m != nil && len(m.Envelope) > 0 {
		return m.Envelope
	}
	return body
}

// drainBytes is how much of the body of an answer that took the message is
// read before the connection is given back.
const drainBytes = 64 << 10

// takenOnStatus reports whether the status alone says the receiver took
// d: HTTP 202, or any 2xx for what is not an answer (an acknowledgment, a
// message error).
func takenOnStatus(status int, d Delivery) bool {
	return status >= 200 && status < 300 && (d.Kind != KindAnswer || status == http.StatusAccepted)
}

// judge decides from the receiver's HTTP answer whether d was taken. An
// answer is taken when acknowledged: HTTP 202, or any 2xx whose body is an
// eb:Acknowledgment of d's MessageId. Acknowledgments and message errors
// are taken on any 2xx. Whatever the status, a body that is an
// eb:ErrorList refusing d is not taken: final unless every error is
// DeliveryFailure or Unknown (the receiver may succeed later). A SOAP
// fault that did not take d is final or not as judgeFault says. The body is
// read into a tree with read (nil: etree's own reader).
func judge(status int, body []byte, d Delivery, read ebxml.XMLReader) error {
	ok := status >= 200 && status < 300
	taken := takenOnStatus(status, d)
	if len(bytes.TrimSpace(body)) == 0 {
		switch {
		case taken:
			return nil
		case ok:
			return retryable("HTTP %d with an empty body: not acknowledged", status)
		}
		return retryable("HTTP %d", status)
	}
	if taken && !bytes.Contains(body, errorListName) {
		// Taken on its status, and nothing but an eb:ErrorList could
		// refuse it, which a body without the name cannot hold (an XML
		// name is written out: no reference spells it). Most receivers'
		// answers end here without being read into a tree, about 2 % of
		// the gateway's CPU a message before.
		return nil
	}
	sig, err := ebxml.ParseSignalWith(read, body)
	ref := sig.RefToMessageID
	var el *ebxml.ErrorListError
	switch {
	case errors.As(err, &el):
		return judgeErrorList(status, el, d, taken)
	case taken:
		return nil
	}
	if err != nil {
		if f, isFault := ebxml.ParseSOAPFaultWith(read, body); isFault {
			return judgeFault(status, f)
		}
	}
	switch {
	case err != nil && ok:
		return retryable("HTTP %d without an eb:Acknowledgment: %v", status, err)
	case err != nil:
		return retryable("HTTP %d", status)
	case !ok:
		return retryable("HTTP %d with an eb:Acknowledgment", status)
	case !strings.EqualFold(ref, d.MessageID):
		return retryable("HTTP %d: eb:Acknowledgment refers to %s, not %s", status, ref, d.MessageID)
	}
	return nil
}

// errorListName is the local name of eb:ErrorList.
var errorListName = []byte("ErrorList")

// judgeFault decides what a receiver's SOAP fault says of a message it
// did not take: final when the message itself is wrong (a Client fault,
// SOAP 1.1 §4.4.1) or when its nasp:errorList holds a code that senders
// do not retry (any but 200, 206 and 208: ebxml.IsRetryableFaultCode, as
// the NHS MHS adaptor's asynchronous reliable workflow decides); else
// (a Server fault without codes, or with retryable codes only) retryable.
func judgeFault(status int, f *ebxml.SOAPFault) error {
	if f.IsClient() || (len(f.Errors) > 0 && !f.Retryable()) {
		return final("HTTP %d: refused: %v (faultcode %s)", status, f, f.FaultCode)
	}
	return retryable("HTTP %d: %v (faultcode %s)", status, f, f.FaultCode)
}

// judgeErrorList decides what a receiver's eb:ErrorList answer says of d,
// whose status alone took it or not (taken). An ErrorList about another
// message (its RefToMessageId names another) says nothing of d. Errors of
// severity Warning did not stop the receiver's processing (ebMS 2.0
// §4.2.3.4) and refuse nothing: with them alone (or none), d is taken as
// its status says, and else still waits for its acknowledgment. An error of severity
// Error (the default) refuses d: finally, unless every such error is one
// that may clear up.
func judgeErrorList(status int, el *ebxml.ErrorListError, d Delivery, taken bool) error {
	ref := el.RefToMessageID
	switch {
	case ref != "" && !strings.EqualFold(ref, d.MessageID) && taken:
		return nil
	case ref != "" && !strings.EqualFold(ref, d.MessageID):
		return retryable("HTTP %d: eb:ErrorList refers to %s, not %s: not acknowledged", status, ref, d.MessageID)
	}
	errs := el.Refusing()
	switch {
	case len(errs) == 0 && taken:
		return nil
	case len(errs) == 0:
		return retryable("HTTP %d: no error of severity Error (warnings only), not acknowledged: %v", status, el)
	case retryableErrors(errs):
		return retryable("HTTP %d: %v", status, el)
	}
	return final("HTTP %d: refused: %v", status, el)
}

// retryableErrors reports whether every error of a remote eb:ErrorList
// is one that may clear up.
func retryableErrors(errs []*ebxml.MessageError) bool {
	for _, e := range errs {
		if !e.MayClearUp() {
			return false
		}
	}
	return true
}
