package gateway

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping/tracker"
)

// The EPS Tracker REST API as Spine documents it (nhsconnect/spine-eps-tracker):
// /mm/prescriptions search and retrieve in the documented JSON
// (prescriptionList, prescription), and the NHS111 paths in theirs, all
// answered from the EPS tracker (GET /Task). Spine answers refusals with
// HTTP 200 and a non-zero statusCode; porxgate does the same for what the
// caller got wrong, answers 403 (statusCode 52) to an ASID it does not
// allow, and answers 5xx (statusCode 4 or 5) only when EPS cannot be asked
// or gives an answer porxgate cannot read.

// Paths of the tracker API.
const (
	// PathTrackerSearch searches a patient's prescriptions:
	// ?nhsNumber=&format=trace-summary[&earliestDate=&latestDate=
	// &prescriptionStatus=&prescriptionVersion=&version=].
	PathTrackerSearch = "/mm/prescriptions"
	// PathTrackerRetrieve retrieves one prescription:
	// /mm/prescriptions/{prescriptionId}?format=trace[&issueNumber=&version=].
	PathTrackerRetrieve = "/mm/prescriptions/:prescriptionId"
	// PathTrackerItemSummary is the NHS111 search (?nhsNumber=, no format).
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

// registerTrackerAPI adds the tracker's routes. The first handler of each
// checks the caller (TrackerCallerOf holds it afterwards); a journal's
// middleware goes beside it.
func (s *Server) registerTrackerAPI() {
	access, err := ParseTrackerASIDs(s.cfg.TrackerASIDs)
	if err != nil {
		s.log.Error("tracker: the allowed ASIDs cannot be read; every caller is refused", "err", err)
		access = &TrackerASIDs{names: map[string][]string{}}
	} else if access == nil {
		s.log.Warn("tracker: no allowed ASIDs are configured (--tracker-asids); any well-formed ASID may call")
	}
	s.app.Get(PathTrackerSearch, s.trackerGate(trackerRouteSearch, access), s.traceSearch)
	s.app.Get(PathTrackerRetrieve, s.trackerGate(trackerRouteRetrieve, access), s.traceRetrieve)
	s.app.Get(PathTrackerItemSummary, s.trackerGate(trackerRouteNHS111Summary, access), s.trackerSearch(""))
	s.app.Get(PathTrackerItemDetails, s.trackerGate(trackerRouteNHS111Detail, access), s.trackerRetrieve(""))
}

// trackerRoute says which answer shape a tracker route gives.
type trackerRoute struct {
	kind   tracker.TrackerKind
	nhs111 bool
}

var (
	trackerRouteSearch        = trackerRoute{kind: tracker.TrackerSummary}
	trackerRouteRetrieve      = trackerRoute{kind: tracker.TrackerDetail}
	trackerRouteNHS111Summary = trackerRoute{kind: tracker.TrackerSummary, nhs111: true}
	trackerRouteNHS111Detail  = trackerRoute{kind: tracker.TrackerDetail, nhs111: true}
)

// trackerGate checks the caller's headers and ASID before the request goes
// further, and stores the caller for the handlers after it.
func (s *Server) trackerGate(route trackerRoute, access *TrackerASIDs) fiber.Handler {
	return func(c *fiber.Ctx) error {
		caller := ReadTrackerCaller(c)
		c.Locals(trackerCallerKey, caller)
		defer s.startTracker(c, caller).End()
		if te := caller.check(route.nhs111); te != nil {
			return s.trackerRefuse(c, route, fiber.StatusOK, te)
		}
		if err := access.Allow(caller.ASID, c.Context().TLSConnectionState()); err != nil {
			s.log.Warn("tracker: caller refused", "asid", caller.ASID, "route", c.Route().Path, "err", err)
			return s.trackerRefuse(c, route, fiber.StatusForbidden,
				&tracker.TrackerError{StatusCode: tracker.TrackerStatusBadASID, Reason: tracker.TrackerReasonBadASID + ": " + err.Error()})
		}
		caller.Allowed = true
		c.Locals(trackerCallerKey, caller)
		return c.Next()
	}
}

// trackerRefuse answers a refusal in the route's shape.
func (s *Server) trackerRefuse(c *fiber.Ctx, route trackerRoute, status int, te *tracker.TrackerError) error {
	if route.nhs111 {
		return s.trackerAnswer(c, status, te.Response(route.kind))
	}
	return s.traceAnswer(c, status, tracker.TraceError(route.kind, te))
}

// traceSearch answers GET /mm/prescriptions?format=trace-summary.
func (s *Server) traceSearch(c *fiber.Ctx) error {
	q, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return s.trackerRefuse(c, trackerRouteSearch, fiber.StatusOK, trackerQueryError(err))
	}
	search, err := tracker.ParseTrackerSearch(q, tracker.TrackerFormatSearch)
	if err != nil {
		return s.trackerRefuse(c, trackerRouteSearch, fiber.StatusOK, trackerErrorOf(err))
	}
	now := s.msg.now()
	// One deadline for the search and the calls by id after it.
	ctx, cancel := context.WithTimeout(c.UserContext(), trackerTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	resp, status := s.askTracker(c, tracker.TrackerDetail, search.FHIRQuery())
	if status == fiber.StatusOK {
		// The EPS API's patient search gives no line item statuses nor
		// dates; its answer by id does (tracker.TraceSearchDetailIDs).
		details := s.askTrackerByID(trackerCallContext(c), tracker.TraceSearchDetailIDs(resp, search, now))
		for _, d := range details {
			if d.status != fiber.StatusOK {
				return s.traceAnswer(c, d.status, tracker.TraceSearch(d.resp, search, now))
			}
			tracker.MergeTraceDetail(resp, d.resp)
		}
	}
	return s.traceAnswer(c, status, tracker.TraceSearch(resp, search, now))
}

// trackerByIDConcurrency bounds the EPS calls by id one search makes at once.
const trackerByIDConcurrency = 4

// trackerReply is one EPS tracker answer and the HTTP status askTracker
// gave it.
type trackerReply struct {
	resp   *tracker.TrackerResponse
	status int
}

// askTrackerByID asks the EPS tracker for each prescription id (a detail,
// by focus:identifier), up to trackerByIDConcurrency at once, and returns
// the answers in the ids' order.
func (s *Server) askTrackerByID(ctx context.Context, ids []string) []trackerReply {
	out := make([]trackerReply, len(ids))
	sem := make(chan struct{}, trackerByIDConcurrency)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			resp, status := s.askTrackerCtx(ctx, tracker.TrackerDetail, tracker.TrackerRetrieve{PrescriptionID: id}.FHIRQuery())
			out[i] = trackerReply{resp: resp, status: status}
		}()
	}
	wg.Wait()
	return out
}

