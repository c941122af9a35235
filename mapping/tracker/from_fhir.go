package tracker

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
)

// The EPS tracker's FHIR answer → legacy tracker JSON. A Task from the EPS
// API (or the simulator) carries less than Spine's JSON: what it lacks is
// written as Spine writes "not known" ("" for text and dates), except where
// the EPS rules say what absence means (no Extension-EPS-RepeatInformation:
// one issue of one; EPS FHIR holds R2 prescriptions only).

// TrackerFromFHIR reads the EPS tracker's answer — a searchset Bundle of
// Tasks, or an OperationOutcome — as the legacy answer of kind k.
func TrackerFromFHIR(k TrackerKind, body []byte) (*TrackerResponse, error) {
	res, err := fhir.DecodeResource(body)
	if err != nil {
		return nil, fmt.Errorf("tracker %s: reading the EPS answer: %w", k, err)
	}
	return TrackerFromResource(k, res)
}

// TrackerFromResource is TrackerFromFHIR over a decoded resource.
func TrackerFromResource(k TrackerKind, res fhir.Resource) (*TrackerResponse, error) {
	switch r := res.(type) {
	case *fhir.OperationOutcome:
		return trackerFromOutcome(k, r), nil
	case *fhir.Bundle:
		out := &TrackerResponse{Kind: k, StatusCode: TrackerStatusOK, Version: TrackerVersion}
		for i, e := range r.Entry {
			t, ok := e.Resource.(*fhir.Task)
			if !ok {
				continue // e.g. an OperationOutcome entry of search mode outcome
			}
			p, err := trackerPrescriptionOf(t, k, fmt.Sprintf("Bundle.entry[%d].resource", i))
			if err != nil {
				return nil, fmt.Errorf("tracker %s: %w", k, err)
			}
			out.Prescriptions = append(out.Prescriptions, p)
		}
		return out, nil
	}
	return nil, fmt.Errorf("tracker %s: the EPS answer is a %s, want a Bundle or an OperationOutcome", k, res.GetResourceType())
}

// trackerFromOutcome reads a tracker error: the status code porxgate keeps
// in CodeSystemTrackerStatus, else the one Spine's reason names, else one
// by the issue code (not found, or an unexpected exception).
func trackerFromOutcome(k TrackerKind, oo *fhir.OperationOutcome) *TrackerResponse {
	var text, issueCode string
	for _, is := range oo.Issue {
		if c := fhir.FindCoding(is.Details, CodeSystemTrackerStatus); c != nil && c.Code != "" {
			return &TrackerResponse{Kind: k, StatusCode: c.Code, Reason: c.Display, Version: TrackerVersion}
		}
		if text == "" && is.Severity != "information" && is.Severity != "warning" {
			issueCode = is.Code
			text = outcomeText(is)
		}
	}
	if code, ok := trackerStatusByReason(text); ok {
		return &TrackerResponse{Kind: k, StatusCode: code, Reason: text, Version: TrackerVersion}
	}
	if issueCode == "not-found" {
		if k == TrackerDetail {
			return (&TrackerError{StatusCode: TrackerStatusPrescriptionMissing, Reason: TrackerReasonPrescriptionMissing}).Response(k)
		}
		return (&TrackerError{StatusCode: TrackerStatusNoMatch, Reason: TrackerReasonNoMatch}).Response(k)
	}
	reason := TrackerReasonUnexpected
	if text != "" {
		reason += ": " + text
	}
	return (&TrackerError{StatusCode: TrackerStatusUnexpected, Reason: reason}).Response(k)
}

// outcomeText is what an issue says: a coding's display, the details text,
// the diagnostics, or a coding's code.
func outcomeText(is fhir.Issue) string {
	if is.Details != nil {
		for _, c := range is.Details.Coding {
			if c.Display != "" {
				return c.Display
			}
		}
		if is.Details.Text != "" {
			return is.Details.Text
		}
	}
	if is.Diagnostics != "" {
		return is.Diagnostics
	}
	if is.Details != nil {
		for _, c := range is.Details.Coding {
			if c.Code != "" {
				return c.Code
			}
		}
	}
	return ""
}

