package tracker

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
)

// Legacy tracker JSON → the EPS tracker's FHIR answer: what the EPS API
// answers for a Spine tracker answer, with porxgate's extensions for what
// its profile drops, so that FHIR → legacy gives the same JSON back.

// Task input and output types of the EPS tracker.
const (
	snomedPrescription         = "16076005"
	snomedDispensingMedication = "373784005"
)

// Ids of the Organizations a detail Task contains.
const (
	trackerOrgPrescriber = "prescriber"
	trackerOrgNominated  = "nominatedPharmacy"
	trackerOrgDispensing = "dispensingPharmacy"
)

// TrackerJSONToFHIR reads a legacy tracker answer and writes the EPS
// tracker's answer for it (see TrackerToFHIR).
func TrackerJSONToFHIR(data []byte, newID func() string) ([]byte, error) {
	r, err := ParseTrackerJSON(data)
	if err != nil {
		return nil, err
	}
	res, err := TrackerToFHIR(r, newID)
	if err != nil {
		return nil, err
	}
	out, err := fhir.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("tracker %s: writing FHIR: %w", r.Kind, err)
	}
	return out, nil
}

// TrackerToFHIR turns a legacy tracker answer into the EPS tracker's: a
// searchset Bundle with one Task per prescription, or, for an error, an
// OperationOutcome carrying the Spine status code (CodeSystemTrackerStatus)
// and reason. newID makes the Bundle's and the Tasks' ids.
func TrackerToFHIR(r *TrackerResponse, newID func() string) (fhir.Resource, error) {
	if !r.OK() {
		return trackerOutcome(r.StatusCode, r.Reason), nil
	}
	total := len(r.Prescriptions)
	b := &fhir.Bundle{ResourceType: "Bundle", ID: newID(), Type: "searchset", Total: &total}
	for i := range r.Prescriptions {
		p := &r.Prescriptions[i]
		path := "$.prescriptions"
		if r.Kind == TrackerDetail {
			path = "$"
		}
		t, err := trackerTask(p, r.Kind, newID(), trackerPath(path, p.ID))
		if err != nil {
			return nil, fmt.Errorf("tracker %s: %w", r.Kind, err)
		}
		b.Entry = append(b.Entry, fhir.Entry{FullURL: "urn:uuid:" + t.ID, Resource: t, Search: &fhir.EntrySearch{Mode: "match"}})
	}
	return b, nil
}

// trackerOutcome is the OperationOutcome of a tracker error.
func trackerOutcome(status, reason string) *fhir.OperationOutcome {
	return &fhir.OperationOutcome{
		Base: fhir.Base{ResourceType: "OperationOutcome"},
		Issue: []fhir.Issue{{
			Severity: "error",
			Code:     trackerIssueCode(status),
			Details: &fhir.CodeableConcept{Coding: []fhir.Coding{
				{System: CodeSystemTrackerStatus, Code: status, Display: reason},
				{System: fhir.CodeSystemSpineErrorOrWarning, Code: "INVALID", Display: reason},
			}},
		}},
	}
}

