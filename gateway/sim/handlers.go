package sim

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/porxgate/porxgate/fhir"
)

// The FHIR face: decode, call the State, encode. No state logic here.

func (s *Server) processMessage(r *http.Request, body []byte, now time.Time) reply {
	m, err := decodeMessage(body)
	if err != nil {
		return fhirReply(http.StatusBadRequest, invalidOutcome(now, err.Error()))
	}
	if issues := messageRefusal(m); len(issues) > 0 {
		return fhirReply(refusalStatus(issues), fhirAnswer(outcome(now, issues...)))
	}
	switch m.event {
	case fhir.EventPrescriptionOrder:
		np, err := decodePrescriptionOrder(m, body)
		if err != nil {
			return fhirReply(http.StatusBadRequest, invalidOutcome(now, err.Error()))
		}
		np.TaskID = s.opts.NewID()
		if err := s.state.AddPrescription(np.owned(), now); err != nil {
			return s.refusal(err, now)
		}
		return fhirReply(http.StatusOK, successOutcome(now))
	case fhir.EventPrescriptionOrderUpdate:
		return s.cancel(r, m, now)
	case fhir.EventDispenseNotification:
		req, err := decodeDispense(m)
		if err != nil {
			return fhirReply(http.StatusBadRequest, invalidOutcome(now, err.Error()))
		}
		if err := s.state.Dispense(req.owned(), now); err != nil {
			return s.refusal(err, now)
		}
		return fhirReply(http.StatusOK, successOutcome(now))
	}
	return fhirReply(http.StatusBadRequest, invalidOutcome(now, "unsupported MessageHeader.eventCoding "+m.event))
}

// decodeRefusal answers a request that did not decode: with the EPS
// API's own issues for a *validationRefusal (HTTP 400, or 500 for its
// failure, refusalStatus), else an INVALID_VALUE issue (HTTP 400).
func decodeRefusal(err error, now time.Time) reply {
	if vr := (*validationRefusal)(nil); errors.As(err, &vr) {
		return fhirReply(refusalStatus(vr.issues), fhirAnswer(outcome(now, vr.issues...)))
	}
	return fhirReply(http.StatusBadRequest, invalidOutcome(now, err.Error()))
}

// refusal answers a State refusal as EPS does (stateErrorAnswer), noting
// one for a prescription the cap forgot.
func (s *Server) refusal(err error, now time.Time) reply {
	var se *StateError
	if errors.As(err, &se) && se.Forgotten {
		s.noteForgotten(se)
	}
	return fhirReply(stateErrorAnswer(err, now))
}

// noteForgotten logs and counts a request answered for a prescription
// the cap forgot: the simulator's answer, not EPS's.
func (s *Server) noteForgotten(se *StateError) {
	s.count(func(st *Stats) { st.ForgottenRequests++ })
	s.log.Warn("sim: request for a prescription its cap forgot; EPS would still hold it",
		"prescription_id", se.ShortFormID, "detail", se.Detail)
}

// cancel answers a prescription-order-update: a Bundle (200 when every item
// was cancelled, else 400 as Spine's AE), or an OperationOutcome for
// R-0008, R-5000 and R-5888; what the EPS API's own checks refuse, or its
// translation cannot write, is answered before (messageRefusal).
func (s *Server) cancel(r *http.Request, m *message, now time.Time) reply {
	req, err := decodeCancel(m)
	if err != nil {
		return fhirReply(http.StatusBadRequest, cancelRefusal(CancelInvalidMessage, "", now))
	}
	outcomes, err := s.state.Cancel(req.owned(), now)
	if err != nil {
		var se *StateError
		if errors.As(err, &se) {
			switch se.Reason {
			case ReasonNotFound, ReasonItemNotFound:
				diagnostics := ""
				if se.Forgotten {
					s.noteForgotten(se)
					diagnostics = se.Error()
				}
				return fhirReply(http.StatusBadRequest, cancelRefusal(CancelNotFound, diagnostics, now))
			case ReasonPatientMismatch:
				return fhirReply(http.StatusBadRequest, cancelRefusal(CancelPatientMismatch, "", now))
			}
		}
		return s.refusal(err, now)
	}
	var held *Prescription
	if p, ok := s.state.Get(req.ShortFormID); ok && p.Dispenser != "" {
		held = &p
	}
	body, err := cancelResponse(m, outcomes, held, now, s.opts.NewID, s.endpoint(r, "/$process-message"))
	if err != nil {
		return fhirReply(http.StatusBadRequest, cancelRefusal(CancelInvalidMessage, "", now))
	}
	status := http.StatusOK
	for _, o := range outcomes {
		if o.Code != CancelDone {
			status = http.StatusBadRequest
		}
	}
	return fhirReply(status, body)
}

