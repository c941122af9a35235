package tracker

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Legacy tracker query parameters (case sensitive, as Spine reads them).
const (
	TrackerParamNHSNumber           = "nhsNumber"
	TrackerParamFormat              = "format"
	TrackerParamEarliestDate        = "earliestDate"
	TrackerParamLatestDate          = "latestDate"
	TrackerParamPrescriptionStatus  = "prescriptionStatus"
	TrackerParamPrescriptionVersion = "prescriptionVersion"
	TrackerParamVersion             = "version"
	TrackerParamPrescriptionID      = "prescriptionId"
	TrackerParamIssueNumber         = "issueNumber"
)

// The fixed format values Spine requires: trace-summary to search, trace to
// retrieve.
const (
	TrackerFormatSearch   = "trace-summary"
	TrackerFormatRetrieve = "trace"
)

// EPS tracker (GET /Task) search parameters.
const (
	TaskParamFocusIdentifier   = "focus:identifier"
	TaskParamPatientIdentifier = "patient:identifier"
	TaskParamBusinessStatus    = "business-status"
	TaskParamAuthoredOn        = "authored-on"
)

// TrackerDefaultWindow is how far back a search looks when it names no
// earliest date, as Spine does.
const TrackerDefaultWindow = 28 * 24 * time.Hour

// TrackerSearch is a validated legacy search (GET /mm/prescriptions?...).
type TrackerSearch struct {
	NHSNumber string
	// EarliestDate and LatestDate are yyyymmdd, or "" when not given.
	EarliestDate, LatestDate string
	// PrescriptionStatus is a four-digit prescription status, or "".
	PrescriptionStatus string
	// PrescriptionVersion is 1, 2, R1 or R2, or "".
	PrescriptionVersion string
}

// TrackerRetrieve is a validated legacy retrieve
// (GET /mm/prescriptions/{prescriptionId}?...).
type TrackerRetrieve struct {
	PrescriptionID string
	// IssueNumber is the issue asked for, or "" for the current one.
	IssueNumber string
}

// ParseTrackerSearch validates a legacy search query. wantFormat is the
// format value the endpoint requires (TrackerFormatSearch), or "" where the
// endpoint takes none. A refusal is a *TrackerError naming the parameter.
func ParseTrackerSearch(q url.Values, wantFormat string) (TrackerSearch, error) {
	if len(q) == 0 {
		return TrackerSearch{}, trackerErr(TrackerStatusNoParameters, TrackerReasonNoParameters, "")
	}
	var s TrackerSearch
	var err *TrackerError
	one := func(name, code, reason string) string {
		v, e := single(q, name, code, reason)
		if err == nil {
			err = e
		}
		return v
	}
	s.NHSNumber = one(TrackerParamNHSNumber, TrackerStatusBadNHSNumber, TrackerReasonBadNHSNumber)
	if err != nil {
		return TrackerSearch{}, err
	}
	if e := checkNHSNumber(s.NHSNumber); e != nil {
		return TrackerSearch{}, e
	}
	if e := checkFormat(q, wantFormat); e != nil {
		return TrackerSearch{}, e
	}
	if e := checkTrackerVersion(q); e != nil {
		return TrackerSearch{}, e
	}
	s.EarliestDate = one(TrackerParamEarliestDate, TrackerStatusBadDate, TrackerReasonBadDate)
	s.LatestDate = one(TrackerParamLatestDate, TrackerStatusBadDate, TrackerReasonBadDate)
	s.PrescriptionStatus = one(TrackerParamPrescriptionStatus, TrackerStatusBadState, TrackerReasonBadState)
	s.PrescriptionVersion = one(TrackerParamPrescriptionVersion, TrackerStatusBadRxVersion, TrackerReasonBadRxVersion)
	if err != nil {
		return TrackerSearch{}, err
	}
	for _, d := range [...]struct{ name, v string }{{TrackerParamEarliestDate, s.EarliestDate}, {TrackerParamLatestDate, s.LatestDate}} {
		if d.v == "" {
			continue
		}
		if _, e := time.Parse(core.V3DateLayout, d.v); e != nil || len(d.v) != 8 {
			return TrackerSearch{}, trackerErr(TrackerStatusBadDate, TrackerReasonBadDate, "%s %q is not a date of the form yyyymmdd", d.name, d.v)
		}
	}
	if s.EarliestDate != "" && s.LatestDate != "" && s.EarliestDate > s.LatestDate {
		return TrackerSearch{}, trackerErr(TrackerStatusBadDate, TrackerReasonBadDate, "%s %s is later than %s %s", TrackerParamEarliestDate, s.EarliestDate, TrackerParamLatestDate, s.LatestDate)
	}
	if s.PrescriptionStatus != "" {
		if _, ok := trackerStatusByCode(s.PrescriptionStatus); !ok {
			return TrackerSearch{}, trackerErr(TrackerStatusBadState, TrackerReasonBadState, "%s %q is not a four-digit prescription state (0000-0009, 9000, 9001, 9005)", TrackerParamPrescriptionStatus, s.PrescriptionStatus)
		}
	}
	switch s.PrescriptionVersion {
	case "", "1", "2", "R1", "R2":
	default:
		return TrackerSearch{}, trackerErr(TrackerStatusBadRxVersion, TrackerReasonBadRxVersion, "%s %q, want 1, 2, R1 or R2", TrackerParamPrescriptionVersion, s.PrescriptionVersion)
	}
	return s, nil
}

