package mapping_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/cancel"
	"github.com/porxgate/porxgate/mapping/conformance"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest/dispensetest"
	"github.com/porxgate/porxgate/mapping/prescribe"
	"github.com/porxgate/porxgate/mapping/release"
	v3 "github.com/porxgate/porxgate/v3"
)

// The cardinalities of the v3 readers against the MIM 4.2.00 schemas
// (nhsdigitalmait/SPINE_schema, TightenedSchemas): an element the MIM lets
// repeat is taken however many times it comes, read into FHIR where FHIR
// has room for it and never dropped unsaid; an element it allows once is
// refused when repeated, as Spine refuses it (dispense/errors_test.go,
// TestDispenseV3RepeatedOrganisation).

// cardinalityCase is one edit of a message of the project's own that the
// MIM allows.
type cardinalityCase struct {
	name     string
	fixture  string // under testdata/
	from, to string
	// fhirHas are texts the FHIR EPS reads must hold (what FHIR has room
	// for); with none, the FHIR EPS reads is the unedited message's.
	fhirHas []string
	// keepV3 marks an edit EPS FHIR has no room for and that porxgate keeps
	// beside the FHIR only (Env.KeepV3); without it the edit must come back
	// from the FHIR alone (carried in it).
	keepV3 bool
}

// TestCardinalityRepeatsTheMIMAllows: each edit, a repeat (or an optional
// element) the MIM allows, is accepted; the FHIR holds what it has room
// for; and the v3 comes back as sent. Before: a dispensing AgentPerson's
// addr (0..*) and its person's administrativeGenderCode (0..1) were refused
// as unexpected by the dispense notification, claim and return readers, as
// were the recipient AgentOrg's addr and telecom (0..* each), a cancel
// request's AgentPerson addr, its person's gender and its second
// cancellation reason (pertinentInformation 1..*, "element repeated"); a
// name's second family part (PN repeats its parts) was dropped from the
// FHIR (the dispenser's name display, the prescription's Patient).
func TestCardinalityRepeatsTheMIMAllows(t *testing.T) {
	const agentTel = `<telecom use="WP" value="tel:01632960123" />`
	const twoAddrs = `<addr use="WP"><streetAddressLine>1 Dispensary Row</streetAddressLine><postalCode>EX1 9ZZ</postalCode></addr>` +
		`<addr use="H"><streetAddressLine>2 Home Lane</streetAddressLine></addr>` + agentTel
	// UKCT_MT120401UK02's AgentOrg: addr 0..*, then telecom 0..*.
	const agentOrgContacts = `<addr use="WP"><streetAddressLine>Bridge House</streetAddressLine></addr><addr use="PST"><postalCode>NE15 8NY</postalCode></addr>` +
		`<telecom use="WP" value="tel:03001234567" /><telecom use="WP" value="mailto:claims@example.nhs.uk" />`
	const gender = `<name>Anita Pharmacist</name><administrativeGenderCode code="2" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.25" />`
	const cancelReason = `<pertinentInformation typeCode="PERT" contextConductionInd="true">
          <seperatableInd value="false"/>
          <pertinentCancellationReason classCode="OBS" moodCode="EVN">
            <code code="CR" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30"/>
            <text>At the Patient's request</text>
            <value code="0005" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.27"/>
          </pertinentCancellationReason>
        </pertinentInformation>`
	secondReason := cancelReason + "\n" + strings.NewReplacer(`<text>At the Patient's request</text>`, `<text>Change to medication treatment regime</text>`,
		`code="0005"`, `code="0003"`).Replace(cancelReason)
	for _, tc := range []cardinalityCase{
		{name: "dispense notification: dispenser with two addresses", fixture: "dispense/dn-amend.xml",
			from: agentTel, to: twoAddrs, keepV3: true},
		{name: "claim: dispenser with two addresses", fixture: "claim/claim-exemption-evidence.xml",
			from: agentTel, to: twoAddrs, keepV3: true},
		{name: "return: dispenser with two addresses", fixture: "return/return-erd.xml",
			from: agentTel, to: twoAddrs, keepV3: true},
		{name: "dispense notification: recipient AgentOrg with addresses and telecoms", fixture: "dispense/dn-amend.xml",
			from: `<AgentOrg classCode="AGNT">`, to: `<AgentOrg classCode="AGNT">` + agentOrgContacts, keepV3: true},
		{name: "claim: recipient AgentOrg with addresses and telecoms", fixture: "claim/claim-exemption-evidence.xml",
			from: `<AgentOrg classCode="AGNT">`, to: `<AgentOrg classCode="AGNT">` + agentOrgContacts, keepV3: true},
		{name: "dispense notification: dispenser's gender", fixture: "dispense/dn-amend.xml",
			from: `<name>Anita Pharmacist</name>`, to: gender, keepV3: true},
		{name: "dispense notification: dispenser's name with two family parts", fixture: "dispense/dn-amend.xml",
			from: `<name>Anita Pharmacist</name>`, to: `<name><given>Anita</given><family>Pharmacist</family><family>Jones</family></name>`,
			fhirHas: []string{`"display":"Anita Pharmacist Jones"`}, keepV3: true},
		{name: "cancel request: canceller with two addresses", fixture: "cancel/cancel_request_uk.xml",
			from: `<telecom use="WP" value="tel:01130000001"/>`,
			to:   `<addr use="WP"><streetAddressLine>1 Surgery Lane</streetAddressLine></addr><addr use="H"><postalCode>ZZ9 9ZZ</postalCode></addr><telecom use="WP" value="tel:01130000001"/>`},
		{name: "cancel request: canceller's gender", fixture: "cancel/cancel_request_uk.xml",
			from: `<given>JORDAN</given>
                <family>CANCELLER</family>
              </name>`, to: `<given>JORDAN</given>
                <family>CANCELLER</family>
              </name><administrativeGenderCode code="1" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.25"/>`},
		{name: "cancel request: two cancellation reasons", fixture: "cancel/cancel_request_uk.xml",
			from: cancelReason, to: secondReason},
		{name: "cancel request: patient's name with two family parts", fixture: "cancel/cancel_request_uk.xml",
			from: `<family>PORXGATE-TEST</family>`, to: `<family>PORXGATE</family><family>TEST</family>`,
			fhirHas: []string{`"family":"PORXGATE TEST"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "testdata", filepath.FromSlash(tc.fixture)))
			if err != nil {
				t.Fatal(err)
			}
			checkCardinalityEdit(t, raw, tc)
		})
	}
}

// checkCardinalityEdit applies tc to the message raw and checks it as
// TestCardinalityRepeatsTheMIMAllows says.
func checkCardinalityEdit(t *testing.T, raw []byte, tc cardinalityCase) {
	t.Helper()
	payload, tr := payloadTranslator(t, raw)
	// The wrapper's older versionCode (V3NPfIT3.0) is kept only beside the
	// FHIR; the edits are inside the payload.
	payload = []byte(strings.Replace(string(payload), `"V3NPfIT3.0"`, `"V3NPfIT4.2.00"`, 1))
	if !strings.Contains(string(payload), tc.from) {
		t.Fatalf("the fixture no longer holds %q", tc.from)
	}
	edited := []byte(strings.Replace(string(payload), tc.from, tc.to, 1))
	env := variantEnv(edited)
	env.KeepV3 = tc.keepV3
	own, _, err := tr.ToFHIR(payload, env)
	if err != nil {
		t.Fatal(err)
	}
	body, meta, err := tr.ToFHIR(edited, env)
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	got := epsVisible(t, body)
	if len(tc.fhirHas) == 0 && got != epsVisible(t, own) {
		t.Errorf("FHIR differs from the unedited message's:\n got %s\nwant %s", got, epsVisible(t, own))
	}
	for _, w := range tc.fhirHas {
		if !strings.Contains(got, w) {
			t.Errorf("FHIR lacks %s:\n%s", w, got)
		}
	}
	back, err := tr.ToV3(body, meta, env)
	if err != nil {
		t.Fatalf("FHIR → v3: %v", err)
	}
	if d, err := conformance.Compare(edited, back, conformance.Rules{FHIRRequest: edited}); err != nil || d != nil {
		t.Errorf("v3 → FHIR → v3 differs: %v %v", d, err)
	}
}

// payloadTranslator returns the HL7 payload of a message of the project's
// own and the registry's translator of its interaction.
func payloadTranslator(t *testing.T, raw []byte) ([]byte, *core.Translator) {
	t.Helper()
	payload, tag, err := conformance.ExtractPayload(raw)
	if err != nil {
		t.Fatal(err)
	}
	canon, _, err := v3.Canonical(tag)
	if err != nil {
		t.Fatal(err)
	}
	tr := mapping.NewRegistry().ByInteraction(canon)
	if tr == nil || tr.ToFHIR == nil {
		t.Fatalf("no v3 → FHIR translator for %s", canon)
	}
	return payload, tr
}

// TestCardinalityPrescriptionRepeats: a Parent Prescription (made by
// porxgate from its own FHIR) with repeats the MIM allows and FHIR has
// partly no room for: the FHIR holds what it can (the Patient's two family
// parts as one family, the first of the author organisation's two
// healthCareProviderLicenses as its partOf) and the prescription comes back
// whole from the FHIR alone (carried, carry.go), as a v3 dispenser must
// receive it. Before, the second family part was missing from the FHIR.
func TestCardinalityPrescriptionRepeats(t *testing.T) {
	rx := ownPrescriptionV3(t)
	msg := string(rx)
	family := between(t, msg, "<family>", "</family>")
	licence := between(t, msg, "<healthCareProviderLicense", "</healthCareProviderLicense>")
	otherLicence := strings.Replace(licence, `extension="`, `extension="Y0`, 1)
	dmd := regexp.MustCompile(`<translation [^>]*codeSystem="2\.16\.840\.1\.113883\.2\.1\.3\.2\.4\.15"[^>]*/>`).FindString(msg)
	qty := regexp.MustCompile(`value="([^"]*)"`).FindStringSubmatch(dmd)
	if dmd == "" || qty == nil {
		t.Fatalf("no dm+d quantity translation in\n%s", msg)
	}
	ucum := `<translation code="{tbl}" codeSystem="2.16.840.1.113883.6.8" value="` + qty[1] + `" />`
	for _, tc := range []cardinalityCase{
		{name: "patient's name with two family parts", from: "<family>" + family + "</family>",
			to: "<family>" + family + "</family><family>SECOND</family>", fhirHas: []string{`"family":"` + family + ` SECOND"`}},
		{name: "two provider licences", from: licence, to: licence + otherLicence, fhirHas: []string{`"partOf"`}},
		// PQ translation 0..*: a UCUM translation before the dm+d one.
		{name: "quantity with a UCUM translation first", from: dmd, to: ucum + dmd},
	} {
		t.Run(tc.name, func(t *testing.T) { checkCardinalityEdit(t, []byte(msg), tc) })
	}
}

// ownPrescriptionV3 is the Parent Prescription (UK family) porxgate writes
// from one of the project's own prescription-order Bundles.
func ownPrescriptionV3(t *testing.T) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("..", "testdata", "prescribe", "acute-nurse-controlled-drug-unsigned.json"))
	if err != nil {
		t.Fatal(err)
	}
	env := conformance.Env()
	env.Family = v3.FamilyUK
	rx, err := prescribe.PrescribeToV3(body, core.Meta{}, env)
	if err != nil {
		t.Fatal(err)
	}
	return rx
}