// trackerPrescriptionOf reads one Task as a prescription of a kind-k answer.
func trackerPrescriptionOf(t *fhir.Task, k TrackerKind, path string) (TrackerPrescription, error) {
	var p TrackerPrescription
	if t.Focus == nil || t.Focus.Identifier == nil || t.Focus.Identifier.Value == "" {
		return p, fmt.Errorf("%s.focus.identifier: missing (the prescription id)", path)
	}
	p.ID = t.Focus.Identifier.Value
	if trackerReservedKey(p.ID) {
		return p, fmt.Errorf("%s.focus.identifier: %q is not a prescription id", path, p.ID)
	}
	path = fmt.Sprintf("%s(Task %s)", path, p.ID)
	if t.For == nil || t.For.Identifier == nil || t.For.Identifier.Value == "" {
		return p, fmt.Errorf("%s.for.identifier: missing (the NHS number)", path)
	}
	p.PatientNHSNumber = t.For.Identifier.Value
	status := fhir.FindCoding(t.BusinessStatus, fhir.CodeSystemTaskBusinessStatus)
	if status == nil {
		return p, fmt.Errorf("%s.businessStatus: no %s coding", path, fhir.CodeSystemTaskBusinessStatus)
	}
	if st, ok := trackerStatusByCode(status.Code); ok {
		p.PrescriptionStatus = st.text
	} else if status.Display != "" {
		p.PrescriptionStatus = status.Display
	} else {
		return p, fmt.Errorf("%s.businessStatus: unknown prescription status %q", path, status.Code)
	}
	var err error
	if p.PrescriptionIssueDate, err = trackerV3Time(t.AuthoredOn, path+".authoredOn"); err != nil {
		return p, err
	}
	if p.LastEventDate, err = trackerV3Time(t.LastModified, path+".lastModified"); err != nil {
		return p, err
	}
	if p.PrescriptionTreatmentType, err = trackerTreatmentOf(t, path); err != nil {
		return p, err
	}
	p.RepeatInstance = trackerRepeatOf(t)
	own := fhir.FindExtension(t.Extension, ExtensionTrackerPrescription)
	p.EPSVersion, p.PendingCancellations = "R2", "False"
	if own != nil {
		if e := fhir.FindExtension(own.Extension, "epsVersion"); e != nil && e.ValueString != nil {
			p.EPSVersion = *e.ValueString
		}
		if e := fhir.FindExtension(own.Extension, "pendingCancellations"); e != nil && e.ValueBoolean != nil && *e.ValueBoolean {
			p.PendingCancellations = "True"
		}
		if e := fhir.FindExtension(own.Extension, "treatmentTypeText"); e != nil && e.ValueString != nil {
			p.PrescriptionTreatmentType = *e.ValueString
		}
		if err := trackerTraceOnlyOf(own, &p, path); err != nil {
			return p, err
		}
	}
	if err := trackerItemsOf(t, &p, k, path); err != nil {
		return p, err
	}
	if p.LastEventDate == "" {
		// The EPS API's Task has no lastModified: the last event is the
		// latest of the events it dates.
		p.LastEventDate = latestTrackerTime(p.PrescriptionIssueDate, p.PrescriptionDownloadDate, p.PrescriptionDispensedDate, p.PrescriptionClaimedDate)
	}
	if k == TrackerDetail {
		trackerOrganisationsOf(t, own, status.Code, &p)
	}
	return p, nil
}

// trackerTraceOnlyOf reads the documented tracker's fields porxgate's
// extension keeps.
func trackerTraceOnlyOf(own *fhir.Extension, p *TrackerPrescription, path string) error {
	if e := fhir.FindExtension(own.Extension, "prescriptionType"); e != nil && e.ValueCoding != nil {
		p.PrescriptionTypeCode, p.PrescriptionTypeText = e.ValueCoding.Code, e.ValueCoding.Display
	}
	if e := fhir.FindExtension(own.Extension, "daysSupply"); e != nil && e.ValueString != nil {
		p.DaysSupply = *e.ValueString
	}
	if e := fhir.FindExtension(own.Extension, "signingDate"); e != nil {
		v, err := trackerV3Time(trackerExtDate(e), path+".extension(signingDate)")
		if err != nil {
			return err
		}
		p.SigningDate = v
	}
	if e := fhir.FindExtension(own.Extension, "appliedCancellations"); e != nil && e.ValueBoolean != nil {
		p.AppliedCancellations = trackerBool(*e.ValueBoolean)
	}
	return nil
}

// trackerBool writes a boolean as Spine does.
func trackerBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// latestTrackerTime is the latest of Spine times (YYYYMMDD[HHMMSS]),
// compared by their digits; "" when all are empty.
func latestTrackerTime(vs ...string) string {
	best := ""
	for _, v := range vs {
		if v == "" || v == "False" {
			continue
		}
		if best == "" || trackerTimeAfter(v, best) {
			best = v
		}
	}
	return best
}

// trackerTimeAfter reports whether Spine time a is later than b, a date
// standing for the start of its day.
func trackerTimeAfter(a, b string) bool {
	pad := func(v string) string { return (v + "00000000000000")[:14] }
	return pad(a) > pad(b)
}