// FHIRQuery is the EPS tracker query of the search: patient:identifier,
// business-status and authored-on (ge earliest, le latest), each written
// system|value where the parameter has a system. The status of future
// issues (9000) is not asked of EPS, which matches its Task, the current
// issue: the search finds it among the future issues it lists.
func (s TrackerSearch) FHIRQuery() url.Values {
	q := url.Values{TaskParamPatientIdentifier: {fhir.SystemNHSNumber + "|" + s.NHSNumber}}
	if s.PrescriptionStatus != "" && s.PrescriptionStatus != trackerStatusFutureRepeat {
		q.Set(TaskParamBusinessStatus, fhir.CodeSystemTaskBusinessStatus+"|"+s.PrescriptionStatus)
	}
	if s.EarliestDate != "" {
		q.Add(TaskParamAuthoredOn, "ge"+fhirDay(s.EarliestDate))
	}
	if s.LatestDate != "" {
		q.Add(TaskParamAuthoredOn, "le"+fhirDay(s.LatestDate))
	}
	return q
}

// ParseTrackerRetrieve validates a legacy retrieve: the prescription id
// from the path (pathID), or from the prescriptionId parameter when pathID
// is empty, and the query. wantFormat is as for ParseTrackerSearch. A
// refusal is a *TrackerError.
func ParseTrackerRetrieve(pathID string, q url.Values, wantFormat string) (TrackerRetrieve, error) {
	if pathID == "" && len(q) == 0 {
		return TrackerRetrieve{}, trackerErr(TrackerStatusNoParameters, TrackerReasonNoParameters, "")
	}
	var r TrackerRetrieve
	r.PrescriptionID = pathID
	if pathID == "" {
		v, err := single(q, TrackerParamPrescriptionID, TrackerStatusBadPrescriptionID, TrackerReasonBadPrescriptionID)
		if err != nil {
			return TrackerRetrieve{}, err
		}
		// A '+' (a check character) sent unescaped in a query string reads as
		// a space; ids hold no spaces, so take it back.
		r.PrescriptionID = strings.ReplaceAll(v, " ", "+")
	}
	id, err := checkPrescriptionID(r.PrescriptionID)
	if err != nil {
		return TrackerRetrieve{}, err
	}
	r.PrescriptionID = id
	if e := checkFormat(q, wantFormat); e != nil {
		return TrackerRetrieve{}, e
	}
	if e := checkTrackerVersion(q); e != nil {
		return TrackerRetrieve{}, e
	}
	n, e := single(q, TrackerParamIssueNumber, TrackerStatusNoParameters, "Invalid issue number")
	if e != nil {
		return TrackerRetrieve{}, e
	}
	if n != "" {
		if v, err := strconv.Atoi(n); err != nil || v < 1 || len(n) > 4 || n[0] == '+' {
			return TrackerRetrieve{}, trackerErr(TrackerStatusNoParameters, "Invalid issue number", "%s %q is not a whole number from 1", TrackerParamIssueNumber, n)
		}
		r.IssueNumber = strings.TrimLeft(n, "0")
	}
	return r, nil
}

// FHIRQuery is the EPS tracker query of the retrieve: focus:identifier
// with the prescription id (the EPS tracker has no issue parameter; the
// issue is chosen from its answer).
func (r TrackerRetrieve) FHIRQuery() url.Values {
	return url.Values{TaskParamFocusIdentifier: {fhir.SystemShortFormID + "|" + r.PrescriptionID}}
}

