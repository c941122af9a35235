package gateway

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/internal/certfile"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/tracker"
)

// Who calls the EPS Tracker REST API: the Spine headers the documentation
// (nhsconnect/spine-eps-tracker, "Request Headers") has callers send, each
// checked for type and length, and the ASIDs allowed in.

// Request headers of the tracker API.
const (
	// HeaderSpineFromASID is the caller's ASID: mandatory, 12 digits.
	HeaderSpineFromASID = "Spine-From-Asid"
	// HeaderSpineUserID is the SDS user id: 12 digits (mandatory on the
	// NHS111 paths, optional on /mm/prescriptions).
	HeaderSpineUserID = "Spine-UserId"
	// HeaderSpineRoleProfileID is the SDS role profile id: 12 digits, as
	// HeaderSpineUserID.
	HeaderSpineRoleProfileID = "Spine-RoleProfileId"
	// HeaderEpsTraceID is the caller's trace id: optional, up to 30 letters,
	// digits and dashes.
	HeaderEpsTraceID = "Eps-TraceId"
)

// trackerCallerKey is the fiber.Ctx Locals key of the caller.
const trackerCallerKey = "porxgate.trackerCaller"

// TrackerCaller is who asks the tracker API, as the request headers say.
type TrackerCaller struct {
	ASID, UserID, RoleProfileID, TraceID string
	// Allowed is set once the headers passed their checks and the ASID was
	// let in.
	Allowed bool
}

// ReadTrackerCaller reads the caller's identity from the request headers,
// unchecked: what a journal records even for a refused request.
func ReadTrackerCaller(c *fiber.Ctx) TrackerCaller {
	return TrackerCaller{
		ASID:          strings.TrimSpace(c.Get(HeaderSpineFromASID)),
		UserID:        strings.TrimSpace(c.Get(HeaderSpineUserID)),
		RoleProfileID: strings.TrimSpace(c.Get(HeaderSpineRoleProfileID)),
		TraceID:       strings.TrimSpace(c.Get(HeaderEpsTraceID)),
	}
}

// TrackerCallerOf returns the caller the tracker routes' first handler
// stored; ok is false on other routes. Handlers after it (a journal, the
// answer) use it rather than reading the headers again.
func TrackerCallerOf(c *fiber.Ctx) (TrackerCaller, bool) {
	tc, ok := c.Locals(trackerCallerKey).(TrackerCaller)
	return tc, ok
}

// check checks the headers as the documentation says, in its order; the
// NHS111 paths also require the user and role profile ids.
func (tc TrackerCaller) check(nhs111 bool) *tracker.TrackerError {
	if !allDigits(tc.ASID, 12) {
		return trackerHeaderErr(tracker.TrackerStatusBadASID, tracker.TrackerReasonBadASID, HeaderSpineFromASID, tc.ASID, true)
	}
	if tc.TraceID != "" && !validTraceID(tc.TraceID) {
		return &tracker.TrackerError{StatusCode: tracker.TrackerStatusBadTraceID,
			Reason: fmt.Sprintf("%s: %s %q is not up to 30 letters, digits and dashes", tracker.TrackerReasonBadTraceID, HeaderEpsTraceID, tc.TraceID)}
	}
	if (nhs111 || tc.UserID != "") && !allDigits(tc.UserID, 12) {
		return trackerHeaderErr(tracker.TrackerStatusBadUserID, tracker.TrackerReasonBadUserID, HeaderSpineUserID, tc.UserID, nhs111)
	}
	if (nhs111 || tc.RoleProfileID != "") && !allDigits(tc.RoleProfileID, 12) {
		return trackerHeaderErr(tracker.TrackerStatusBadRoleProfileID, tracker.TrackerReasonBadRoleProfileID, HeaderSpineRoleProfileID, tc.RoleProfileID, nhs111)
	}
	return nil
}

func trackerHeaderErr(code, reason, header, value string, required bool) *tracker.TrackerError {
	if value == "" && required {
		return &tracker.TrackerError{StatusCode: code, Reason: fmt.Sprintf("%s: %s is required", reason, header)}
	}
	return &tracker.TrackerError{StatusCode: code, Reason: fmt.Sprintf("%s: %s %q is not 12 digits", reason, header, value)}
}