// between returns the text of s from the first from (inclusive when it
// opens an element, i.e. does not end with '>') to the next to.
func between(t *testing.T, s, from, to string) string {
	t.Helper()
	i := strings.Index(s, from)
	if i < 0 {
		t.Fatalf("no %s", from)
	}
	j := strings.Index(s[i:], to)
	if j < 0 {
		t.Fatalf("no %s after %s", to, from)
	}
	if strings.HasSuffix(from, ">") {
		return s[i+len(from) : i+j]
	}
	return s[i : i+j+len(to)]
}

// TestCardinalityCancelReasonsFHIR: a cancel request's reasons after the
// first travel, in order, in porxgate's ExtensionCancelV3 (EPS takes one
// statusReason coding); FHIR whose extra reason is not a code of the reason
// system is refused naming it.
func TestCardinalityCancelReasonsFHIR(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "cancel", "cancel_request_uk.xml"))
	if err != nil {
		t.Fatal(err)
	}
	reason := between(t, string(raw), `<pertinentInformation typeCode="PERT"`, "</pertinentInformation>")
	second := strings.NewReplacer(`code="0005"`, `code="0003"`, `<text>At the Patient's request</text>`, "").Replace(reason)
	third := strings.NewReplacer(`code="0005"`, `code="0004"`, `<text>At the Patient's request</text>`, "<text>Other</text>").Replace(reason)
	msg := strings.Replace(string(raw), reason, reason+second+third, 1)
	msg = strings.Replace(msg, `"V3NPfIT3.0"`, `"V3NPfIT4.2.00"`, 1)
	tr := mapping.NewRegistry().ByInteraction(v3.CancelRequest)
	env := variantEnv([]byte(msg))
	env.KeepV3 = false
	body, meta, err := tr.ToFHIR([]byte(msg), env)
	if err != nil {
		t.Fatal(err)
	}
	var b fhir.Bundle
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	mhs := fhir.EntriesOf[*fhir.MessageHeader](&b)
	if len(mhs) != 1 {
		t.Fatalf("%d MessageHeaders", len(mhs))
	}
	ext := fhir.FindExtension(mhs[0].Extension, "https://porxgate.github.io/fhir/StructureDefinition/Extension-porxgate-CancelV3")
	var codes []string
	if ext != nil {
		for _, s := range ext.Extension {
			if s.URL == "cancellationReason" && s.ValueCoding != nil {
				codes = append(codes, s.ValueCoding.Code+"/"+s.ValueCoding.Display)
			}
		}
	}
	if strings.Join(codes, ",") != "0003/,0004/Other" {
		t.Fatalf("extra reasons %v, want 0003, 0004 in order", codes)
	}
	back, err := tr.ToV3(body, meta, env)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := conformance.Compare([]byte(msg), back, conformance.Rules{FHIRRequest: []byte(msg)}); err != nil || d != nil {
		t.Errorf("v3 → FHIR → v3 differs: %v %v", d, err)
	}
	for i := range ext.Extension {
		if cd := ext.Extension[i].ValueCoding; cd != nil && cd.Code == "0003" {
			cd.System = "https://example.org/reasons"
		}
	}
	bad, err := fhir.Marshal(&b)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr.ToV3(bad, meta, env)
	if err == nil || !strings.Contains(err.Error(), "valueCoding.system") {
		t.Errorf("an extra reason of another system: got %v, want a refusal naming valueCoding.system", err)
	}
	// No reason at all is still refused (1..*).
	_, _, err = tr.ToFHIR([]byte(strings.Replace(string(raw), reason, "", 1)), env)
	if err == nil || !strings.Contains(err.Error(), "CancellationRequest/pertinentInformation: missing mandatory element") {
		t.Errorf("a cancel request without a reason: got %v, want pertinentInformation missing", err)
	}
}