// single returns the one value of a parameter ("" when absent); a
// parameter given more than once is refused with code and reason.
func single(q url.Values, name, code, reason string) (string, *TrackerError) {
	vs := q[name]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	}
	return "", trackerErr(code, reason, "%s given %d times, want once", name, len(vs))
}

// checkNHSNumber checks that an NHS number is given, is ten digits and has
// the right modulus 11 check digit.
func checkNHSNumber(n string) *TrackerError {
	if n == "" {
		return trackerErr(TrackerStatusBadNHSNumber, TrackerReasonBadNHSNumber, "%s is required", TrackerParamNHSNumber)
	}
	if !ValidNHSNumber(n) {
		if len(n) != 10 || strings.Trim(n, "0123456789") != "" {
			return trackerErr(TrackerStatusBadNHSNumber, TrackerReasonBadNHSNumber, "%s %q is not ten digits", TrackerParamNHSNumber, n)
		}
		return trackerErr(TrackerStatusBadNHSNumber, TrackerReasonBadNHSNumber, "%s %q fails the modulus 11 check digit", TrackerParamNHSNumber, n)
	}
	return nil
}

// ValidNHSNumber reports whether n is ten digits whose last is the modulus
// 11 check digit of the first nine (weights 10 down to 2; 11 becomes 0, 10
// is never valid).
func ValidNHSNumber(n string) bool {
	if len(n) != 10 {
		return false
	}
	sum := 0
	for i := 0; i < 10; i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
		if i < 9 {
			sum += int(n[i]-'0') * (10 - i)
		}
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	return check != 10 && check == int(n[9]-'0')
}

// checkFormat checks the format parameter against want ("" checks nothing).
func checkFormat(q url.Values, want string) *TrackerError {
	if want == "" {
		return nil
	}
	const reason = "Invalid or missing format"
	v, err := single(q, TrackerParamFormat, TrackerStatusNoParameters, reason)
	if err != nil {
		return err
	}
	if v != want {
		if v == "" {
			return trackerErr(TrackerStatusNoParameters, reason, "%s is required and must be %s", TrackerParamFormat, want)
		}
		return trackerErr(TrackerStatusNoParameters, reason, "%s %q, want %s", TrackerParamFormat, v, want)
	}
	return nil
}

// checkTrackerVersion checks the optional version parameter: only 1.
func checkTrackerVersion(q url.Values) *TrackerError {
	v, err := single(q, TrackerParamVersion, TrackerStatusBadVersion, TrackerReasonBadVersion)
	if err != nil {
		return err
	}
	if v != "" && v != TrackerVersion {
		return trackerErr(TrackerStatusBadVersion, TrackerReasonBadVersion, "%s %q, want %s", TrackerParamVersion, v, TrackerVersion)
	}
	return nil
}

// checkPrescriptionID checks a prescription id as Spine does (19/20 or
// 36/37 characters of A-Z, a-z, 0-9, '-' and '+'); a 20-character short-form
// id must also have the right check character. Short-form ids come back
// upper case.
func checkPrescriptionID(id string) (string, *TrackerError) {
	if id == "" {
		return "", trackerErr(TrackerStatusBadPrescriptionID, TrackerReasonBadPrescriptionID, "%s is required", TrackerParamPrescriptionID)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '+') {
			return "", trackerErr(TrackerStatusBadPrescriptionID, TrackerReasonBadPrescriptionID, "character %d of %q is not A-Z, a-z, 0-9, '-' or '+'", i+1, id)
		}
	}
	switch len(id) {
	case 19:
		return strings.ToUpper(id), nil
	case 20:
		up := strings.ToUpper(id)
		if err := v3.ValidateShortFormID(up); err != nil {
			return "", trackerErr(TrackerStatusBadPrescriptionID, TrackerReasonBadPrescriptionID, "%v", err)
		}
		return up, nil
	case 36, 37:
		return id, nil
	}
	return "", trackerErr(TrackerStatusBadPrescriptionID, TrackerReasonBadPrescriptionID, "%q has %d characters, want 19 or 20 (short form) or 36 or 37 (long form)", id, len(id))
}

// fhirDay writes a yyyymmdd date as a FHIR date.
func fhirDay(d string) string {
	return d[0:4] + "-" + d[4:6] + "-" + d[6:8]
}