func (s *Server) prepare(r *http.Request, body []byte, now time.Time) reply {
	if s.opts.Digest == nil {
		return fhirReply(http.StatusNotImplemented, plainOutcome(now, "not-supported", "$prepare digest is not implemented in the simulator yet"))
	}
	res, err := s.opts.Digest(r.Context(), body, now)
	if err != nil {
		return fhirReply(http.StatusBadRequest, invalidOutcome(now, err.Error()))
	}
	if res.Timestamp == "" {
		res.Timestamp = fhirTime(now)
	}
	return fhirReply(http.StatusOK, prepareParameters(res))
}

func (s *Server) release(r *http.Request, body []byte, now time.Time) reply {
	req, err := decodeRelease(body)
	if err != nil {
		return decodeRefusal(err, now)
	}
	released, err := s.state.Release(req.owned(), now)
	if err != nil {
		return s.refusal(err, now)
	}
	if len(released) == 0 && req.ShortFormID == "" {
		return fhirReply(http.StatusOK, noMorePrescriptions(now))
	}
	return fhirReply(http.StatusOK, releaseResponse(released, now, s.opts.NewID, s.endpoint(r, "/Task/$release")))
}

func (s *Server) task(_ *http.Request, body []byte, now time.Time) reply {
	act, err := decodeTask(body)
	if err != nil {
		return decodeRefusal(err, now)
	}
	if act.withdraw {
		err = s.state.Withdraw(act.wd.owned(), now)
	} else {
		err = s.state.Return(act.ret.owned(), now)
	}
	if err != nil {
		return s.refusal(err, now)
	}
	return fhirReply(http.StatusOK, successOutcome(now))
}

func (s *Server) claim(_ *http.Request, body []byte, now time.Time) reply {
	req, err := decodeClaim(body)
	if err != nil {
		return decodeRefusal(err, now)
	}
	if err := s.state.Claim(req.owned(), now); err != nil {
		return s.refusal(err, now)
	}
	return fhirReply(http.StatusOK, successOutcome(now))
}

const trackerParamsMsg = "Query parameter must be one of: identifier, focus:identifier, patient:identifier, business-status, authored-on."

func (s *Server) tracker(r *http.Request, _ []byte, now time.Time) reply {
	v := r.URL.Query()
	offset, err := trackerOffset(v, s.opts.TrackerPageSize)
	if err != nil {
		return fhirReply(http.StatusBadRequest, plainOutcome(now, "invalid", err.Error()))
	}
	q, err := trackerQuery(v)
	if err != nil {
		return fhirReply(http.StatusBadRequest, plainOutcome(now, "invalid", err.Error()))
	}
	matches := s.state.Search(q)
	if len(matches) == 0 && q.ShortFormID != "" {
		if _, held := s.state.Get(q.ShortFormID); !held {
			diagnostics := ""
			if se := s.state.forgottenRefusal(q.ShortFormID); se != nil {
				s.noteForgotten(se)
				diagnostics = se.Error()
			}
			return fhirReply(http.StatusOK, trackerNotFound(now, diagnostics))
		}
	}
	size := s.opts.TrackerPageSize
	if size <= 0 {
		return fhirReply(http.StatusOK, trackerBundle(matches, len(matches), "", "", now, s.opts.NewID))
	}
	start := min(offset, len(matches))
	end := min(start+size, len(matches))
	next := ""
	if end < len(matches) {
		next = s.pageURL(r, v, end)
	}
	return fhirReply(http.StatusOK, trackerBundle(matches[start:end], len(matches), s.pageURL(r, v, start), next, now, s.opts.NewID))
}