// trackerTask makes the Task of one prescription.
func trackerTask(p *TrackerPrescription, kind TrackerKind, id, path string) (*fhir.Task, error) {
	st, ok := trackerStatusByText(p.PrescriptionStatus)
	if !ok {
		return nil, fmt.Errorf("%s.prescriptionStatus: %q is not a prescription status the tracker reports", path, p.PrescriptionStatus)
	}
	if p.PatientNHSNumber == "" {
		return nil, fmt.Errorf("%s.patientNhsNumber: missing", path)
	}
	t := &fhir.Task{
		Base:           fhir.Base{ResourceType: "Task", ID: id},
		Identifier:     []fhir.Identifier{{System: fhir.SystemRFC4122, Value: id}},
		Status:         st.taskStatus,
		BusinessStatus: &fhir.CodeableConcept{Coding: []fhir.Coding{{System: fhir.CodeSystemTaskBusinessStatus, Code: st.code, Display: st.text}}},
		Intent:         "order",
		Code:           &fhir.CodeableConcept{Coding: []fhir.Coding{{System: core.CodeSystemTaskCode, Code: "fulfill", Display: "Fulfill the focal request"}}},
		Focus:          &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemShortFormID, Value: p.ID}},
		For:            &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemNHSNumber, Value: p.PatientNHSNumber}},
	}
	var err error
	if t.AuthoredOn, err = trackerFHIRTime(p.PrescriptionIssueDate, path+".prescriptionIssueDate"); err != nil {
		return nil, err
	}
	if t.LastModified, err = trackerFHIRTime(p.LastEventDate, path+".lastEventDate"); err != nil {
		return nil, err
	}
	var own []fhir.Extension // sub-extensions of ExtensionTrackerPrescription
	if p.PrescriptionTreatmentType != "" {
		tt, canonical, ok := trackerTreatmentByText(p.PrescriptionTreatmentType)
		if !ok {
			return nil, fmt.Errorf("%s.prescriptionTreatmentType: %q is not a treatment type the tracker reports", path, p.PrescriptionTreatmentType)
		}
		t.Extension = append(t.Extension, fhir.Extension{URL: ExtensionEPSPrescription, Extension: []fhir.Extension{{
			URL: "courseOfTherapyType", ValueCoding: &fhir.Coding{System: core.CourseOfTherapySystem(tt.course), Code: tt.course, Display: tt.display},
		}}})
		if !canonical {
			own = append(own, trackerStringExt("treatmentTypeText", p.PrescriptionTreatmentType))
		}
	}
	if ri := p.RepeatInstance; ri != nil && (ri.CurrentIssue != "1" || ri.TotalAuthorised != "1") {
		allowed, err := trackerWholeNumber(ri.TotalAuthorised, path+".repeatInstance.totalAuthorised")
		if err != nil {
			return nil, err
		}
		issued, err := trackerWholeNumber(ri.CurrentIssue, path+".repeatInstance.currentIssue")
		if err != nil {
			return nil, err
		}
		t.Extension = append(t.Extension, fhir.Extension{URL: core.ExtensionEPSRepeatInformation, Extension: []fhir.Extension{
			{URL: "numberOfRepeatsAllowed", ValueInteger: &allowed},
			{URL: "numberOfRepeatsIssued", ValueInteger: &issued},
		}})
	}
	if p.EPSVersion != "" && p.EPSVersion != "R2" {
		own = append(own, trackerStringExt("epsVersion", p.EPSVersion))
	}
	switch p.PendingCancellations {
	case "", "False":
	case "True":
		yes := true
		own = append(own, fhir.Extension{URL: "pendingCancellations", ValueBoolean: &yes})
	default:
		return nil, fmt.Errorf("%s.pendingCancellations: %q, want True or False", path, p.PendingCancellations)
	}
	traceOnly, err := trackerTraceOnlyExts(p, path)
	if err != nil {
		return nil, err
	}
	own = append(own, traceOnly...)
	if kind == TrackerDetail {
		own = append(own, trackerOrganisations(t, p)...)
	}
	if len(own) > 0 {
		t.Extension = append(t.Extension, fhir.Extension{URL: ExtensionTrackerPrescription, Extension: own})
	}
	if err := trackerItems(t, p, kind, path); err != nil {
		return nil, err
	}
	return t, nil
}

// trackerTraceOnlyExts are the sub-extensions of ExtensionTrackerPrescription
// for the documented tracker's fields the EPS Task has no place for.
func trackerTraceOnlyExts(p *TrackerPrescription, path string) ([]fhir.Extension, error) {
	var own []fhir.Extension
	if p.PrescriptionTypeCode != "" || p.PrescriptionTypeText != "" {
		own = append(own, fhir.Extension{URL: "prescriptionType", ValueCoding: &fhir.Coding{System: CodeSystemPrescriptionType, Code: p.PrescriptionTypeCode, Display: p.PrescriptionTypeText}})
	}
	if p.DaysSupply != "" {
		own = append(own, trackerStringExt("daysSupply", p.DaysSupply))
	}
	if p.SigningDate != "" && p.SigningDate != p.PrescriptionIssueDate {
		v, err := trackerFHIRTime(p.SigningDate, path+".signingDate")
		if err != nil {
			return nil, err
		}
		if v != "" {
			own = append(own, fhir.Extension{URL: "signingDate", ValueDateTime: &v})
		}
	}
	switch p.AppliedCancellations {
	case "":
	case "True", "False":
		if p.AppliedCancellations != trackerBool(trackerCancellationsApplied(p)) {
			b := p.AppliedCancellations == "True"
			own = append(own, fhir.Extension{URL: "appliedCancellations", ValueBoolean: &b})
		}
	default:
		return nil, fmt.Errorf("%s.appliedCancellations: %q, want True or False", path, p.AppliedCancellations)
	}
	return own, nil
}