// traceRetrieve answers GET /mm/prescriptions/{id}?format=trace.
func (s *Server) traceRetrieve(c *fiber.Ctx) error {
	q, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return s.trackerRefuse(c, trackerRouteRetrieve, fiber.StatusOK, trackerQueryError(err))
	}
	id, err := url.PathUnescape(c.Params("prescriptionId"))
	if err != nil {
		return s.trackerRefuse(c, trackerRouteRetrieve, fiber.StatusOK, trackerPathIDError(err))
	}
	retrieve, err := tracker.ParseTrackerRetrieve(id, q, tracker.TrackerFormatRetrieve)
	if err != nil {
		return s.trackerRefuse(c, trackerRouteRetrieve, fiber.StatusOK, trackerErrorOf(err))
	}
	resp, status := s.askTracker(c, tracker.TrackerDetail, retrieve.FHIRQuery())
	return s.traceAnswer(c, status, tracker.TraceRetrieve(resp, retrieve))
}

// trackerSearch answers an NHS111 search; wantFormat is the format value
// the path requires ("" for none).
func (s *Server) trackerSearch(wantFormat string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		q, err := url.ParseQuery(string(c.Request().URI().QueryString()))
		if err != nil {
			return s.trackerAnswer(c, fiber.StatusOK, trackerQueryError(err).Response(tracker.TrackerSummary))
		}
		search, err := tracker.ParseTrackerSearch(q, wantFormat)
		if err != nil {
			return s.trackerAnswer(c, fiber.StatusOK, trackerErrorOf(err).Response(tracker.TrackerSummary))
		}
		resp, status := s.askTracker(c, tracker.TrackerSummary, search.FHIRQuery())
		return s.trackerAnswer(c, status, resp.ForSearch(search, s.msg.now()))
	}
}