// TestCardinalityPrescriptionOnceOnly: a Parent Prescription (made by
// porxgate from its own FHIR) with an element the MIM allows once written
// twice is refused, naming the second, as Spine refuses it. Before, the
// reader took the first (a second NHS number, treatment type, dosage
// instruction, medicine code or prescriber organisation went unread) and
// the carry gave the dispenser both.
func TestCardinalityPrescriptionOnceOnly(t *testing.T) {
	rx := ownPrescriptionV3(t)
	const pp = "ControlActEvent/subject/ParentPrescription"
	const p = pp + "/pertinentInformation1/pertinentPrescription"
	const li = p + "/pertinentInformation2/pertinentLineItem"
	const ap = p + "/author/AgentPerson"
	dispensetest.RunV3Repeats(t, prescribe.PrescribeToFHIR, string(rx), []string{
		pp + "/recordTarget", pp + "/recordTarget/Patient/id", pp + "/recordTarget/Patient/patientPerson/birthTime",
		pp + "/recordTarget/Patient/patientPerson/playedProviderPatient/subjectOf/patientCareProvision/responsibleParty/healthCareProvider/id",
		p + "/pertinentInformation5", p + "/pertinentInformation5/pertinentPrescriptionTreatmentType/value",
		p + "/pertinentInformation4/pertinentPrescriptionType/value", p + "/author", p + "/author/time",
		ap + "/agentPerson/id", ap + "/representedOrganization/id", ap + "/representedOrganization/name",
		ap + "/representedOrganization/healthCareProviderLicense/Organization/id",
		li + "/id", li + "/product/manufacturedProduct/manufacturedRequestedMaterial/code",
		li + "/component/lineItemQuantity/quantity", li + "/pertinentInformation2",
		li + "/pertinentInformation2/pertinentDosageInstructions/value",
		pp + "/pertinentInformation2/pertinentCareRecordElementCategory/component/actRef/id",
	})
}

