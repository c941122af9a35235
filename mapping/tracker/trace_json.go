package tracker

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Reading and writing the documented tracker's JSON. Members are written in
// the order the documentation's examples show them (Spine says the order
// is not significant, and the reader accepts any); every value is a string.

// MarshalJSON writes the answer in the documented shape: search
// {reason, version, prescriptionList, statusCode}, retrieve {reason,
// version, prescription, statusCode}; an error has an empty
// "prescriptions" (search) or "prescription" (retrieve) object.
func (a *TraceAnswer) MarshalJSON() ([]byte, error) {
	if a.Kind != TrackerSummary && a.Kind != TrackerDetail {
		return nil, fmt.Errorf("tracker trace answer: unknown kind %v", a.Kind)
	}
	version := a.Version
	if version == "" {
		version = TrackerVersion
	}
	w := &trackerJSONWriter{}
	w.open()
	w.str("reason", a.Reason)
	w.str("version", version)
	switch {
	case a.Kind == TrackerSummary && a.StatusCode == TrackerStatusOK:
		w.key("prescriptionList")
		w.open()
		for i := range a.Prescriptions {
			w.key(a.Prescriptions[i].ID)
			writeTraceSummary(w, &a.Prescriptions[i])
		}
		w.close()
	case a.Kind == TrackerSummary:
		w.key("prescriptions")
		w.open()
		w.close()
	case a.OK() && len(a.Prescriptions) == 1:
		w.key("prescription")
		writeTraceDetail(w, &a.Prescriptions[0])
	default:
		w.key("prescription")
		w.open()
		w.close()
	}
	w.str("statusCode", a.StatusCode)
	w.close()
	return w.b, nil
}

func writeTraceCoded(w *trackerJSONWriter, key, textKey, codeKey string, c TraceCoded) {
	w.key(key)
	w.open()
	w.str(textKey, c.Text)
	w.str(codeKey, c.Code)
	w.close()
}

func writeTraceSummary(w *trackerJSONWriter, p *TracePrescription) {
	w.open()
	writeTraceCoded(w, "prescriptionTreatmentType", "prescriptionTreatmentTypeText", "prescriptionTreatmentTypeCode", p.TreatmentType)
	w.str("prescriptionIssueDate", p.IssueDate)
	w.str("pendingCancellations", p.PendingCancellations)
	w.str("lastEventDate", p.LastEventDate)
	w.str("currentIssueNumber", p.CurrentIssueNumber)
	w.key("issues")
	w.open()
	for _, is := range p.Issues {
		w.key(is.Number)
		w.open()
		w.str("issueDate", is.IssueDate)
		writeTraceItems(w, is.LineItems, false)
		writeTraceCoded(w, "prescriptionStatus", "statusText", "statusCode", is.Status)
		w.close()
	}
	w.close()
	w.str("patientNhsNumber", p.PatientNHSNumber)
	w.close()
}

func writeTraceItems(w *trackerJSONWriter, items []TraceLineItem, detail bool) {
	w.key("lineItems")
	w.open()
	for _, li := range items {
		w.key(li.Ordinal)
		w.open()
		writeTraceCoded(w, "status", "statusText", "statusCode", li.Status)
		if detail {
			w.str("id", li.ID)
		}
		w.close()
	}
	w.close()
}

func writeTraceDetail(w *trackerJSONWriter, p *TracePrescription) {
	w.open()
	writeTraceCoded(w, "prescriptionType", "prescriptionTypeText", "prescriptionTypeCode", p.PrescriptionType)
	writeTraceCoded(w, "prescriptionTreatmentType", "prescriptionTreatmentTypeText", "prescriptionTreatmentTypeCode", p.TreatmentType)
	w.str("nominatedDispenserODS", p.NominatedDispenser.ODS)
	w.str("daysSupply", p.DaysSupply)
	w.str("pendingCancellations", p.PendingCancellations)
	w.str("prescribingOrganisationName", p.Prescriber.Name)
	w.str("prescribingOrganisationContact", p.Prescriber.Contact)
	w.str("signingDate", p.SigningDate)
	w.str("currentIssueNumber", p.CurrentIssueNumber)
	w.str("prescribingOrganisationODS", p.Prescriber.ODS)
	w.str("prescriptionId", p.ID)
	w.str("lastEventDate", p.LastEventDate)
	w.str("nominatedDispenserName", p.NominatedDispenser.Name)
	w.key("issue")
	w.open()
	if len(p.Issues) > 0 {
		is := &p.Issues[0]
		w.str("dispensingOrganisationODS", is.DispensingOrganisation.ODS)
		w.str("appliedCancellations", is.AppliedCancellations)
		w.str("lastDispenseDate", is.LastDispenseDate)
		w.str("lastClaimDate", is.LastClaimDate)
		w.str("dispensingOrganisationContact", is.DispensingOrganisation.Contact)
		w.str("issueNumber", is.Number)
		writeTraceItems(w, is.LineItems, true)
		writeTraceCoded(w, "prescriptionStatus", "statusText", "statusCode", is.Status)
		w.str("dispensingOrganisationName", is.DispensingOrganisation.Name)
	}
	w.close()
	w.str("patientNhsNumber", p.PatientNHSNumber)
	w.close()
}