// trackerRetrieve answers an NHS111 retrieve, the prescription id from the
// path or the query.
func (s *Server) trackerRetrieve(wantFormat string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		q, err := url.ParseQuery(string(c.Request().URI().QueryString()))
		if err != nil {
			return s.trackerAnswer(c, fiber.StatusOK, trackerQueryError(err).Response(tracker.TrackerDetail))
		}
		id, err := url.PathUnescape(c.Params("prescriptionId"))
		if err != nil {
			return s.trackerAnswer(c, fiber.StatusOK, trackerPathIDError(err).Response(tracker.TrackerDetail))
		}
		retrieve, err := tracker.ParseTrackerRetrieve(id, q, wantFormat)
		if err != nil {
			return s.trackerAnswer(c, fiber.StatusOK, trackerErrorOf(err).Response(tracker.TrackerDetail))
		}
		resp, status := s.askTracker(c, tracker.TrackerDetail, retrieve.FHIRQuery())
		return s.trackerAnswer(c, status, resp.ForRetrieve(retrieve))
	}
}

// askTracker calls the EPS tracker and reads its answer as a kind answer,
// with the HTTP status to give the caller: 200 for an answer (a refusal by
// EPS included), 502/503/504 when EPS could not be asked or its answer not
// read.
func (s *Server) askTracker(c *fiber.Ctx, kind tracker.TrackerKind, q url.Values) (*tracker.TrackerResponse, int) {
	return s.askTrackerCtx(trackerCallContext(c), kind, q)
}

// trackerCallContext is the context of a tracker request's EPS calls: the
// request's, with the caller's trace id as the correlation id.
func trackerCallContext(c *fiber.Ctx) context.Context {
	ctx := c.UserContext()
	if caller, ok := TrackerCallerOf(c); ok && caller.TraceID != "" {
		ctx = upstream.WithCorrelationID(ctx, caller.TraceID)
	}
	return ctx
}

