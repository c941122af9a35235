package gateway

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// startTracker starts the span of one Tracker API request: a server span
// "tracker <route>" continuing the caller's traceparent, with the caller's
// ASID. The request's user context carries it, so the EPS tracker calls
// are its children; the caller ends it when the request is answered. The
// query (NHS numbers, prescription ids) is not recorded.
func (s *Server) startTracker(c *fiber.Ctx, caller TrackerCaller) trace.Span {
	return startServerSpan(c, s.cfg.TracerProvider, "tracker "+c.Route().Path,
		attribute.String("http.route", c.Route().Path), attribute.String("porx.asid", caller.ASID))
}

// trackerAnswered records on the request's span the statusCode and HTTP
// status a Tracker API caller was given; a 5xx marks the span failed.
func trackerAnswered(c *fiber.Ctx, httpStatus int, statusCode string) {
	span := trace.SpanFromContext(c.UserContext())
	span.SetAttributes(attribute.String("porx.tracker_status_code", statusCode), attribute.Int("http.response.status_code", httpStatus))
	if httpStatus >= fiber.StatusInternalServerError {
		span.SetStatus(codes.Error, "tracker statusCode "+statusCode+", HTTP "+strconv.Itoa(httpStatus))
	}
}
