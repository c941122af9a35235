package gateway

import (
	"fmt"
	"runtime/debug"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/ebxml"
)

// recoverPanics keeps a request whose handler panics from ending the
// process (fasthttp recovers nothing): one hostile or unforeseen message
// must not stop the gateway for every sender. The panic is logged with its
// stack and the request answered as a system failure the sender retries:
// on the front doors a SOAP fault with TMS code 200 and NumInternalFailure
// (as when the store is unavailable, which the NHS MHS adaptor retries),
// elsewhere a 500. A retry is safe whenever the panic came: a message
// stored before it is acknowledged again as a duplicate and processed
// once. It runs inside the metrics middleware, so the answer is counted.
func (s *Server) recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		s.log.Error("request handler panicked: answered as a system failure the sender retries",
			"method", c.Method(), "path", c.Path(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		c.Response().ResetBody()
		err = s.panicAnswer(c)
	}()
	return c.Next()
}

// panicAnswer answers a request whose handler panicked.
func (s *Server) panicAnswer(c *fiber.Ctx) error {
	var t Transport
	switch c.Path() {
	case PathEbXML:
		t = TransportEbXML
	case PathSOAP:
		t = TransportSOAP
	default:
		return c.Status(fiber.StatusInternalServerError).JSON(fiber.Map{"error": "internal error; see the gateway's log"})
	}
	s.msg.received(c, t, "failed")
	return sendFault(c, fault(ebxml.TMSCodeSystemFailure,
		fmt.Sprintf("%d:the gateway failed while taking the message; send it again", NumInternalFailure)))
}
