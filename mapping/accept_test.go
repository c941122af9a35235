package mapping_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/conformance"
	"github.com/porxgate/porxgate/mapping/maptest"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestAcceptsWhatSpineAccepts writes, into the project's own Dispense Claim
// Information, each variation of the 2018 claim the issue reports Spine
// accepted and porxgate refused (seperatableInd true, determinerCode
// INSTANCE, originalText and translation inside a coded value and a
// quantity, another identifier root for the author), a displayName on the
// dispenser's job role code, the dispenser's person as agentPersonSDS (the
// CMET's other choice), an organisation without its optional name (the
// 2017 prescription's refusal) or type code, one at a time and all
// together, and in the hl7: prefix form.
// Each must be accepted, translate to the FHIR of the claim as porxgate
// wrote it (porxgate's own extensions aside), and come back from FHIR as
// it was sent (Env.KeepV3).
func TestAcceptsWhatSpineAccepts(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "claim", "claim-exemption-evidence.xml"))
	if err != nil {
		t.Fatal(err)
	}
	msg := string(data)
	// changesFHIR marks an edit whose FHIR rightly differs from the claim's
	// own (an organisation without a name has none in FHIR either).
	edits := []struct {
		name, from, to string
		changesFHIR    bool
	}{
		{"seperatableInd true", `<seperatableInd value="false" />
                  <suppliedLineItemQuantity`, `<seperatableInd value="true" />
                  <suppliedLineItemQuantity`, false},
		{"determinerCode INSTANCE", `<manufacturedSuppliedMaterial classCode="MMAT" determinerCode="KIND">`,
			`<manufacturedSuppliedMaterial classCode="MMAT" determinerCode="INSTANCE">`, false},
		{"originalText and translation in a coded value",
			`<code code="322236009" codeSystem="2.16.840.1.113883.2.1.3.2.4.15" displayName="Paracetamol 500mg tablets" />`,
			`<code code="322236009" codeSystem="2.16.840.1.113883.2.1.3.2.4.15" displayName="Paracetamol 500mg tablets"><originalText>PARACETAMOL 500MG TAB</originalText><translation code="0012345" codeSystem="2.16.840.1.113883.2.1.3.2.4.99" displayName="PIP code"/></code>`, false},
		{"translation in a quantity",
			`<translation code="428673006" codeSystem="2.16.840.1.113883.2.1.3.2.4.15" displayName="tablet" value="32" />
                    </quantity>`,
			`<translation code="428673006" codeSystem="2.16.840.1.113883.2.1.3.2.4.15" displayName="tablet" value="32"><originalText>tabs</originalText></translation>
                      <translation code="{tbl}" codeSystem="2.16.840.1.113883.6.8" value="32" />
                    </quantity>`, false},
		{"SDS user id root for the dispenser", `<id extension="7654321" root="1.2.826.0.1285.0.2.1.54" />`,
			`<id extension="7654321" root="1.2.826.0.1285.0.2.0.65" />`, false},
		// The dispenser's job role code is a CV in the CMET
		// (UKCT_MT120201UK03), so its displayName is allowed.
		{"displayName on the dispenser's job role code", `<code code="S0030:G0100:R0620" codeSystem="1.2.826.0.1285.0.2.1.104" />`,
			`<code code="S0030:G0100:R0620" codeSystem="1.2.826.0.1285.0.2.1.104" displayName="Pharmacist" />`, false},
		// The CMET's other choice for the person: agentPersonSDS, by SDS
		// user id (no name, so the FHIR has no display).
		{"agentPersonSDS for the dispenser", `<agentPerson classCode="PSN" determinerCode="INSTANCE">
                  <id extension="7654321" root="1.2.826.0.1285.0.2.1.54" />
                  <name>Anita Pharmacist</name>
                </agentPerson>`, `<agentPersonSDS classCode="PSN" determinerCode="INSTANCE">
                  <id extension="7654321" root="1.2.826.0.1285.0.2.0.65" />
                </agentPersonSDS>`, true},
		{"organisation without a name", `<name>High Street Chemist</name>`, ``, true},
		// An organisation's type code is optional (code, CS 0..1, in
		// UKCT_MT120201UK03 and UKCT_MT120401UK02): absent or
		// null-flavoured, the type is not given, as 999 says.
		{"dispenser's organisation without a type code", `<code code="999" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.94" />
                  <name>High Street Chemist</name>`, `<name>High Street Chemist</name>`, false},
		{"recipient with a null-flavoured type code", `<code code="999" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.94" />
              <name>NHS BUSINESS SERVICES AUTHORITY</name>`, `<code nullFlavor="NI" />
              <name>NHS BUSINESS SERVICES AUTHORITY</name>`, false},
		// The recipient's organisation may describe itself and give a
		// telecom and an address (desc, telecom, addr 0..1 in
		// UKCT_MT120401UK02's Organization), which EPS FHIR has no place
		// for: read as absent, kept beside (Env.KeepV3). They were
		// refused as unexpected.
		{"recipient's organisation with a description, telecom and address", `<name>NHS BUSINESS SERVICES AUTHORITY</name>`,
			`<name>NHS BUSINESS SERVICES AUTHORITY</name><desc>Prescription pricing</desc><telecom use="WP" value="tel:03001234567" /><addr use="WP"><streetAddressLine>BRIDGE HOUSE</streetAddressLine><postalCode>NE1 6SN</postalCode></addr>`, false},
		// A null-flavoured telecom before the dispenser's real one (an
		// AgentPerson's telecom is 0..*): no number known, beside one that
		// is. It is left out, as an empty ContactPoint there would be the
		// first, the one EPS writes back, and the real one lost. (The
		// pharmacy's organisation has one addr and one telecom at most,
		// 0..1 in the CMET: a second is refused, TestOrganizationOnceOnly.)
		{"null-flavoured telecom before the dispenser's", `<telecom use="WP" value="tel:01632960123" />`,
			`<telecom nullFlavor="NI" /><telecom use="WP" value="tel:01632960123" />`, false},
		{"comment and processing instruction", `<DispenseClaim `, `<!-- from the pharmacy system --><?pms build="7"?><DispenseClaim `, false},
		{"CR LF line ends", "\n", "\r\n", false},
	}
	reg := mapping.NewRegistry()
	tr := reg.ByInteraction("PORX_IN090101UK31")
	env := variantEnv(data)
	own, _, err := tr.ToFHIR(data, env)
	if err != nil {
		t.Fatal(err)
	}
	want := epsVisible(t, own)
	check := func(t *testing.T, variant string, sameFHIR bool) {
		t.Helper()
		env := variantEnv([]byte(variant))
		body, meta, err := tr.ToFHIR([]byte(variant), env)
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		if got := epsVisible(t, body); sameFHIR && got != want {
			t.Errorf("FHIR differs from the claim's own:\n got %s\nwant %s", got, want)
		}
		back, err := tr.ToV3(body, meta, env)
		if err != nil {
			t.Fatalf("FHIR → v3: %v", err)
		}
		if d, err := conformance.Compare([]byte(variant), back, conformance.Rules{FHIRRequest: []byte(variant)}); err != nil || d != nil {
			t.Errorf("v3 → FHIR → v3 differs: %v %v", d, err)
		}
	}
	all, allSame := msg, true
	for _, e := range edits {
		if !strings.Contains(msg, e.from) {
			t.Fatalf("%s: the fixture no longer holds %q", e.name, e.from)
		}
		t.Run(e.name, func(t *testing.T) { check(t, strings.Replace(msg, e.from, e.to, 1), !e.changesFHIR) })
		all, allSame = strings.Replace(all, e.from, e.to, 1), allSame && !e.changesFHIR
	}
	t.Run("all together", func(t *testing.T) { check(t, all, allSame) })
	prefixed := strings.NewReplacer("</", "</hl7:", "<?", "<?", "<!--", "<!--", "<", "<hl7:").Replace(msg)
	prefixed = strings.Replace(prefixed, `xmlns="urn:hl7-org:v3"`, `xmlns:hl7="urn:hl7-org:v3"`, 1)
	prefixed = strings.Replace(prefixed, "<hl7:?xml", "<?xml", 1)
	t.Run("hl7 prefix", func(t *testing.T) { check(t, prefixed, true) })
}