// TestCardinalityCancelOnceOnly: a cancel request whose patient or
// canceller has an element the MIM allows once written twice (an NHS
// number, a birth time, the GP practice, a person's id or name, the
// organisation's ODS code or name) is refused, naming the second. Before,
// the reader took the first, EPS was sent it, and the layout kept both.
func TestCardinalityCancelOnceOnly(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "cancel", "cancel_request_uk.xml"))
	if err != nil {
		t.Fatal(err)
	}
	const cr = "ControlActEvent/subject/CancellationRequest"
	const pat = cr + "/recordTarget/Patient"
	dispensetest.RunV3Repeats(t, cancel.CancelToFHIR, string(raw), []string{
		pat + "/id", pat + "/patientPerson", pat + "/patientPerson/birthTime", pat + "/patientPerson/administrativeGenderCode",
		pat + "/patientPerson/playedProviderPatient/subjectOf/patientCareProvision/responsibleParty/healthCareProvider/id",
		cr + "/author/AgentPerson/id", cr + "/author/AgentPerson/agentPerson/id", cr + "/author/AgentPerson/agentPerson/name",
		cr + "/author/AgentPerson/representedOrganization/id", cr + "/responsibleParty/AgentPerson/representedOrganization/name",
	})
	// The same in a cancel response (PORX_IN050102, as Spine sends it),
	// the dispenser holding the prescription included.
	reply, err := cancel.SubsequentCancelResponse(raw, "0004", &cancel.CancelPerformer{ODS: "FZZ99", Name: "PHARMACY"},
		cancel.CancelReplyEnds{}, core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	const rs = "ControlActEvent/subject/CancellationResponse"
	dispensetest.RunV3Repeats(t, cancel.CancelResponseToFHIR, string(reply), []string{
		rs + "/recordTarget/Patient/id", rs + "/author/AgentPerson/representedOrganization/id",
		rs + "/responsibleParty/AgentPerson/agentPerson/name", rs + "/performer/AgentPerson/representedOrganization/name",
	})
}