// allDigits reports whether s is n ASCII digits.
func allDigits(s string, n int) bool { return len(s) == n && core.AllDigits(s) }

// validTraceID reports whether s is up to 30 ASCII letters, digits and
// dashes.
func validTraceID(s string) bool {
	if len(s) > 30 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// TrackerASIDs is the list of callers allowed on the tracker API. The nil
// list allows any well-formed ASID.
type TrackerASIDs struct {
	// names maps each allowed ASID to the client certificate names bound to
	// it (none: any certificate, or none).
	names map[string][]string
}

// TrackerAnyASID as --tracker-asids lets any well-formed ASID call the
// Tracker API, as an empty list does; a gateway serving TLS must say it
// (Config.Validate), so that no production gateway opens patients'
// prescriptions to every caller by leaving the list out.
const TrackerAnyASID = "any"

// ParseTrackerASIDs reads a comma-separated list of ASID or ASID=NAME
// entries (an ASID may repeat, to bind several names); "" and
// TrackerAnyASID give nil, which allows any ASID. NAME is a client
// certificate's subject CN or one of its DNS names.
func ParseTrackerASIDs(s string) (*TrackerASIDs, error) {
	if t := strings.TrimSpace(s); t == "" || t == TrackerAnyASID {
		return nil, nil
	}
	a := &TrackerASIDs{names: map[string][]string{}}
	var errs []error
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		asid, name, bound := strings.Cut(entry, "=")
		asid, name = strings.TrimSpace(asid), strings.TrimSpace(name)
		switch {
		case !allDigits(asid, 12):
			errs = append(errs, fmt.Errorf("%q: an ASID is 12 digits", entry))
			continue
		case bound && name == "":
			errs = append(errs, fmt.Errorf("%q: no certificate name after =", entry))
			continue
		}
		names := a.names[asid]
		if bound {
			names = append(names, name)
		}
		a.names[asid] = names
	}
	if len(a.names) == 0 && len(errs) == 0 {
		return nil, nil
	}
	return a, errors.Join(errs...)
}

// Len returns the number of ASIDs listed.
func (a *TrackerASIDs) Len() int {
	if a == nil {
		return 0
	}
	return len(a.names)
}

// Allow checks asid against the list and, when names are bound to it, the
// client certificate of the connection (cs nil: not over TLS).
func (a *TrackerASIDs) Allow(asid string, cs *tls.ConnectionState) error {
	if a == nil {
		return nil
	}
	names, ok := a.names[asid]
	if !ok {
		return fmt.Errorf("ASID %s is not allowed on the tracker API", asid)
	}
	return checkBound(asid, names, cs)
}

// Bound checks the client certificate of the connection (cs nil: not over
// TLS) against the names bound to asid; an ASID the list does not bind
// (not listed, or listed without names) is not checked, nor is any ASID
// by the nil list.
func (a *TrackerASIDs) Bound(asid string, cs *tls.ConnectionState) error {
	if a == nil {
		return nil
	}
	return checkBound(asid, a.names[asid], cs)
}

// checkBound checks the client certificate of cs against the names bound
// to asid (none: any certificate, or none).
func checkBound(asid string, names []string, cs *tls.ConnectionState) error {
	if len(names) == 0 {
		return nil
	}
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return fmt.Errorf("ASID %s must call over mutual TLS with its certificate", asid)
	}
	if cn, ok := certfile.PeerNamed(cs, names); !ok {
		return fmt.Errorf("ASID %s does not match the client certificate %q", asid, cn)
	}
	return nil
}

// ParseSOAPASIDs reads --soap-asids: the ASID=NAME entries of
// ParseTrackerASIDs, every entry bound to a name (an ASID listed without
// one would bind nothing); "" gives nil, which binds no ASID.
func ParseSOAPASIDs(s string) (*TrackerASIDs, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil, nil
	}
	if t == TrackerAnyASID {
		return nil, errors.New(`"any" binds nothing: list ASID=certificate name entries, or leave it empty`)
	}
	a, err := ParseTrackerASIDs(s)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if a != nil {
		for _, asid := range sortedKeys(a.names) {
			if len(a.names[asid]) == 0 {
				errs = append(errs, fmt.Errorf("%q: no certificate name (ASID=certificate name)", asid))
			}
		}
	}
	return a, errors.Join(errs...)
}