// trackerOffsetParam is the simulator's paging cursor on GET Task: the
// number of matches the earlier pages held. EPS defines none (it does not
// page), so it is refused when paging is off.
const trackerOffsetParam = "_offset"

// trackerOffset reads and removes the paging cursor from v.
func trackerOffset(v url.Values, pageSize int) (int, error) {
	raw, ok := v[trackerOffsetParam]
	if !ok {
		return 0, nil
	}
	delete(v, trackerOffsetParam)
	if pageSize <= 0 {
		return 0, errors.New(trackerParamsMsg)
	}
	n, err := strconv.Atoi(raw[len(raw)-1])
	if len(raw) != 1 || err != nil || n < 0 {
		return 0, fmt.Errorf("%s %q: want one whole number of matches to skip", trackerOffsetParam, strings.Join(raw, ","))
	}
	return n, nil
}

// pageURL is the absolute URL of the tracker page starting at offset, on
// the address the request reached the simulator at.
func (s *Server) pageURL(r *http.Request, v url.Values, offset int) string {
	q := url.Values{}
	for k, vs := range v {
		q[k] = vs
	}
	if offset > 0 {
		q.Set(trackerOffsetParam, strconv.Itoa(offset))
	}
	return s.endpoint(r, "/Task") + "?" + q.Encode()
}

// trackerQuery reads the EPS tracker's search parameters; values may be
// written system|value.
func trackerQuery(v url.Values) (Query, error) {
	var q Query
	val := func(k string) string {
		raw := v.Get(k)
		if i := strings.LastIndexByte(raw, '|'); i >= 0 {
			raw = raw[i+1:]
		}
		return raw
	}
	for k := range v {
		switch k {
		case "identifier", "focus:identifier":
			q.ShortFormID = strings.ToUpper(val(k))
		case "patient:identifier":
			q.NHSNumber = val(k)
		case "business-status":
			q.Status = PrescriptionStatus(val(k))
		case "authored-on":
			for _, raw := range v[k] {
				if err := authoredOn(&q, raw); err != nil {
					return Query{}, err
				}
			}
		default:
			return Query{}, errors.New(trackerParamsMsg)
		}
	}
	if q.ShortFormID == "" && q.NHSNumber == "" {
		return Query{}, errors.New(trackerParamsMsg)
	}
	return q, nil
}

// authoredOn reads one authored-on bound: geYYYY-MM-DD (from that day) or
// leYYYY-MM-DD (to the end of that day); a bare date is that day.
func authoredOn(q *Query, raw string) error {
	prefix, day := "eq", raw
	if len(raw) > 2 && (raw[:2] == "ge" || raw[:2] == "le" || raw[:2] == "eq") {
		prefix, day = raw[:2], raw[2:]
	}
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return fmt.Errorf("authored-on %q: want [ge|le|eq]YYYY-MM-DD", raw)
	}
	switch prefix {
	case "ge":
		q.AuthoredFrom = t
	case "le":
		q.AuthoredTo = t.AddDate(0, 0, 1)
	default:
		q.AuthoredFrom, q.AuthoredTo = t, t.AddDate(0, 0, 1)
	}
	return nil
}

func (s *Server) metadata(_ *http.Request, _ []byte, _ time.Time) reply {
	return fhirReply(http.StatusOK, capabilityStatement())
}