// TestCardinalityReleaseRequestOnceOnly: a release request with an element
// the MIM allows once written twice (the request id, the dispenser's role
// id, person id, ODS code or name, a patient release request's prescription
// id) is refused, naming the second. Before, the first was read (EPS was
// asked to release to the first ODS code) and the carry kept both.
func TestCardinalityReleaseRequestOnceOnly(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "release", "nominated-release-request-060102.xml"))
	if err != nil {
		t.Fatal(err)
	}
	const rq = "ControlActEvent/subject/NominatedPrescriptionReleaseRequest"
	const ap = rq + "/author/AgentPerson"
	dispensetest.RunV3Repeats(t, release.ReleaseRequestToFHIR, string(raw), []string{
		rq + "/id", rq + "/author", ap + "/id", ap + "/agentPerson/id", ap + "/representedOrganization/id", ap + "/representedOrganization/name",
	})
	// A patient release request, made from the nominated one.
	patient := strings.NewReplacer("PORX_IN060102UK30", "PORX_IN132004UK30", "NominatedPrescriptionReleaseRequest", "PatientPrescriptionReleaseRequest").Replace(string(raw))
	patient = strings.Replace(patient, "</PatientPrescriptionReleaseRequest>", `<pertinentInformation typeCode="PERT" contextConductionInd="true">
          <seperatableInd value="false"/>
          <pertinentPrescriptionID classCode="OBS" moodCode="EVN">
            <code code="PID" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30"/>
            <value root="2.16.840.1.113883.2.1.3.2.4.18.8" extension="7D3E21-B86019-4A2C9F"/>
          </pertinentPrescriptionID>
        </pertinentInformation></PatientPrescriptionReleaseRequest>`, 1)
	if _, _, err := release.ReleaseRequestToFHIR([]byte(patient), core.FixedEnv()); err != nil {
		t.Fatalf("the patient release request made for the test is refused: %v", err)
	}
	const pr = "ControlActEvent/subject/PatientPrescriptionReleaseRequest"
	dispensetest.RunV3Repeats(t, release.ReleaseRequestToFHIR, patient, []string{
		pr + "/pertinentInformation", pr + "/pertinentInformation/pertinentPrescriptionID/value",
	})
}