// ParseTraceJSON reads a documented tracker answer. Its kind follows from
// its shape: prescriptionList (or, in an error, prescriptions) makes a
// search answer, prescription a retrieve answer. Members may come in any
// order; unknown members, non-string values and repeated keys are errors
// naming their path.
func ParseTraceJSON(data []byte) (*TraceAnswer, error) {
	top, err := readTrackerObject(data, "$")
	if err != nil {
		return nil, fmt.Errorf("tracker trace: %w", err)
	}
	a := &TraceAnswer{}
	var seenStatus bool
	var body json.RawMessage
	for _, m := range top {
		path := "$." + m.key
		// The documentation's own examples write " prescriptionList ": be
		// liberal with spaces around a member name.
		switch strings.TrimSpace(m.key) {
		case "statusCode":
			seenStatus = true
			a.StatusCode, err = trackerString(m.raw, path)
		case "reason":
			a.Reason, err = trackerString(m.raw, path)
		case "version":
			a.Version, err = trackerString(m.raw, path)
		case "prescriptionList", "prescriptions", "prescription":
			kind := TrackerSummary
			if strings.TrimSpace(m.key) == "prescription" {
				kind = TrackerDetail
			}
			if a.Kind != 0 {
				err = fmt.Errorf("%s: a second prescription member", path)
			}
			a.Kind, body = kind, m.raw
		default:
			err = fmt.Errorf("%s: unknown member", path)
		}
		if err != nil {
			return nil, fmt.Errorf("tracker trace: %w", err)
		}
	}
	switch {
	case !seenStatus:
		return nil, fmt.Errorf("tracker trace: $.statusCode: missing")
	case a.Kind == 0:
		return nil, fmt.Errorf("tracker trace: $: no prescriptionList, prescriptions or prescription")
	}
	if a.Kind == TrackerSummary {
		err = a.parseSummaries(body)
	} else {
		err = a.parseDetail(body)
	}
	if err != nil {
		return nil, fmt.Errorf("tracker trace %s: %w", a.Kind, err)
	}
	return a, nil
}

func (a *TraceAnswer) parseSummaries(raw json.RawMessage) error {
	o, err := readTrackerObject(raw, "$.prescriptionList")
	if err != nil {
		return err
	}
	if !a.OK() && len(o) > 0 {
		return fmt.Errorf("$.prescriptionList: statusCode %q (an error) with %d prescriptions", a.StatusCode, len(o))
	}
	for _, m := range o {
		path := trackerPath("$.prescriptionList", m.key)
		if m.key == "" {
			return fmt.Errorf("%s: empty prescription id", path)
		}
		p := TracePrescription{ID: m.key}
		fields, err := readTrackerObject(m.raw, path)
		if err != nil {
			return err
		}
		for _, f := range fields {
			fp := path + "." + f.key
			switch f.key {
			case "prescriptionTreatmentType":
				p.TreatmentType, err = parseTraceCoded(f.raw, fp, "prescriptionTreatmentTypeText", "prescriptionTreatmentTypeCode")
			case "issues":
				p.Issues, err = parseTraceIssues(f.raw, fp)
			default:
				dst := map[string]*string{
					"prescriptionIssueDate": &p.IssueDate, "pendingCancellations": &p.PendingCancellations,
					"lastEventDate": &p.LastEventDate, "currentIssueNumber": &p.CurrentIssueNumber,
					"patientNhsNumber": &p.PatientNHSNumber,
				}[f.key]
				if dst == nil {
					return fmt.Errorf("%s: unknown member", fp)
				}
				*dst, err = trackerString(f.raw, fp)
			}
			if err != nil {
				return err
			}
		}
		a.Prescriptions = append(a.Prescriptions, p)
	}
	return nil
}

func parseTraceIssues(raw json.RawMessage, path string) ([]TraceIssue, error) {
	o, err := readTrackerObject(raw, path)
	if err != nil {
		return nil, err
	}
	var out []TraceIssue
	for _, m := range o {
		ip := trackerPath(path, m.key)
		if _, err := strconv.Atoi(m.key); err != nil {
			return nil, fmt.Errorf("%s: issue number %q is not a number", ip, m.key)
		}
		is := TraceIssue{Number: m.key}
		fields, err := readTrackerObject(m.raw, ip)
		if err != nil {
			return nil, err
		}
		for _, f := range fields {
			fp := ip + "." + f.key
			switch f.key {
			case "issueDate":
				is.IssueDate, err = trackerString(f.raw, fp)
			case "lineItems":
				is.LineItems, err = parseTraceItems(f.raw, fp, false)
			case "prescriptionStatus":
				is.Status, err = parseTraceCoded(f.raw, fp, "statusText", "statusCode")
			default:
				err = fmt.Errorf("%s: unknown member", fp)
			}
			if err != nil {
				return nil, err
			}
		}
		out = append(out, is)
	}
	return out, nil
}

