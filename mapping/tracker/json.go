package tracker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Reading and writing the legacy tracker JSON. Objects are read and written
// in document order (prescriptions and line items keep the order Spine gave
// them); every value is a string, as Spine writes them.

// ParseTrackerJSON reads a legacy tracker answer. Its kind follows from its
// shape: a "prescriptions" member makes a summary; a "spineResponse"
// wrapper, or prescriptions keyed by id beside statusCode, a detail.
// Unknown members, non-string values and repeated keys are errors naming
// their path.
func ParseTrackerJSON(data []byte) (*TrackerResponse, error) {
	top, err := readTrackerObject(data, "$")
	if err != nil {
		return nil, err
	}
	if _, wrapped := top.get("spineResponse"); wrapped {
		return parseWrappedTracker(top)
	}
	r := &TrackerResponse{Kind: TrackerDetail}
	if _, ok := top.get("prescriptions"); ok {
		r.Kind = TrackerSummary
	}
	seen := false
	for _, m := range top {
		path := "$." + m.key
		switch m.key {
		case "statusCode":
			seen = true
			r.StatusCode, err = trackerString(m.raw, path)
		case "reason":
			r.Reason, err = trackerString(m.raw, path)
		case "version":
			r.Version, err = trackerString(m.raw, path)
		case "prescriptions":
			r.Prescriptions, err = parseTrackerPrescriptions(m.raw, path)
		default:
			if r.Kind == TrackerSummary {
				return nil, fmt.Errorf("tracker summary: %s: unknown member", path)
			}
			var p TrackerPrescription
			p, err = parseTrackerPrescription(m.key, m.raw, TrackerDetail, trackerPath("$", m.key))
			r.Prescriptions = append(r.Prescriptions, p)
		}
		if err != nil {
			return nil, fmt.Errorf("tracker %s: %w", r.Kind, err)
		}
	}
	if !seen {
		return nil, fmt.Errorf("tracker %s: $.statusCode: missing", r.Kind)
	}
	if !r.OK() && len(r.Prescriptions) > 0 {
		return nil, fmt.Errorf("tracker %s: statusCode %q (an error) with %d prescriptions", r.Kind, r.StatusCode, len(r.Prescriptions))
	}
	return r, nil
}

// parseWrappedTracker reads {"spineResponse": {...}, "error": {...}}, the
// shape of a detail error.
func parseWrappedTracker(top trackerObject) (*TrackerResponse, error) {
	r := &TrackerResponse{Kind: TrackerDetail}
	for _, m := range top {
		switch m.key {
		case "spineResponse":
		case "error":
			if _, err := readTrackerObject(m.raw, "$.error"); err != nil {
				return nil, fmt.Errorf("tracker detail: %w", err)
			}
		default:
			return nil, fmt.Errorf("tracker detail: $.%s: unknown member beside spineResponse", m.key)
		}
	}
	raw, _ := top.get("spineResponse")
	inner, err := readTrackerObject(raw, "$.spineResponse")
	if err != nil {
		return nil, fmt.Errorf("tracker detail: %w", err)
	}
	seen := false
	for _, m := range inner {
		path := "$.spineResponse." + m.key
		switch m.key {
		case "statusCode":
			seen = true
			r.StatusCode, err = trackerString(m.raw, path)
		case "reason":
			r.Reason, err = trackerString(m.raw, path)
		case "version":
			r.Version, err = trackerString(m.raw, path)
		case "prescriptions":
			var o trackerObject
			if o, err = readTrackerObject(m.raw, path); err == nil && len(o) > 0 {
				err = fmt.Errorf("%s: a wrapped answer carries no prescriptions", path)
			}
		default:
			err = fmt.Errorf("%s: unknown member", path)
		}
		if err != nil {
			return nil, fmt.Errorf("tracker detail: %w", err)
		}
	}
	if !seen {
		return nil, errors.New("tracker detail: $.spineResponse.statusCode: missing")
	}
	return r, nil
}