// TestRefusalsStillNameThePlace checks that what Spine refuses is still
// refused, each refusal of a message reported with its path and MIM rule.
func TestRefusalsStillNameThePlace(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "claim", "claim-exemption-evidence.xml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), `determinerCode="KIND"`, `determinerCode="SOME"`, 1)
	bad = strings.Replace(bad, `<seperatableInd value="false" />`, `<seperatableInd value="maybe" />`, 1)
	bad = strings.Replace(bad, `<quantity unit="1" value="32">`, `<quantity unit="1" value="thirty-two">`, 1)
	bad = strings.Replace(bad, `<id root="D1000000-0000-4000-8000-000000000001" />`, `<id root="D1000000-0000-4000-8000-000000000001" displayable="yes" />`, 1)
	tr := mapping.NewRegistry().ByInteraction("PORX_IN090101UK31")
	_, _, err = tr.ToFHIR([]byte(bad), variantEnv(data))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`manufacturedSuppliedMaterial: attribute determinerCode="SOME" not supported (want INSTANCE|KIND) [MIM rule: fixed value]`,
		`seperatableInd: attribute value="maybe" not supported (want true|false) [MIM rule: fixed value]`,
		`quantity: "thirty-two" is not a decimal number [MIM rule: datatype]`,
		`DispenseClaim/id/@displayable: "yes" is not allowed by the element's datatype (want true|false) [MIM rule: datatype]`,
	} {
		found := false
		for _, e := range v3Errors(err) {
			found = found || strings.Contains(e, want)
		}
		if !found {
			t.Errorf("no refusal %q in %v", want, v3Errors(err))
		}
	}
}