func parseTraceItems(raw json.RawMessage, path string, detail bool) ([]TraceLineItem, error) {
	o, err := readTrackerObject(raw, path)
	if err != nil {
		return nil, err
	}
	var out []TraceLineItem
	for _, m := range o {
		ip := trackerPath(path, m.key)
		if _, err := strconv.Atoi(m.key); err != nil {
			return nil, fmt.Errorf("%s: line item ordinal %q is not a number", ip, m.key)
		}
		li := TraceLineItem{Ordinal: m.key}
		fields, err := readTrackerObject(m.raw, ip)
		if err != nil {
			return nil, err
		}
		for _, f := range fields {
			fp := ip + "." + f.key
			switch {
			case f.key == "status":
				li.Status, err = parseTraceCoded(f.raw, fp, "statusText", "statusCode")
			case f.key == "id" && detail:
				li.ID, err = trackerString(f.raw, fp)
			default:
				err = fmt.Errorf("%s: unknown member", fp)
			}
			if err != nil {
				return nil, err
			}
		}
		out = append(out, li)
	}
	return out, nil
}

// parseTraceCoded reads a {text, code} object.
func parseTraceCoded(raw json.RawMessage, path, textKey, codeKey string) (TraceCoded, error) {
	var c TraceCoded
	o, err := readTrackerObject(raw, path)
	if err != nil {
		return c, err
	}
	for _, m := range o {
		switch m.key {
		case textKey:
			c.Text, err = trackerString(m.raw, path+"."+m.key)
		case codeKey:
			c.Code, err = trackerString(m.raw, path+"."+m.key)
		default:
			err = fmt.Errorf("%s.%s: unknown member", path, m.key)
		}
		if err != nil {
			return c, err
		}
	}
	return c, nil
}

func (a *TraceAnswer) parseDetail(raw json.RawMessage) error {
	const path = "$.prescription"
	fields, err := readTrackerObject(raw, path)
	if err != nil {
		return err
	}
	if !a.OK() {
		if len(fields) > 0 {
			return fmt.Errorf("%s: statusCode %q (an error) with a prescription", path, a.StatusCode)
		}
		return nil
	}
	var p TracePrescription
	for _, f := range fields {
		fp := path + "." + f.key
		switch f.key {
		case "prescriptionType":
			p.PrescriptionType, err = parseTraceCoded(f.raw, fp, "prescriptionTypeText", "prescriptionTypeCode")
		case "prescriptionTreatmentType":
			p.TreatmentType, err = parseTraceCoded(f.raw, fp, "prescriptionTreatmentTypeText", "prescriptionTreatmentTypeCode")
		case "issue":
			var is *TraceIssue
			if is, err = parseTraceDetailIssue(f.raw, fp); is != nil {
				p.Issues = []TraceIssue{*is}
			}
		default:
			dst := map[string]*string{
				"nominatedDispenserODS": &p.NominatedDispenser.ODS, "nominatedDispenserName": &p.NominatedDispenser.Name,
				"daysSupply": &p.DaysSupply, "pendingCancellations": &p.PendingCancellations,
				"prescribingOrganisationName": &p.Prescriber.Name, "prescribingOrganisationContact": &p.Prescriber.Contact,
				"prescribingOrganisationODS": &p.Prescriber.ODS, "signingDate": &p.SigningDate,
				"currentIssueNumber": &p.CurrentIssueNumber, "prescriptionId": &p.ID,
				"lastEventDate": &p.LastEventDate, "patientNhsNumber": &p.PatientNHSNumber,
			}[f.key]
			if dst == nil {
				return fmt.Errorf("%s: unknown member", fp)
			}
			*dst, err = trackerString(f.raw, fp)
		}
		if err != nil {
			return err
		}
	}
	if p.ID == "" {
		return fmt.Errorf("%s.prescriptionId: missing", path)
	}
	a.Prescriptions = []TracePrescription{p}
	return nil
}

// parseTraceDetailIssue reads a retrieve's issue; nil for an empty one (an
// issue that was not found).
func parseTraceDetailIssue(raw json.RawMessage, path string) (*TraceIssue, error) {
	fields, err := readTrackerObject(raw, path)
	if err != nil || len(fields) == 0 {
		return nil, err
	}
	is := &TraceIssue{}
	for _, f := range fields {
		fp := path + "." + f.key
		switch f.key {
		case "lineItems":
			is.LineItems, err = parseTraceItems(f.raw, fp, true)
		case "prescriptionStatus":
			is.Status, err = parseTraceCoded(f.raw, fp, "statusText", "statusCode")
		default:
			dst := map[string]*string{
				"dispensingOrganisationODS": &is.DispensingOrganisation.ODS, "dispensingOrganisationName": &is.DispensingOrganisation.Name,
				"dispensingOrganisationContact": &is.DispensingOrganisation.Contact, "appliedCancellations": &is.AppliedCancellations,
				"lastDispenseDate": &is.LastDispenseDate, "lastClaimDate": &is.LastClaimDate, "issueNumber": &is.Number,
			}[f.key]
			if dst == nil {
				return nil, fmt.Errorf("%s: unknown member", fp)
			}
			*dst, err = trackerString(f.raw, fp)
		}
		if err != nil {
			return nil, err
		}
	}
	return is, nil
}
