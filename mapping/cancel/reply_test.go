package cancel

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// replyOK parses a cancel response made by the gateway back through
// CancelResponseToFHIR (so every reply is a message the reader accepts)
// and returns its Bundle; nil for an error code, which reads back as the
// EPS API's OperationOutcome (one error issue).
func replyOK(t *testing.T, msg []byte) *fhir.Bundle {
	t.Helper()
	body, _, err := CancelResponseToFHIR(msg, core.FixedEnv())
	if err != nil {
		t.Fatalf("the reply does not read back: %v\n%s", err, msg)
	}
	if r, err := fhir.DecodeResource(body); err == nil {
		if oo, ok := r.(*fhir.OperationOutcome); ok {
			if len(oo.Issue) != 1 || oo.Issue[0].Severity != "error" {
				t.Fatalf("the reply reads back as %s", body)
			}
			return nil
		}
	}
	b, err := fhir.ParseBundle(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCancelResponseFromEPSPending(t *testing.T) {
	req := cancelFixture(t, "cancel_request_uk.xml")
	msg, out, err := CancelResponseFromEPS(req, cancelFixture(t, "eps_answer_pending.json"), 200, CancelReplyEnds{SenderASID: "990101234567"}, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	if out.Code.Code != "0002" || out.FHIRCode != "R-0002" || !out.Pending || out.TypeCode != core.AckAccepted || out.DispenserODS != "FZZ99" {
		t.Errorf("outcome = %+v", out)
	}
	if out.Request.PrescriptionID != "7D3E21-B86019-4A2C9F" || out.Request.LineItemID != "A9B8C7D6-E5F4-4A3B-8C2D-1E0F9A8B7C6D" ||
		out.Request.MessageID != "5B1C9E0A-3D2F-4A6B-9C8D-7E6F5A4B3C21" || out.Request.SenderASID != "918273645546" {
		t.Errorf("request info = %+v", out.Request)
	}
	s := string(msg)
	for _, want := range []string{
		"<PORX_IN050101UK31 ", `<acknowledgement typeCode="AA">`,
		`<id root="00000000-0000-4000-8000-000000000001"/>`,
		`<communicationFunctionRcv typeCode="RCV">`, `extension="918273645546"`, `extension="990101234567"`,
		`<effectiveTime value="20240607081502"/>`,
		`<time nullFlavor="UNK"/>`, `extension="700012312312"`, `<name>Pat Dispenser</name>`, `<telecom use="WP" value="tel:01130000009"/>`,
		`code="0002" displayName="Prescription/item was not cancelled. With dispenser. Marked for cancellation"`,
		`<id root="0E5D4C3B-2A19-4F08-8E7D-6C5B4A392817"/>`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("reply lacks %s", want)
		}
	}
	// The request's people are repeated exactly.
	for _, part := range []string{"recordTarget", "author", "responsibleParty"} {
		want := payloadOf(t, req, "ControlActEvent", "subject", "CancellationRequest", part)
		got := payloadOf(t, msg, "ControlActEvent", "subject", "CancellationResponse", part)
		if !core.SameElement(want.ChildElements()[0], got.ChildElements()[0], nil) {
			t.Errorf("%s differs from the request's", part)
		}
	}
	b := replyOK(t, msg)
	if mr := fhir.EntriesOf[*fhir.MedicationRequest](b)[0]; mr.DispenseRequest == nil || mr.DispenseRequest.Performer.Identifier.Value != "FZZ99" {
		t.Errorf("performer lost: %+v", mr.DispenseRequest)
	}
}

func TestCancelResponseFromEPSAnswers(t *testing.T) {
	req := cancelFixture(t, "cancel_request_uk.xml")
	outcome := func(code, issue string) string {
		return `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"` + issue +
			`","details":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/medicationrequest-status-history","code":"` + code + `"}]}}]}`
	}
	cases := []struct {
		name     string
		answer   string
		status   int
		code     string
		typeCode string
		wantErr  string
	}{
		{"not found", outcome("R-0008", "not-found"), 400, "0008", core.AckError, ""},
		{"disabled", outcome("R-0009", "not-supported"), 400, "0009", core.AckError, ""},
		{"invalid", outcome("R-5888", "invalid"), 400, "5888", core.AckError, ""},
		{"status unknown", outcome("R-0008", "not-found"), 0, "0008", core.AckError, ""},
		{"spine validation code", `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"business-rule","details":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode","code":"PRESCRIPTION_DISPENSED"}]}}]}`, 400, "0004", core.AckError, ""},
		{"gateway error, empty body", "", 502, "5000", core.AckError, ""},
		{"http 404 without issues", `{"resourceType":"OperationOutcome","issue":[]}`, 404, "0008", core.AckError, ""},
		{"duplicate only", `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"duplicate","details":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode","code":"202"}]}}]}`, 400, "", "", "AckFromOutcome"},
		{"success outcome", `{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]}`, 200, "", "", "not an error answer"},
		{"other resource", `{"resourceType":"Parameters"}`, 200, "", "", "want Bundle or OperationOutcome"},
		{"not json", `{`, 200, "", "", "EPS answer"},
		{"other line item", strings.Replace(string(cancelFixture(t, "eps_answer_pending.json")), "a9b8c7d6-e5f4-4a3b-8c2d-1e0f9a8b7c6d", "11111111-e5f4-4a3b-8c2d-1e0f9a8b7c6d", 1), 200, "", "", "not the one the request cancels"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg, out, err := CancelResponseFromEPS(req, []byte(tc.answer), tc.status, CancelReplyEnds{}, core.FixedEnv())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.Code.Code != tc.code || out.TypeCode != tc.typeCode || out.Pending {
				t.Errorf("outcome = %+v", out)
			}
			if !strings.Contains(string(msg), `code="`+tc.code+`"`) || !strings.Contains(string(msg), `extension="`+core.DefaultReceiverASID+`"`) {
				t.Errorf("reply:\n%s", msg)
			}
			replyOK(t, msg)
		})
	}
	if _, _, err := CancelResponseFromEPS([]byte("<x/>"), nil, 400, CancelReplyEnds{}, core.FixedEnv()); err == nil {
		t.Error("a bad request gave no error")
	}
}

func TestSubsequentCancelResponse(t *testing.T) {
	req := cancelFixture(t, "cancel_request_uk.xml")
	msg, err := SubsequentCancelResponse(req, "0001", nil, CancelReplyEnds{}, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	s := string(msg)
	for _, want := range []string{"<PORX_IN050102UK32 ", `extension="PORX_IN050102UK32"`, `<acknowledgement typeCode="AA">`, `code="0001" displayName="Prescription/item was cancelled"`} {
		if !strings.Contains(s, want) {
			t.Errorf("lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, "<performer") {
		t.Error("performer written without one")
	}
	replyOK(t, msg)

	at := time.Date(2024, 6, 9, 10, 11, 12, 0, time.UTC)
	msg, err = SubsequentCancelResponse(req, "0004", &CancelPerformer{ODS: "FZZ99", Name: "PORXGATE TEST PHARMACY", Time: at}, CancelReplyEnds{}, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	s = string(msg)
	for _, want := range []string{`<acknowledgement typeCode="AE">`, `<time value="20240609101112"/>`, `extension="FZZ99"`, `code="0004"`} {
		if !strings.Contains(s, want) {
			t.Errorf("lacks %s:\n%s", want, s)
		}
	}
	replyOK(t, msg)

	sm := strings.ReplaceAll(string(req), "PORX_IN030101UK32", "PORX_IN030101SM32")
	msg, err = SubsequentCancelResponse([]byte(sm), "0010", nil, CancelReplyEnds{}, core.FixedEnv())
	if err != nil || !strings.Contains(string(msg), "<PORX_IN050102SM32 ") {
		t.Errorf("SM request: %v\n%s", err, msg)
	}
	for _, bad := range []struct {
		code string
		perf *CancelPerformer
	}{{"0099", nil}, {"", nil}, {"0001", &CancelPerformer{}}, {"0001", &CancelPerformer{ODS: "FZZ99"}}} {
		if _, err := SubsequentCancelResponse(req, bad.code, bad.perf, CancelReplyEnds{}, core.FixedEnv()); err == nil {
			t.Errorf("code %q performer %+v: no error", bad.code, bad.perf)
		}
	}
}

func TestCancelResponseMalformed(t *testing.T) {
	good, err := SubsequentCancelResponse(cancelFixture(t, "cancel_request_uk.xml"), "0001", &CancelPerformer{ODS: "FZZ99", Name: "PORXGATE TEST PHARMACY"}, CancelReplyEnds{}, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	const cr = "/PORX_IN050102UK32/ControlActEvent/subject/CancellationResponse"
	cases := []struct{ name, old, new, wantPath string }{
		{"typeCode AR", `typeCode="AA"`, `typeCode="AR"`, "/PORX_IN050102UK32/acknowledgement/@typeCode"},
		{"unknown code", `code="0001" displayName`, `code="0099" displayName`, cr + "/pertinentInformation3/pertinentResponse/value/@code"},
		{"code system", `codeSystem="2.16.840.1.113883.2.1.3.2.4.17.19"`, `codeSystem="1.2.3"`, cr + "/pertinentInformation3/pertinentResponse/value/@codeSystem"},
		{"subject typeCode", `<subject typeCode="SUBJ"`, `<subject typeCode="COMP"`, "/PORX_IN050102UK32/ControlActEvent/subject/@typeCode"},
		{"author without OP", `<author contextControlCode="OP" typeCode="AUT">`, `<author typeCode="AUT">`, cr + "/author/@contextControlCode"},
		{"request ref missing", `<pertinentCancellationRequestRef classCode="ACTN" moodCode="RQO">
            <id root="0E5D4C3B-2A19-4F08-8E7D-6C5B4A392817"/>
          </pertinentCancellationRequestRef>`, `<pertinentCancellationRequestRef classCode="ACTN" moodCode="RQO"/>`, cr + "/pertinentInformation4/pertinentCancellationRequestRef/id"},
		{"performer time flavor", `nullFlavor="UNK"`, `nullFlavor="NA"`, cr + "/performer/time/@nullFlavor"},
		{"wrapper element", `<processingCode code="P"/>`, `<processingCode code="P"/><extra/>`, "/PORX_IN050102UK32/extra"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.ReplaceAll(string(good), tc.old, tc.new)
			if in == string(good) {
				t.Fatal("the case changes nothing")
			}
			_, _, err := CancelResponseToFHIR([]byte(in), core.FixedEnv())
			if err == nil || !strings.HasPrefix(err.Error(), "PORX_IN050102UK32: "+tc.wantPath+":") {
				t.Errorf("error %v, want one at %s", err, tc.wantPath)
			}
		})
	}

	body, meta, err := CancelResponseToFHIR(good, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	fcases := []struct {
		name     string
		mutate   func(b map[string]any)
		wantPath string
	}{
		{"no status history", func(b map[string]any) {
			mr := entryOf(b, "MedicationRequest")
			mr["extension"] = mr["extension"].([]any)[1:]
		}, ".extension: missing mandatory extension " + ExtensionPrescriptionStatusHistory},
		{"unknown R-code", func(b map[string]any) {
			st := entryOf(b, "MedicationRequest")["extension"].([]any)[0].(map[string]any)["extension"].([]any)[0].(map[string]any)
			st["valueCoding"].(map[string]any)["code"] = "R-9999"
		}, ".extension(status).valueCoding.code"},
		{"no request id", func(b map[string]any) { delete(entryOf(b, "MessageHeader"), "response") }, "Bundle.entry[0].resource.response.identifier"},
		{"event", func(b map[string]any) {
			entryOf(b, "MessageHeader")["eventCoding"].(map[string]any)["code"] = "prescription-order-update"
		}, "Bundle.entry[0].resource.eventCoding.code"},
		{"subject", func(b map[string]any) {
			entryOf(b, "MedicationRequest")["subject"] = map[string]any{"reference": "urn:uuid:gone"}
		}, "Bundle.entry[1].resource.subject.reference"},
	}
	for _, tc := range fcases {
		t.Run("fhir "+tc.name, func(t *testing.T) {
			_, err := CancelResponseToV3(mutateJSON(t, body, tc.mutate), meta, core.FixedEnv())
			if err == nil || !strings.HasPrefix(err.Error(), "PORX_IN050102UK32: ") || !strings.Contains(err.Error(), tc.wantPath) {
				t.Errorf("error %v, want one naming %s", err, tc.wantPath)
			}
		})
	}
}

func TestCancelResponseRoundTripKeepsEverything(t *testing.T) {
	good, err := SubsequentCancelResponse(cancelFixture(t, "cancel_request_uk.xml"), "0004",
		&CancelPerformer{ODS: "FZZ99", Name: "PORXGATE TEST PHARMACY", Time: time.Date(2024, 6, 9, 10, 11, 12, 0, time.UTC)}, CancelReplyEnds{}, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	body, meta, err := CancelResponseToFHIR(good, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	env := core.FixedEnv()
	env.Now = env.Now.Add(time.Hour)
	back, err := CancelResponseToV3(body, meta, env)
	if err != nil {
		t.Fatal(err)
	}
	if !core.SameElement(normalizedV3(mustRoot(t, good)), normalizedV3(mustRoot(t, back)), nil) {
		t.Errorf("round trip changed the message:\n%s\n---\n%s", good, back)
	}
	// Without porxgate's extension the EPS-shaped Bundle still gives a
	// cancel response: ids from the Bundle, times from env.
	plain := mutateJSON(t, body, func(b map[string]any) { delete(entryOf(b, "MessageHeader"), "extension") })
	out, err := CancelResponseToV3(plain, core.Meta{}, env)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "<PORX_IN050101UK31 ") || !strings.Contains(string(out), `typeCode="AE"`) {
		t.Errorf("plain bundle:\n%s", out)
	}
	env.Family = v3.FamilySM
	if out, err = CancelResponseToV3(plain, core.Meta{}, env); err != nil || !strings.Contains(string(out), "<PORX_IN050101SM31 ") {
		t.Errorf("SM family: %v", err)
	}
}

func mustRoot(t *testing.T, msg []byte) *etree.Element {
	t.Helper()
	_, root, err := v3.Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	return root.El
}

// TestCancelResponseFromEPSPerformerInEPSShape: the dispenser of an EPS
// cancellation response in the EPS API's own shape (translation/response:
// a person's code under the system its shape picks, professional-code for
// an SDS user id, an NHSBSA spurious code on the PractitionerRole only) is
// written with its code and root as Spine had them. Before, an SDS user id
// came back under the professional code root, and a DIN-shaped or
// spurious code made the whole reply fail ("expected exactly one
// professional code").
func TestCancelResponseFromEPSPerformerInEPSShape(t *testing.T) {
	req := cancelFixture(t, "cancel_request_uk.xml")
	answer := cancelFixture(t, "eps_answer_pending.json")
	tests := []struct {
		name, system, code string
		onRole             bool
		want               string
	}{
		{"SDS user id as professional-code", fhir.SystemProfessionalCode, "700012312312", false, `<id root="1.2.826.0.1285.0.2.0.65" extension="700012312312"/>`},
		{"DIN-shaped code", fhir.SystemDIN, "812345", false, `<id root="1.2.826.0.1285.0.2.1.54" extension="812345"/>`},
		{"GPhC number as professional-code", fhir.SystemProfessionalCode, "2012345", false, `<id root="1.2.826.0.1285.0.2.1.54" extension="2012345"/>`},
		{"spurious code on the role", core.SystemSpuriousCode, "612345", true, `<id root="1.2.826.0.1285.0.2.1.54" extension="612345"/>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b map[string]any
			if err := json.Unmarshal(answer, &b); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range b["entry"].([]any) {
				r := e.(map[string]any)["resource"].(map[string]any)
				ids, _ := r["identifier"].([]any)
				for _, id := range ids {
					if id.(map[string]any)["value"] == "700012312312" {
						found = true
						if tc.onRole {
							delete(r, "identifier")
						} else {
							id.(map[string]any)["system"], id.(map[string]any)["value"] = tc.system, tc.code
						}
					}
				}
				if tc.onRole && r["resourceType"] == "PractitionerRole" {
					ids := r["identifier"].([]any)
					if ids[0].(map[string]any)["value"] == "700099900011" { // the dispenser's role
						r["identifier"] = append(ids, map[string]any{"system": tc.system, "value": tc.code})
					}
				}
			}
			if !found {
				t.Fatal("the fixture's dispenser is not there")
			}
			shaped, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			msg, _, err := CancelResponseFromEPS(req, shaped, 200, CancelReplyEnds{}, core.FixedEnv())
			if err != nil {
				t.Fatalf("EPS-shaped answer refused: %v", err)
			}
			perf := payloadOf(t, msg, "ControlActEvent", "subject", "CancellationResponse", "performer")
			var buf strings.Builder
			perf.WriteTo(&buf, &etree.WriteSettings{})
			if !strings.Contains(buf.String(), tc.want) {
				t.Errorf("performer %s; want %s", buf.String(), tc.want)
			}
		})
	}
}

// TestAnswerPlaces: each party of a cancellation response gets its place
// among the parties sharing its role, in the order the EPS API adds their
// codes (cancel requester, original author, dispenser).
func TestAnswerPlaces(t *testing.T) {
	a, b := &fhir.PractitionerRole{}, &fhir.PractitionerRole{}
	tests := []struct {
		name  string
		roles []*fhir.PractitionerRole
		want  []answerPlace
	}{
		{"each its own", []*fhir.PractitionerRole{a, b, nil}, []answerPlace{{0, 1}, {0, 1}, {}}},
		{"requester is the author", []*fhir.PractitionerRole{a, a, b}, []answerPlace{{0, 2}, {1, 2}, {0, 1}}},
		{"dispenser is the author", []*fhir.PractitionerRole{a, b, b}, []answerPlace{{0, 1}, {0, 2}, {1, 2}}},
		{"one role for all three", []*fhir.PractitionerRole{a, a, a}, []answerPlace{{0, 3}, {1, 3}, {2, 3}}},
	}
	for _, tc := range tests {
		got := answerPlaces(tc.roles...)
		for i, p := range got {
			w := tc.want[i]
			if p == nil && (w != answerPlace{}) || p != nil && *p != w {
				t.Errorf("%s: party %d = %+v, want %+v", tc.name, i, p, w)
			}
		}
	}
}

// TestPerformerPlace: the dispenser's place agrees with answerPlaces for
// every way its role can be shared.
func TestPerformerPlace(t *testing.T) {
	ref := func(s string) *fhir.Reference { return &fhir.Reference{Reference: s} }
	mr := func(requester, author string) *fhir.MedicationRequest {
		m := &fhir.MedicationRequest{Requester: ref(author)}
		m.Extension = []fhir.Extension{{URL: core.ExtensionResponsiblePractitioner, ValueReference: ref(requester)}}
		return m
	}
	a, b, c := &fhir.PractitionerRole{}, &fhir.PractitionerRole{}, &fhir.PractitionerRole{}
	roles := map[string]*fhir.PractitionerRole{"a": a, "b": b, "c": c}
	for _, tc := range []struct{ requester, author, performer string }{
		{"a", "b", "c"}, {"a", "a", "c"}, {"a", "b", "a"}, {"a", "b", "b"}, {"a", "a", "a"},
	} {
		want := answerPlaces(roles[tc.requester], roles[tc.author], roles[tc.performer])[2]
		if got := performerPlace(mr(tc.requester, tc.author), ref(tc.performer)); *got != *want {
			t.Errorf("requester %s, author %s, performer %s: %+v, want %+v", tc.requester, tc.author, tc.performer, *got, *want)
		}
	}
}