// TestCardinalityWrapperOnceOnly: every interaction porxgate reads refuses
// a transmission wrapper or ControlActEvent with an element the MIM allows
// once written twice (a second message id, sender, receiver device,
// ControlActEvent author or subject), naming the second, and a third
// author1 (1..2), as Spine refuses them (v3.ReadWrapper). Before, the
// first was read and the rest dropped unsaid: a message with two senders
// was answered to the first.
func TestCardinalityWrapperOnceOnly(t *testing.T) {
	messages := map[string][]byte{"prescription (porxgate's own)": ownPrescriptionV3(t)}
	for _, f := range []string{
		"release/nominated-release-request-060102.xml", "release/patient-release-response-070103.xml",
		"cancel/cancel_request_uk.xml", "dispense/dn-full-two-items.xml", "claim/claim-exemption-evidence.xml",
		"claim/reimbursement-370101.xml", "claim/noclaim-460101.xml", "return/return-erd.xml",
		"withdraw/withdraw-erd.xml", "rebuild/rebuild-540101.xml",
	} {
		raw, err := os.ReadFile(filepath.Join("..", "testdata", filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		messages[f] = raw
	}
	for name, raw := range messages {
		t.Run(name, func(t *testing.T) {
			payload, tr := payloadTranslator(t, raw)
			if _, _, err := tr.ToFHIR(payload, dispensetest.Env()); err != nil {
				t.Fatalf("the message as it is refused: %v", err)
			}
			paths := []string{"id", "creationTime", "communicationFunctionSnd", "communicationFunctionRcv/device", "ControlActEvent/subject"}
			if strings.Contains(string(payload), "<author ") || strings.Contains(string(payload), "<hl7:author ") {
				if strings.Contains(string(payload), "AgentPersonSDS") {
					paths = append(paths, "ControlActEvent/author")
				}
			}
			dispensetest.RunV3Repeats(t, tr.ToFHIR, string(payload), paths)
			a1 := between(t, string(payload), "<author1", "</author1>")
			third := strings.Replace(string(payload), a1, a1+a1+a1, 1)
			if _, _, err := tr.ToFHIR([]byte(third), dispensetest.Env()); err == nil || !strings.Contains(err.Error(), "/ControlActEvent/author1[3]") {
				t.Errorf("three author1: got %v, want a refusal naming author1[3]", err)
			}
		})
	}
}