// trackerTreatmentOf reads Extension-EPS-Prescription's course of therapy
// in Spine's words. The EPS API writes it on every Task; without it the
// treatment type is not known ("", never guessed).
func trackerTreatmentOf(t *fhir.Task, path string) (string, error) {
	e := fhir.FindExtension(t.Extension, ExtensionEPSPrescription)
	var c *fhir.Extension
	if e != nil {
		c = fhir.FindExtension(e.Extension, "courseOfTherapyType")
	}
	if c == nil || c.ValueCoding == nil || c.ValueCoding.Code == "" {
		return "", nil
	}
	tt, ok := trackerTreatmentByCourse(c.ValueCoding.Code)
	if !ok {
		return "", fmt.Errorf("%s.extension(%s).courseOfTherapyType: unknown course of therapy %q", path, ExtensionEPSPrescription, c.ValueCoding.Code)
	}
	return tt.text, nil
}

// trackerRepeatOf reads Extension-EPS-RepeatInformation; the EPS API leaves
// it out for one issue of one.
func trackerRepeatOf(t *fhir.Task) *TrackerRepeatInstance {
	ri := &TrackerRepeatInstance{CurrentIssue: "1", TotalAuthorised: "1"}
	e := fhir.FindExtension(t.Extension, core.ExtensionEPSRepeatInformation)
	if e == nil {
		return ri
	}
	num := func(url string) (string, bool) {
		s := fhir.FindExtension(e.Extension, url)
		switch {
		case s == nil:
			return "", false
		case s.ValueInteger != nil:
			return s.ValueInteger.String(), true
		case s.ValueUnsignedInt != nil:
			return s.ValueUnsignedInt.String(), true
		}
		return "", false
	}
	if v, ok := num("numberOfRepeatsAllowed"); ok {
		ri.TotalAuthorised = v
	}
	if v, ok := num("numberOfRepeatsIssued"); ok {
		ri.CurrentIssue = v
	}
	return ri
}

// trackerItemsOf reads the line items (inputs) and the prescription's
// dispense and release dates (the first input and output that carry them).
func trackerItemsOf(t *fhir.Task, p *TrackerPrescription, k TrackerKind, path string) error {
	for i, in := range t.Input {
		ip := fmt.Sprintf("%s.input[%d]", path, i)
		if c := fhir.FindCoding(&in.Type, fhir.SystemSNOMED); c != nil && c.Code != snomedPrescription {
			continue
		}
		if in.ValueReference == nil || in.ValueReference.Identifier == nil || in.ValueReference.Identifier.Value == "" {
			return fmt.Errorf("%s.valueReference.identifier: missing (the line item id)", ip)
		}
		it := TrackerLineItem{ID: in.ValueReference.Identifier.Value, Description: in.ValueReference.Display}
		if info := fhir.FindExtension(in.Extension, core.ExtensionDispensingInformation); info != nil {
			if s := fhir.FindExtension(info.Extension, "dispenseStatus"); s != nil && s.ValueCoding != nil {
				if text, ok := trackerItemText(s.ValueCoding.Code); ok {
					it.ItemStatus = text
				} else {
					it.ItemStatus = s.ValueCoding.Display
				}
			}
			if d := fhir.FindExtension(info.Extension, "dateLastDispensed"); d != nil && p.PrescriptionDispensedDate == "" {
				v, err := trackerV3Time(trackerExtDate(d), ip+".extension(dateLastDispensed)")
				if err != nil {
					return err
				}
				p.PrescriptionDispensedDate = v
			}
		}
		if own := fhir.FindExtension(in.Extension, ExtensionTrackerLineItem); own != nil {
			if m := fhir.FindExtension(own.Extension, "medication"); m != nil && m.ValueCoding != nil {
				it.Code = m.ValueCoding.Code
				if it.Description == "" {
					it.Description = m.ValueCoding.Display
				}
			}
			if q := fhir.FindExtension(own.Extension, "quantity"); q != nil && q.ValueQuantity != nil {
				it.Quantity, it.UOM = q.ValueQuantity.Value.String(), q.ValueQuantity.Unit
			}
			if d := fhir.FindExtension(own.Extension, "dosage"); d != nil && d.ValueString != nil {
				it.Dosage = *d.ValueString
			}
		}
		p.LineItems = trackerAppendItem(p.LineItems, it)
	}
	if k != TrackerDetail {
		return nil
	}
	for i, out := range t.Output {
		rel := fhir.FindExtension(out.Extension, ExtensionDispensingReleaseInformation)
		if rel == nil {
			continue
		}
		for _, d := range [...]struct {
			url string
			dst *string
		}{
			{"dateLastIssuedDispensed", &p.PrescriptionLastIssueDispensedDate},
			{"dateDownloaded", &p.PrescriptionDownloadDate},
			{"dateClaimed", &p.PrescriptionClaimedDate},
		} {
			e := fhir.FindExtension(rel.Extension, d.url)
			if e == nil || *d.dst != "" {
				continue
			}
			v, err := trackerV3Time(trackerExtDate(e), fmt.Sprintf("%s.output[%d].extension(%s)", path, i, d.url))
			if err != nil {
				return err
			}
			*d.dst = v
		}
	}
	return nil
}

