package gateway

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
)

// The legacy EPS Tracker REST API, answered from the EPS tracker (GET
// /Task) in Spine's JSON. Spine answers refusals with HTTP 200 and a
// non-zero statusCode; porxgate does the same for what the caller got
// wrong, and answers 5xx (with the same JSON, statusCode 5) only when EPS
// cannot be asked or gives an answer porxgate cannot read.

// Paths of the legacy tracker.
const (
	// PathTrackerSearch searches a patient's prescriptions:
	// ?nhsNumber=&format=trace-summary[&earliestDate=&latestDate=
	// &prescriptionStatus=&prescriptionVersion=&version=].
	PathTrackerSearch = "/mm/prescriptions"
	// PathTrackerRetrieve retrieves one prescription:
	// /mm/prescriptions/{prescriptionId}?format=trace[&issueNumber=&version=].
	PathTrackerRetrieve = "/mm/prescriptions/:prescriptionId"
	// PathTrackerItemSummary is the NHS111 search (?nhsNumber=, no format),
	// whose JSON the tracker answers share.
	PathTrackerItemSummary = "/mm/nhs111itemsummary"
	// PathTrackerItemDetails is the NHS111 retrieve (?prescriptionId=
	// [&issueNumber=], no format).
	PathTrackerItemDetails = "/mm/nhs111itemdetails"
)

// trackerTimeout bounds one tracker request's call to EPS (retries
// included).
const trackerTimeout = 30 * time.Second

// trackerUpstream is the EPS tracker search the legacy tracker asks
// (upstream.Client, hence EPSClient, has it).
type trackerUpstream interface {
	TrackerGet(ctx context.Context, query url.Values) (*upstream.Response, error)
}

// registerTrackerAPI adds the legacy tracker's routes.
func (s *Server) registerTrackerAPI() {
	s.app.Get(PathTrackerSearch, s.trackerSearch(mapping.TrackerFormatSearch))
	s.app.Get(PathTrackerRetrieve, s.trackerRetrieve(mapping.TrackerFormatRetrieve))
	s.app.Get(PathTrackerItemSummary, s.trackerSearch(""))
	s.app.Get(PathTrackerItemDetails, s.trackerRetrieve(""))
}

// trackerSearch answers a search; wantFormat is the format value the path
// requires ("" for none).
func (s *Server) trackerSearch(wantFormat string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		q, err := url.ParseQuery(string(c.Request().URI().QueryString()))
		if err != nil {
			return s.trackerAnswer(c, fiber.StatusOK, trackerQueryRefusal(mapping.TrackerSummary, err))
		}
		search, err := mapping.ParseTrackerSearch(q, wantFormat)
		if err != nil {
			return s.trackerAnswer(c, fiber.StatusOK, trackerRefusal(mapping.TrackerSummary, err))
		}
		resp, status := s.askTracker(c, mapping.TrackerSummary, search.FHIRQuery())
		return s.trackerAnswer(c, status, resp.ForSearch(search, s.msg.now()))
	}
}

// trackerRetrieve answers a retrieve, the prescription id from the path or
// (NHS111) the query.
func (s *Server) trackerRetrieve(wantFormat string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		q, err := url.ParseQuery(string(c.Request().URI().QueryString()))
		if err != nil {
			return s.trackerAnswer(c, fiber.StatusOK, trackerQueryRefusal(mapping.TrackerDetail, err))
		}
		id, err := url.PathUnescape(c.Params("prescriptionId"))
		if err != nil {
			return s.trackerAnswer(c, fiber.StatusOK, trackerQueryRefusal(mapping.TrackerDetail, err))
		}
		retrieve, err := mapping.ParseTrackerRetrieve(id, q, wantFormat)
		if err != nil {
			return s.trackerAnswer(c, fiber.StatusOK, trackerRefusal(mapping.TrackerDetail, err))
		}
		resp, status := s.askTracker(c, mapping.TrackerDetail, retrieve.FHIRQuery())
		return s.trackerAnswer(c, status, resp.ForRetrieve(retrieve))
	}
}