// askTrackerCtx is askTracker under ctx (trackerCallContext), safe to call
// from several goroutines of one request.
func (s *Server) askTrackerCtx(ctx context.Context, kind tracker.TrackerKind, q url.Values) (*tracker.TrackerResponse, int) {
	api, ok := s.upstream.(trackerUpstream)
	if !ok || s.upstream == nil {
		return trackerUnexpected(kind, "no EPS FHIR upstream is configured"), fiber.StatusServiceUnavailable
	}
	ctx, cancel := context.WithTimeout(ctx, trackerTimeout)
	defer cancel()
	start := time.Now()
	r, err := api.TrackerGet(ctx, q)
	if err != nil {
		status, reason := fiber.StatusBadGateway, "the EPS FHIR API is unavailable"
		var re *upstream.RetryError
		switch {
		case upstream.IsBreakerOpen(err):
			status = fiber.StatusServiceUnavailable
		case errors.Is(err, upstream.ErrTrackerPaging):
			// Paged beyond what is followed: refuse rather than list part.
			s.log.Error("tracker: EPS answer not read whole", "kind", kind.String(), "err", err)
			return trackerUnparseable(kind, "the EPS FHIR API's answer could not be read whole"), fiber.StatusBadGateway
		case errors.As(err, &re) && re.Last != nil && re.Last.Status == fiber.StatusTooManyRequests,
			errors.Is(err, upstream.ErrThrottled):
			// EPS busy: the client retried its 429s, or held the call
			// back within a Retry-After EPS gave.
			status, reason = fiber.StatusServiceUnavailable, "the EPS FHIR API is busy"
		case errors.Is(err, context.DeadlineExceeded):
			status = fiber.StatusGatewayTimeout
		}
		s.log.Warn("tracker: EPS unavailable", "kind", kind.String(), "eps_unavailable_status", status, "err", err)
		return trackerUnexpected(kind, reason), status
	}
	log := s.log.With("kind", kind.String(), "eps_http_status", r.Status, "request_id", r.RequestID, "attempts", r.Attempts,
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
	resp, err := tracker.TrackerFromFHIR(kind, r.Body)
	if err != nil {
		log.Error("tracker: unreadable EPS answer", "err", err)
		return trackerUnparseable(kind, "the EPS FHIR API's answer could not be read"), fiber.StatusBadGateway
	}
	if r.Status != fiber.StatusOK && resp.OK() {
		log.Error("tracker: EPS answered an error status with a result")
		return trackerUnexpected(kind, "the EPS FHIR API's answer could not be read"), fiber.StatusBadGateway
	}
	log.Debug("tracker: EPS answered", "eps_status_code", resp.StatusCode, "prescriptions", len(resp.Prescriptions))
	return resp, fiber.StatusOK
}

// trackerAnswer writes an NHS111 answer as JSON.
func (s *Server) trackerAnswer(c *fiber.Ctx, status int, resp *tracker.TrackerResponse) error {
	body, err := resp.MarshalJSON()
	if err != nil {
		return fiber.NewError(fiber.StatusInternalServerError, err.Error())
	}
	s.logTrackerAnswer(c, status, resp.StatusCode, len(resp.Prescriptions))
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Status(status).Send(body)
}

// traceAnswer writes a documented tracker answer as JSON.
func (s *Server) traceAnswer(c *fiber.Ctx, status int, a *tracker.TraceAnswer) error {
	body, err := a.MarshalJSON()
	if err != nil {
		return fiber.NewError(fiber.StatusInternalServerError, err.Error())
	}
	s.logTrackerAnswer(c, status, a.StatusCode, len(a.Prescriptions))
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Status(status).Send(body)
}

// trackerErrorOf is the refusal of a request the mapping refused.
func trackerErrorOf(err error) *tracker.TrackerError {
	var te *tracker.TrackerError
	if errors.As(err, &te) {
		return te
	}
	return &tracker.TrackerError{StatusCode: tracker.TrackerStatusUnexpected, Reason: tracker.TrackerReasonUnexpected + ": " + err.Error()}
}

// trackerQueryError is the refusal of a query string that cannot be read.
func trackerQueryError(err error) *tracker.TrackerError {
	return &tracker.TrackerError{StatusCode: tracker.TrackerStatusNoParameters, Reason: tracker.TrackerReasonNoParameters + ": the query string cannot be read: " + err.Error()}
}

// trackerPathIDError is the refusal of a prescription id in the path that
// is not a well-formed URL path segment (a broken percent escape).
func trackerPathIDError(err error) *tracker.TrackerError {
	return &tracker.TrackerError{StatusCode: tracker.TrackerStatusBadPrescriptionID, Reason: tracker.TrackerReasonBadPrescriptionID + ": the prescription id in the path cannot be read: " + err.Error()}
}

// trackerUnexpected is Spine's "Unexpected exception" answer with what happened.
func trackerUnexpected(kind tracker.TrackerKind, what string) *tracker.TrackerResponse {
	te := &tracker.TrackerError{StatusCode: tracker.TrackerStatusUnexpected, Reason: tracker.TrackerReasonUnexpected + ": " + what}
	return te.Response(kind)
}

// trackerUnparseable is Spine's "Failed to parse prescription" answer with
// what happened.
func trackerUnparseable(kind tracker.TrackerKind, what string) *tracker.TrackerResponse {
	te := &tracker.TrackerError{StatusCode: tracker.TrackerStatusUnparseable, Reason: tracker.TrackerReasonUnparseable + ": " + what}
	return te.Response(kind)
}

// logTrackerAnswer writes the one info line of a Tracker API request, with
// the statusCode the caller is given (0, or the error code: 1, 6, 52...),
// the HTTP status, how many prescriptions it carries and how long it took.
// The query (NHS numbers, prescription ids) is not logged.
func (s *Server) logTrackerAnswer(c *fiber.Ctx, httpStatus int, statusCode string, prescriptions int) {
	trackerAnswered(c, httpStatus, statusCode)
	caller, _ := TrackerCallerOf(c)
	s.log.Info("tracker: answered", "component", "tracker", "route", c.Route().Path, "asid", caller.ASID,
		"trace_id", caller.TraceID, "status_code", statusCode, "http_status", httpStatus,
		"prescriptions", prescriptions, "duration_ms", time.Since(c.Context().Time()).Milliseconds())
}