// trackerAppendItem adds it, or replaces the item of the same id (a JSON
// object holds each id once).
func trackerAppendItem(items []TrackerLineItem, it TrackerLineItem) []TrackerLineItem {
	for i := range items {
		if items[i].ID == it.ID {
			items[i] = it
			return items
		}
	}
	return append(items, it)
}

// trackerReservedKey reports whether id is a member name of the legacy
// answer itself, which a detail answer could not key a prescription by.
func trackerReservedKey(id string) bool {
	switch id {
	case "statusCode", "reason", "version", "prescriptions", "spineResponse", "error":
		return true
	}
	return false
}

// trackerExtDate is an extension's valueDate or valueDateTime.
func trackerExtDate(e *fhir.Extension) string {
	switch {
	case e.ValueDateTime != nil:
		return *e.ValueDateTime
	case e.ValueDate != nil:
		return *e.ValueDate
	}
	return ""
}

// trackerOrganisationsOf reads a detail's prescriber and pharmacies: from
// the Organizations porxgate's extension names, else from requester and
// owner as the EPS API writes them (owner is the dispensing pharmacy once
// the prescription has been downloaded, else the nominated one).
func trackerOrganisationsOf(t *fhir.Task, own *fhir.Extension, status string, p *TrackerPrescription) {
	if own != nil {
		for _, o := range [...]struct {
			id  string
			dst **TrackerOrganisation
		}{{trackerOrgPrescriber, &p.Prescriber}, {trackerOrgNominated, &p.NominatedPharmacy}, {trackerOrgDispensing, &p.DispensingPharmacy}} {
			if e := fhir.FindExtension(own.Extension, o.id); e != nil && e.ValueReference != nil {
				*o.dst = trackerOrganisationOf(t, e.ValueReference)
			}
		}
		if p.Prescriber != nil || p.NominatedPharmacy != nil || p.DispensingPharmacy != nil {
			return
		}
	}
	if t.Requester != nil {
		p.Prescriber = trackerOrganisationOf(t, t.Requester)
	}
	if t.Owner != nil {
		if p.PrescriptionDownloadDate != "" || trackerWithDispenser(status) {
			p.DispensingPharmacy = trackerOrganisationOf(t, t.Owner)
		} else {
			p.NominatedPharmacy = trackerOrganisationOf(t, t.Owner)
		}
	}
}

// trackerWithDispenser reports whether a prescription status means a
// dispenser has downloaded the prescription.
func trackerWithDispenser(status string) bool {
	switch status {
	case "0002", "0003", "0006", "0007", "0008", "0009":
		return true
	}
	return false
}

// trackerOrganisationOf reads an organisation from a reference: the
// contained Organization it points at, else its identifier and display.
func trackerOrganisationOf(t *fhir.Task, ref *fhir.Reference) *TrackerOrganisation {
	if o, ok := t.FindContained(ref.Reference).(*fhir.Organization); ok && strings.HasPrefix(ref.Reference, "#") {
		org := &TrackerOrganisation{Name: o.Name, ODS: fhir.FindIdentifier(o.Identifier, fhir.SystemODS)}
		if len(o.Address) > 0 {
			org.Address = trackerAddressText(o.Address[0])
		}
		for _, cp := range o.Telecom {
			if cp.System == "phone" {
				org.Phone = strings.TrimPrefix(cp.Value, "tel:")
				break
			}
		}
		return org
	}
	org := &TrackerOrganisation{Name: ref.Display}
	if ref.Identifier != nil {
		org.ODS = ref.Identifier.Value
	}
	return org
}

// trackerAddressText is an address as one line: its text, else its parts joined
// by ", ".
func trackerAddressText(a fhir.Address) string {
	if a.Text != "" {
		return a.Text
	}
	parts := append([]string(nil), a.Line...)
	for _, s := range [...]string{a.City, a.District, a.State, a.PostalCode} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

// trackerIssueOf is the issue a prescription is at ("1" when not known), without
// leading zeros.
func trackerIssueOf(p *TrackerPrescription) string {
	if p.RepeatInstance == nil || p.RepeatInstance.CurrentIssue == "" {
		return "1"
	}
	if n, err := strconv.Atoi(p.RepeatInstance.CurrentIssue); err == nil {
		return strconv.Itoa(n)
	}
	return p.RepeatInstance.CurrentIssue
}