// trackerOrganisations contains a detail's prescriber and pharmacies in the
// Task, points requester and owner at them as the EPS API does (owner: the
// dispensing pharmacy once there is one, else the nominated one) and
// returns the sub-extensions that name each.
func trackerOrganisations(t *fhir.Task, p *TrackerPrescription) []fhir.Extension {
	var own []fhir.Extension
	ref := func(id string, o *TrackerOrganisation) *fhir.Reference {
		r := &fhir.Reference{Reference: "#" + id, Display: o.Name}
		if o.ODS != "" {
			r.Identifier = &fhir.Identifier{System: fhir.SystemODS, Value: o.ODS}
		}
		return r
	}
	for _, org := range [...]struct {
		id string
		o  *TrackerOrganisation
	}{{trackerOrgPrescriber, p.Prescriber}, {trackerOrgNominated, p.NominatedPharmacy}, {trackerOrgDispensing, p.DispensingPharmacy}} {
		if org.o.empty() {
			continue
		}
		o := &fhir.Organization{Base: fhir.Base{ResourceType: "Organization", ID: org.id}, Name: org.o.Name}
		if org.o.ODS != "" {
			o.Identifier = []fhir.Identifier{{System: fhir.SystemODS, Value: org.o.ODS}}
		}
		if org.o.Address != "" {
			o.Address = []fhir.Address{{Text: org.o.Address}}
		}
		if org.o.Phone != "" {
			o.Telecom = []fhir.ContactPoint{{System: "phone", Value: org.o.Phone}}
		}
		t.Contained = append(t.Contained, o)
		own = append(own, fhir.Extension{URL: org.id, ValueReference: &fhir.Reference{Reference: "#" + org.id}})
	}
	if !p.Prescriber.empty() {
		t.Requester = ref(trackerOrgPrescriber, p.Prescriber)
	}
	switch {
	case p.DispensingPharmacy != nil && p.DispensingPharmacy.ODS != "":
		t.Owner = ref(trackerOrgDispensing, p.DispensingPharmacy)
	case !p.NominatedPharmacy.empty():
		t.Owner = ref(trackerOrgNominated, p.NominatedPharmacy)
	}
	return own
}

// trackerItems writes one input (the prescribed item, its status and
// detail) and one output (the prescription's release dates) per line item.
func trackerItems(t *fhir.Task, p *TrackerPrescription, kind TrackerKind, path string) error {
	dispensed, err := trackerFHIRTime(p.PrescriptionDispensedDate, path+".prescriptionDispensedDate")
	if err != nil {
		return err
	}
	var release []fhir.Extension
	for _, d := range [...]struct{ url, v, member string }{
		{"dateLastIssuedDispensed", p.PrescriptionLastIssueDispensedDate, "prescriptionLastIssueDispensedDate"},
		{"dateDownloaded", p.PrescriptionDownloadDate, "prescriptionDownloadDate"},
		{"dateClaimed", p.PrescriptionClaimedDate, "prescriptionClaimedDate"},
	} {
		v, err := trackerFHIRTime(d.v, path+"."+d.member)
		if err != nil {
			return err
		}
		if v != "" {
			release = append(release, trackerDateExt(d.url, v))
		}
	}
	for _, it := range p.LineItems {
		ip := trackerPath(path+".lineItems", it.ID)
		in := fhir.TaskParameter{
			Type: fhir.CodeableConcept{Coding: []fhir.Coding{{System: fhir.SystemSNOMED, Code: snomedPrescription, Display: "Prescription"}}},
			ValueReference: &fhir.Reference{Type: "MedicationRequest", Display: it.Description,
				Identifier: &fhir.Identifier{System: fhir.SystemLineItemID, Value: it.ID}},
		}
		var info []fhir.Extension
		if dispensed != "" {
			v := dispensed
			info = append(info, fhir.Extension{URL: "dateLastDispensed", ValueDateTime: &v})
		}
		if it.ItemStatus != "" {
			code, ok := trackerItemCode(it.ItemStatus)
			if !ok {
				return fmt.Errorf("%s.itemStatus: %q is not a line item status the tracker reports", ip, it.ItemStatus)
			}
			info = append(info, fhir.Extension{URL: "dispenseStatus", ValueCoding: &fhir.Coding{System: fhir.CodeSystemMedicationDispenseType, Code: code, Display: it.ItemStatus}})
		}
		if len(info) > 0 {
			in.Extension = append(in.Extension, fhir.Extension{URL: core.ExtensionDispensingInformation, Extension: info})
		}
		if kind == TrackerDetail {
			ext, err := trackerLineItemExt(it, ip)
			if err != nil {
				return err
			}
			if ext != nil {
				in.Extension = append(in.Extension, *ext)
			}
		}
		t.Input = append(t.Input, in)
		out := fhir.TaskParameter{
			Type: fhir.CodeableConcept{Coding: []fhir.Coding{{System: fhir.SystemSNOMED, Code: snomedDispensingMedication, Display: "Dispensing medication"}}},
			ValueReference: &fhir.Reference{Type: "MedicationDispense",
				Identifier: &fhir.Identifier{System: fhir.SystemLineItemID, Value: it.ID}},
		}
		if len(release) > 0 {
			out.Extension = []fhir.Extension{{URL: ExtensionDispensingReleaseInformation, Extension: release}}
		}
		t.Output = append(t.Output, out)
	}
	return nil
}