// askTracker calls the EPS tracker and reads its answer as a kind answer,
// with the HTTP status to give the caller: 200 for an answer (a refusal by
// EPS included), 502/503/504 when EPS could not be asked or its answer not
// read.
func (s *Server) askTracker(c *fiber.Ctx, kind mapping.TrackerKind, q url.Values) (*mapping.TrackerResponse, int) {
	api, ok := s.upstream.(trackerUpstream)
	if !ok || s.upstream == nil {
		return trackerUnexpected(kind, "no EPS FHIR upstream is configured"), fiber.StatusServiceUnavailable
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), trackerTimeout)
	defer cancel()
	if trace := c.Get("Eps-TraceId"); trace != "" {
		ctx = upstream.WithCorrelationID(ctx, trace)
	}
	start := time.Now()
	r, err := api.TrackerGet(ctx, q)
	if err != nil {
		status := fiber.StatusBadGateway
		switch {
		case upstream.IsBreakerOpen(err):
			status = fiber.StatusServiceUnavailable
		case errors.Is(err, context.DeadlineExceeded):
			status = fiber.StatusGatewayTimeout
		}
		s.log.Warn("tracker: EPS unavailable", "kind", kind.String(), "http_status", status, "err", err)
		return trackerUnexpected(kind, "the EPS FHIR API is unavailable"), status
	}
	log := s.log.With("kind", kind.String(), "eps_status", r.Status, "request_id", r.RequestID, "attempts", r.Attempts,
		"duration_ms", time.Since(start).Milliseconds())
	switch r.Status {
	case fiber.StatusOK, fiber.StatusBadRequest, fiber.StatusNotFound, fiber.StatusUnprocessableEntity:
	case fiber.StatusTooManyRequests:
		log.Warn("tracker: EPS refused the call")
		return trackerUnexpected(kind, "the EPS FHIR API is busy"), fiber.StatusServiceUnavailable
	default:
		log.Error("tracker: EPS refused the call")
		return trackerUnexpected(kind, "the EPS FHIR API refused the call"), fiber.StatusBadGateway
	}
	resp, err := mapping.TrackerFromFHIR(kind, r.Body)
	if err != nil {
		log.Error("tracker: unreadable EPS answer", "err", err)
		return trackerUnexpected(kind, "the EPS FHIR API's answer could not be read"), fiber.StatusBadGateway
	}
	if r.Status != fiber.StatusOK && resp.OK() {
		log.Error("tracker: EPS answered an error status with a result")
		return trackerUnexpected(kind, "the EPS FHIR API's answer could not be read"), fiber.StatusBadGateway
	}
	log.Info("tracker: answered", "status_code", resp.StatusCode, "prescriptions", len(resp.Prescriptions))
	return resp, fiber.StatusOK
}

// trackerAnswer writes a legacy tracker answer as JSON.
func (s *Server) trackerAnswer(c *fiber.Ctx, status int, resp *mapping.TrackerResponse) error {
	body, err := resp.MarshalJSON()
	if err != nil {
		return fiber.NewError(fiber.StatusInternalServerError, err.Error())
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Status(status).Send(body)
}

// trackerRefusal is the answer to a request the mapping refused.
func trackerRefusal(kind mapping.TrackerKind, err error) *mapping.TrackerResponse {
	var te *mapping.TrackerError
	if errors.As(err, &te) {
		return te.Response(kind)
	}
	return trackerUnexpected(kind, err.Error())
}

// trackerQueryRefusal is the answer to a query string that cannot be read.
func trackerQueryRefusal(kind mapping.TrackerKind, err error) *mapping.TrackerResponse {
	te := &mapping.TrackerError{StatusCode: mapping.TrackerStatusNoParameters, Reason: "Query parameters could not be read: " + err.Error()}
	return te.Response(kind)
}

// trackerUnexpected is Spine's "Unexpected exception" answer with what happened.
func trackerUnexpected(kind mapping.TrackerKind, what string) *mapping.TrackerResponse {
	te := &mapping.TrackerError{StatusCode: mapping.TrackerStatusUnexpected, Reason: mapping.TrackerReasonUnexpected + ": " + what}
	return te.Response(kind)
}