// v3Errors lists the refusals of err as strings.
func v3Errors(err error) []string {
	var out []string
	for _, e := range v3.Errors(err) {
		out = append(out, e.Error())
	}
	return out
}

// TestDecimalFormsAccepted: a dispense notification whose quantities are
// written in the decimal forms the MIM's "real" allows and JSON does not
// ("+032.", ".5") is taken, and its FHIR and v3 carry the same numbers in
// JSON's form. Before, it was refused as "not a decimal number".
func TestDecimalFormsAccepted(t *testing.T) {
	raw := maptest.Testdata(t, "dispense/dn-brands-packs.xml")
	for _, tc := range []struct{ written, fhir, v3 string }{
		{"+032.", `"value":32`, `value="32"`},
		{"032.50", `"value":32.50`, `value="32.50"`},
	} {
		msg := strings.ReplaceAll(string(raw), `value="32"`, `value="`+tc.written+`"`)
		payload, tag, err := conformance.ExtractPayload([]byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		canon, _, _ := v3.Canonical(tag)
		tr := mapping.NewRegistry().ByInteraction(canon)
		body, meta, err := tr.ToFHIR(payload, conformance.Env())
		if err != nil {
			t.Fatalf("%s refused: %v", tc.written, err)
		}
		if !strings.Contains(string(body), tc.fhir) {
			t.Errorf("%s: FHIR lacks %s", tc.written, tc.fhir)
		}
		out, err := tr.ToV3(body, meta, conformance.Env())
		if err != nil || !strings.Contains(string(out), tc.v3) {
			t.Errorf("%s: v3 back %v, lacks %s", tc.written, err, tc.v3)
		}
	}
}

// TestContextConductionEitherWay: every contextConductionInd may be true or
// false (the MIM's schemas type it bl, optional, with a default, fixing
// none), so a request of the project's own with each of them flipped is
// still taken. Before, the dispensing, cancel and acknowledgement readers
// refused the value the MIM does not default to.
func TestContextConductionEitherWay(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "*", "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	reg := mapping.NewRegistry()
	flip := strings.NewReplacer(`contextConductionInd="true"`, `contextConductionInd="false"`, `contextConductionInd="false"`, `contextConductionInd="true"`)
	tried := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		payload, tag, err := conformance.ExtractPayload(raw)
		if err != nil || !strings.Contains(string(payload), "contextConductionInd") {
			continue
		}
		canon, _, err := v3.Canonical(tag)
		tr := reg.ByInteraction(canon)
		if err != nil || tr == nil {
			continue
		}
		if _, _, err := tr.ToFHIR(payload, conformance.Env()); err != nil {
			continue // a fixture of a refusal
		}
		tried++
		if _, _, err := tr.ToFHIR([]byte(flip.Replace(string(payload))), conformance.Env()); err != nil {
			t.Errorf("%s with every contextConductionInd flipped: %v", filepath.Base(f), err)
		}
	}
	if tried < 10 {
		t.Fatalf("only %d fixtures tried", tried)
	}
}