func parseTrackerPrescriptions(raw json.RawMessage, path string) ([]TrackerPrescription, error) {
	o, err := readTrackerObject(raw, path)
	if err != nil {
		return nil, err
	}
	out := make([]TrackerPrescription, 0, len(o))
	for _, m := range o {
		p, err := parseTrackerPrescription(m.key, m.raw, TrackerSummary, trackerPath(path, m.key))
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// parseTrackerPrescription reads one prescription of a summary or detail.
func parseTrackerPrescription(id string, raw json.RawMessage, kind TrackerKind, path string) (TrackerPrescription, error) {
	p := TrackerPrescription{ID: id}
	if id == "" {
		return p, fmt.Errorf("%s: empty prescription id", path)
	}
	o, err := readTrackerObject(raw, path)
	if err != nil {
		return p, err
	}
	detail := kind == TrackerDetail
	for _, m := range o {
		mp := path + "." + m.key
		var dst *string
		switch m.key {
		case "patientNhsNumber":
			dst = &p.PatientNHSNumber
		case "prescriptionStatus":
			dst = &p.PrescriptionStatus
		case "prescriptionIssueDate":
			dst = &p.PrescriptionIssueDate
		case "lastEventDate":
			dst = &p.LastEventDate
		case "epsVersion":
			dst = &p.EPSVersion
		case "pendingCancellations":
			dst = &p.PendingCancellations
		case "prescriptionTreatmentType":
			dst = &p.PrescriptionTreatmentType
		case "repeatInstance":
			p.RepeatInstance, err = parseTrackerRepeat(m.raw, mp)
		case "lineItems":
			p.LineItems, err = parseTrackerLineItems(m.raw, detail, mp)
		case "prescriptionDownloadDate":
			dst = &p.PrescriptionDownloadDate
		case "prescriptionDispensedDate":
			dst = &p.PrescriptionDispensedDate
		case "prescriptionClaimedDate":
			dst = &p.PrescriptionClaimedDate
		case "prescriptionLastIssueDispensedDate":
			dst = &p.PrescriptionLastIssueDispensedDate
		case "prescriber", "nominatedPharmacy", "dispensingPharmacy":
			if !detail {
				return p, fmt.Errorf("%s: a detail member in a summary", mp)
			}
			var org *TrackerOrganisation
			org, err = parseTrackerOrganisation(m.raw, mp)
			switch m.key {
			case "prescriber":
				p.Prescriber = org
			case "nominatedPharmacy":
				p.NominatedPharmacy = org
			default:
				p.DispensingPharmacy = org
			}
		default:
			return p, fmt.Errorf("%s: unknown member", mp)
		}
		if dst != nil && !detail && isTrackerDetailOnly(m.key) {
			return p, fmt.Errorf("%s: a detail member in a summary", mp)
		}
		if err == nil && dst != nil {
			*dst, err = trackerString(m.raw, mp)
		}
		if err != nil {
			return p, err
		}
	}
	return p, nil
}

func parseTrackerRepeat(raw json.RawMessage, path string) (*TrackerRepeatInstance, error) {
	o, err := readTrackerObject(raw, path)
	if err != nil {
		return nil, err
	}
	var ri TrackerRepeatInstance
	for _, m := range o {
		switch m.key {
		case "currentIssue":
			ri.CurrentIssue, err = trackerString(m.raw, path+"."+m.key)
		case "totalAuthorised":
			ri.TotalAuthorised, err = trackerString(m.raw, path+"."+m.key)
		default:
			err = fmt.Errorf("%s.%s: unknown member", path, m.key)
		}
		if err != nil {
			return nil, err
		}
	}
	return &ri, nil
}

func parseTrackerOrganisation(raw json.RawMessage, path string) (*TrackerOrganisation, error) {
	o, err := readTrackerObject(raw, path)
	if err != nil {
		return nil, err
	}
	var org TrackerOrganisation
	for _, m := range o {
		var dst *string
		switch m.key {
		case "name":
			dst = &org.Name
		case "address":
			dst = &org.Address
		case "phone":
			dst = &org.Phone
		case "ods":
			dst = &org.ODS
		default:
			return nil, fmt.Errorf("%s.%s: unknown member", path, m.key)
		}
		if *dst, err = trackerString(m.raw, path+"."+m.key); err != nil {
			return nil, err
		}
	}
	return &org, nil
}

// parseTrackerLineItems reads lineItems: id → description in a summary,
// id → object in a detail.
func parseTrackerLineItems(raw json.RawMessage, detail bool, path string) ([]TrackerLineItem, error) {
	o, err := readTrackerObject(raw, path)
	if err != nil {
		return nil, err
	}
	out := make([]TrackerLineItem, 0, len(o))
	for _, m := range o {
		ip := trackerPath(path, m.key)
		if m.key == "" {
			return nil, fmt.Errorf("%s: empty line item id", ip)
		}
		it := TrackerLineItem{ID: m.key}
		if !detail {
			if it.Description, err = trackerString(m.raw, ip); err != nil {
				return nil, err
			}
			out = append(out, it)
			continue
		}
		fields, err := readTrackerObject(m.raw, ip)
		if err != nil {
			return nil, err
		}
		for _, f := range fields {
			var dst *string
			switch f.key {
			case "description":
				dst = &it.Description
			case "quantity":
				dst = &it.Quantity
			case "uom":
				dst = &it.UOM
			case "dosage":
				dst = &it.Dosage
			case "itemStatus":
				dst = &it.ItemStatus
			case "code":
				dst = &it.Code
			default:
				return nil, fmt.Errorf("%s.%s: unknown member", ip, f.key)
			}
			if *dst, err = trackerString(f.raw, ip+"."+f.key); err != nil {
				return nil, err
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// isTrackerDetailOnly reports whether a prescription member appears in
// detail answers only.
func isTrackerDetailOnly(key string) bool {
	switch key {
	case "prescriptionDownloadDate", "prescriptionDispensedDate", "prescriptionClaimedDate", "prescriptionLastIssueDispensedDate":
		return true
	}
	return false
}

// trackerPath appends an object key to a path as ["key"].
func trackerPath(path, key string) string {
	return path + "[" + strconv.Quote(key) + "]"
}

// trackerMember is one member of a JSON object, in document order.
type trackerMember struct {
	key string
	raw json.RawMessage
}

// trackerObject is a JSON object's members in document order.
type trackerObject []trackerMember

func (o trackerObject) get(key string) (json.RawMessage, bool) {
	for _, m := range o {
		if m.key == key {
			return m.raw, true
		}
	}
	return nil, false
}

// readTrackerObject reads one JSON object (and nothing after it), keeping its
// members in order; a repeated key is an error.
func readTrackerObject(data []byte, path string) (trackerObject, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%s: not JSON: %w", path, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%s: want an object", path)
	}
	var out trackerObject
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%s: not JSON: %w", path, err)
		}
		key, _ := tok.(string)
		if seen[key] {
			return nil, fmt.Errorf("%s: key %q repeated", path, key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%s: not JSON: %w", trackerPath(path, key), err)
		}
		out = append(out, trackerMember{key: key, raw: raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%s: not JSON: %w", path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: data after the object", path)
	}
	return out, nil
}

// trackerString reads a JSON string value.
func trackerString(raw json.RawMessage, path string) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return "", fmt.Errorf("%s: want a string", path)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// MarshalJSON writes the answer in Spine's shape for its kind: a summary as
// {statusCode, reason, version, prescriptions}; a detail as {version,
// reason, statusCode, <id>: {...}}, or, for an error, wrapped as
// {"spineResponse": {statusCode, reason, prescriptions: {}, version},
// "error": {}}. Detail prescriptions carry every member, empty where
// unknown.
func (r *TrackerResponse) MarshalJSON() ([]byte, error) {
	w := &trackerJSONWriter{}
	version := r.Version
	if version == "" {
		version = TrackerVersion
	}
	switch {
	case r.Kind == TrackerDetail && !r.OK():
		w.open()
		w.key("spineResponse")
		w.open()
		w.str("statusCode", r.StatusCode)
		w.str("reason", r.Reason)
		w.key("prescriptions")
		w.open()
		w.close()
		w.str("version", version)
		w.close()
		w.key("error")
		w.open()
		w.close()
		w.close()
	case r.Kind == TrackerDetail:
		w.open()
		w.str("version", version)
		w.str("reason", r.Reason)
		w.str("statusCode", r.StatusCode)
		for i := range r.Prescriptions {
			w.key(r.Prescriptions[i].ID)
			writeTrackerDetail(w, &r.Prescriptions[i])
		}
		w.close()
	case r.Kind == TrackerSummary:
		w.open()
		w.str("statusCode", r.StatusCode)
		w.str("reason", r.Reason)
		w.str("version", version)
		w.key("prescriptions")
		w.open()
		if r.OK() {
			for i := range r.Prescriptions {
				w.key(r.Prescriptions[i].ID)
				writeTrackerSummary(w, &r.Prescriptions[i])
			}
		}
		w.close()
		w.close()
	default:
		return nil, fmt.Errorf("tracker answer: unknown kind %v", r.Kind)
	}
	return w.b, nil
}

func writeTrackerSummary(w *trackerJSONWriter, p *TrackerPrescription) {
	w.open()
	writeTrackerRepeat(w, p.RepeatInstance)
	w.str("patientNhsNumber", p.PatientNHSNumber)
	w.str("prescriptionIssueDate", p.PrescriptionIssueDate)
	w.str("lastEventDate", p.LastEventDate)
	w.str("epsVersion", p.EPSVersion)
	w.str("pendingCancellations", p.PendingCancellations)
	w.str("prescriptionTreatmentType", p.PrescriptionTreatmentType)
	w.str("prescriptionStatus", p.PrescriptionStatus)
	w.key("lineItems")
	w.open()
	for _, it := range p.LineItems {
		w.str(it.ID, it.Description)
	}
	w.close()
	w.close()
}

func writeTrackerDetail(w *trackerJSONWriter, p *TrackerPrescription) {
	w.open()
	w.str("prescriptionStatus", p.PrescriptionStatus)
	w.str("lastEventDate", p.LastEventDate)
	w.str("prescriptionIssueDate", p.PrescriptionIssueDate)
	w.str("prescriptionDownloadDate", p.PrescriptionDownloadDate)
	w.str("prescriptionDispensedDate", p.PrescriptionDispensedDate)
	w.str("prescriptionClaimedDate", p.PrescriptionClaimedDate)
	w.str("prescriptionLastIssueDispensedDate", p.PrescriptionLastIssueDispensedDate)
	w.str("patientNhsNumber", p.PatientNHSNumber)
	w.str("epsVersion", p.EPSVersion)
	w.str("pendingCancellations", p.PendingCancellations)
	w.str("prescriptionTreatmentType", p.PrescriptionTreatmentType)
	writeTrackerRepeat(w, p.RepeatInstance)
	for _, org := range [...]struct {
		key string
		o   *TrackerOrganisation
	}{{"prescriber", p.Prescriber}, {"nominatedPharmacy", p.NominatedPharmacy}, {"dispensingPharmacy", p.DispensingPharmacy}} {
		o := org.o
		if o == nil {
			o = &TrackerOrganisation{}
		}
		w.key(org.key)
		w.open()
		w.str("name", o.Name)
		w.str("address", o.Address)
		w.str("phone", o.Phone)
		w.str("ods", o.ODS)
		w.close()
	}
	w.key("lineItems")
	w.open()
	for _, it := range p.LineItems {
		w.key(it.ID)
		w.open()
		w.str("description", it.Description)
		w.str("quantity", it.Quantity)
		w.str("uom", it.UOM)
		w.str("dosage", it.Dosage)
		w.str("itemStatus", it.ItemStatus)
		w.str("code", it.Code)
		w.close()
	}
	w.close()
	w.close()
}

func writeTrackerRepeat(w *trackerJSONWriter, ri *TrackerRepeatInstance) {
	if ri == nil {
		return
	}
	w.key("repeatInstance")
	w.open()
	w.str("currentIssue", ri.CurrentIssue)
	w.str("totalAuthorised", ri.TotalAuthorised)
	w.close()
}

// trackerJSONWriter writes compact JSON objects member by member, in order.
type trackerJSONWriter struct{ b []byte }

func (w *trackerJSONWriter) open() { w.b = append(w.b, '{') }

func (w *trackerJSONWriter) close() { w.b = append(w.b, '}') }

func (w *trackerJSONWriter) key(k string) {
	if n := len(w.b); n > 0 && w.b[n-1] != '{' {
		w.b = append(w.b, ',')
	}
	w.b = appendTrackerString(w.b, k)
	w.b = append(w.b, ':')
}

func (w *trackerJSONWriter) str(k, v string) {
	w.key(k)
	w.b = appendTrackerString(w.b, v)
}

// appendTrackerString appends s as a JSON string; '<', '>' and '&' stay as
// written, invalid UTF-8 becomes U+FFFD.
func appendTrackerString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