// trackerLineItemExt is a detail line item's ExtensionTrackerLineItem, or
// nil when it has no code, quantity, unit or dosage.
func trackerLineItemExt(it TrackerLineItem, path string) (*fhir.Extension, error) {
	var sub []fhir.Extension
	if it.Code != "" {
		sub = append(sub, fhir.Extension{URL: "medication", ValueCoding: &fhir.Coding{System: fhir.SystemSNOMED, Code: it.Code, Display: it.Description}})
	}
	if it.Quantity != "" || it.UOM != "" {
		q := &fhir.Quantity{Unit: it.UOM}
		if it.Quantity != "" {
			if !core.IsJSONNumber(it.Quantity) {
				return nil, fmt.Errorf("%s.quantity: %q is not a number", path, it.Quantity)
			}
			q.Value = json.Number(it.Quantity)
		}
		sub = append(sub, fhir.Extension{URL: "quantity", ValueQuantity: q})
	}
	if it.Dosage != "" {
		sub = append(sub, trackerStringExt("dosage", it.Dosage))
	}
	if len(sub) == 0 {
		return nil, nil
	}
	return &fhir.Extension{URL: ExtensionTrackerLineItem, Extension: sub}, nil
}

// trackerFHIRTime turns a Spine tracker time (an HL7 TS: YYYYMMDDHHMMSS or
// YYYYMMDD) into a FHIR DateTime at its precision; "" and Spine's "False"
// (no such event) give "".
func trackerFHIRTime(v, path string) (string, error) {
	if v == "" || v == "False" {
		return "", nil
	}
	out, err := core.FHIRDateTimeFromV3(v)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// trackerV3Time turns a FHIR date or DateTime into a Spine tracker time at
// its precision (a DateTime in UTC, YYYYMMDDHHMMSS).
func trackerV3Time(v, path string) (string, error) {
	if v == "" {
		return "", nil
	}
	var out string
	var err error
	switch {
	case strings.Contains(v, "T"):
		out, err = core.V3TimestampFromFHIR(v)
	case len(v) == 10:
		out, err = core.V3DateFromFHIRDate(v)
	case len(v) == 7: // YYYY-MM
		if out, err = core.V3DateFromFHIRDate(v); err == nil {
			out = out[:6]
		}
	case len(v) == 4: // YYYY
		if out, err = core.V3DateFromFHIRDate(v); err == nil {
			out = out[:4]
		}
	default:
		err = fmt.Errorf("incorrect format for date %q", v)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// trackerDateExt holds a release date as valueDate (a date) or
// valueDateTime (with a time, which the EPS profile's valueDate would lose).
func trackerDateExt(url, v string) fhir.Extension {
	if strings.Contains(v, "T") {
		return fhir.Extension{URL: url, ValueDateTime: &v}
	}
	return fhir.Extension{URL: url, ValueDate: &v}
}

// trackerWholeNumber checks a repeat count and makes it a FHIR integer.
func trackerWholeNumber(v, path string) (json.Number, error) {
	if v == "" || len(v) > 9 || strings.Trim(v, "0123456789") != "" || (len(v) > 1 && v[0] == '0') {
		return "", fmt.Errorf("%s: %q is not a whole number", path, v)
	}
	return json.Number(v), nil
}

func trackerStringExt(url, v string) fhir.Extension {
	return fhir.Extension{URL: url, ValueString: &v}
}
