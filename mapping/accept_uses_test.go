package mapping_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/conformance"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestUsesSpineAccepts writes into a Parent Prescription (the patient's
// address and name, the prescriber's telecom) and a Dispense Claim
// Information (the dispenser's telecom, the pharmacy's address) every use
// code the MIM 4.2.00 datatypes allow there (a set of codes:
// set_cs_TelecommunicationAddressUse, set_cs_PostalAddressUse,
// set_cs_EntityNameUse in nhsdigitalmait/SPINE_schema dt/datatypes.xsd),
// alone and as sets. Each is taken, its FHIR use is the one the EPS API
// takes for it (none where it takes none), and the message comes back from
// FHIR as sent (Env.KeepV3). A code outside the value set is refused,
// naming the element, with the vocabulary rule, as Spine's schema refuses
// it.
func TestUsesSpineAccepts(t *testing.T) {
	claim := maptest.Testdata(t, "claim/claim-exemption-evidence.xml")
	rx := ownPrescriptionV3(t)
	const (
		patientAddr   = `<addr use="H">`
		patientName   = `<name use="L">`
		authorTelecom = `<telecom use="WP" value="tel:01823333444"/>`
		dispTelecom   = `<telecom use="WP" value="tel:01632960123" />`
		pharmacyAddr  = `<addr use="WP">`
	)
	type find func(any) (string, bool)
	telecom := func(number string) find {
		return func(m any) (string, bool) { return useOf(m, "value", number) }
	}
	address := func(postcode string) find {
		return func(m any) (string, bool) { return useOf(m, "postalCode", postcode) }
	}
	name := func(family string) find {
		return func(m any) (string, bool) { return useOf(m, "family", family) }
	}
	tests := []struct {
		msg      []byte
		from, to string
		find     find
		want     string // FHIR use; "" none
		refused  bool
	}{
		{rx, patientAddr, `<addr use="HP">`, address("TA1 1AA"), "home", false},
		{rx, patientAddr, `<addr use="HV">`, address("TA1 1AA"), "temp", false},
		{rx, patientAddr, `<addr use="PHYS">`, address("TA1 1AA"), "", false},
		{rx, patientAddr, `<addr use="BAD">`, address("TA1 1AA"), "", false},
		{rx, patientAddr, `<addr use="PST">`, address("TA1 1AA"), "billing", false},
		{rx, patientAddr, `<addr use="PHYS H">`, address("TA1 1AA"), "home", false},
		{rx, patientAddr, `<addr use="H PST">`, address("TA1 1AA"), "home", false},
		{rx, patientAddr, `<addr use="ABC">`, address("TA1 1AA"), "", false},
		{rx, patientAddr, `<addr use="EC">`, nil, "", true},
		{rx, patientAddr, `<addr use="H MC">`, nil, "", true},
		{rx, patientName, `<name use="L ABC">`, name("JONES"), "usual", false},
		{rx, patientName, `<name use="I">`, name("JONES"), "", false},
		{rx, patientName, `<name use="L X">`, nil, "", true},
		{rx, authorTelecom, `<telecom use="AS" value="tel:01823000001"/>`, telecom("01823000001"), "", false},
		{rx, authorTelecom, `<telecom use="EC" value="tel:01823000001"/>`, telecom("01823000001"), "", false},
		{rx, authorTelecom, `<telecom use="PG" value="tel:01823000001"/>`, telecom("01823000001"), "mobile", false},
		{rx, authorTelecom, `<telecom use="H" value="tel:01823000001"/>`, telecom("01823000001"), "home", false},
		{rx, authorTelecom, `<telecom use="WP H" value="tel:01823000001"/>`, telecom("01823000001"), "work", false},
		{rx, authorTelecom, `<telecom use="EC MC" value="tel:01823000001"/>`, telecom("01823000001"), "mobile", false},
		{rx, authorTelecom, `<telecom use="TMP" value="tel:01823000001"/>`, nil, "", true},
		{rx, authorTelecom, `<telecom use="WP PHYS" value="tel:01823000001"/>`, nil, "", true},
		{claim, dispTelecom, `<telecom use="AS" value="tel:01632960123" />`, telecom("01632960123"), "", false},
		{claim, dispTelecom, `<telecom use="EC" value="tel:01632960123" />`, telecom("01632960123"), "", false},
		{claim, dispTelecom, `<telecom use="WP MC" value="tel:01632960123" />`, telecom("01632960123"), "work", false},
		{claim, dispTelecom, `<telecom use="BAD" value="tel:01632960123" />`, nil, "", true},
		{claim, pharmacyAddr, `<addr use="PHYS">`, address("EX1 2AB"), "", false},
		{claim, pharmacyAddr, `<addr use="WP PST">`, address("EX1 2AB"), "work", false},
		{claim, pharmacyAddr, `<addr use="TMP">`, address("EX1 2AB"), "temp", false},
		{claim, pharmacyAddr, `<addr use="AS">`, nil, "", true},
	}
	reg := mapping.NewRegistry()
	for _, tt := range tests {
		_, root, err := v3.Parse(tt.msg)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(root.El.Tag+" "+tt.to, func(t *testing.T) {
			if !strings.Contains(string(tt.msg), tt.from) {
				t.Fatalf("the fixture no longer holds %q", tt.from)
			}
			variant := []byte(strings.Replace(string(tt.msg), tt.from, tt.to, 1))
			tr := reg.ByInteraction(root.El.Tag)
			env := variantEnv(variant)
			body, meta, err := tr.ToFHIR(variant, env)
			if tt.refused {
				if err == nil {
					t.Fatal("accepted what Spine's schema refuses")
				}
				if es := v3Errors(err); len(es) == 0 || !strings.Contains(es[0], "/@use") && !strings.Contains(es[0], "unhandled") ||
					!strings.Contains(es[0], "[MIM rule: vocabulary binding") {
					t.Errorf("refused as %v, want the element and the vocabulary rule", es)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatal(err)
			}
			got := findUses(v, tt.find)
			if len(got) == 0 {
				t.Fatalf("the element is not in the FHIR: %s", body)
			}
			for _, u := range got {
				if u != tt.want {
					t.Errorf("FHIR uses = %q, want each %q", got, tt.want)
					break
				}
			}
			comesBack(t, tr, body, meta, env, variant)
		})
	}
}

// useOf reports the use of m, a FHIR object, when its key holds want.
func useOf(m any, key, want string) (string, bool) {
	o, ok := m.(map[string]any)
	if !ok || o[key] != want {
		return "", false
	}
	u, _ := o["use"].(string)
	return u, true
}

// findUses walks a FHIR body for the objects f finds (porxgate's own
// extensions left out) and returns their uses.
func findUses(v any, f func(any) (string, bool)) []string {
	if u, ok := f(v); ok {
		return []string{u}
	}
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if u, _ := x["url"].(string); strings.Contains(u, "porxgate") {
			return nil
		}
		for _, e := range x {
			out = append(out, findUses(e, f)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, findUses(e, f)...)
		}
	}
	return out
}

// TestXSITypeSpineAccepts writes into the project's Dispense Claim
// Information an xsi:type naming each element's declared datatype (or one
// derived from it), as an XML schema validator such as Spine's takes it on
// any element: II on an identifier, CV on a coded value, PQ on a quantity,
// TS on a time, ST on an endorsement's text (the dispense notification's
// text values are varied by v3variant's xsi-type-text), BL on a charge
// payment. Each is taken, gives the claim's own FHIR, and comes back
// from FHIR as sent (Env.KeepV3). An xsi:type naming another datatype is
// refused, naming the attribute, with the datatype rule.
func TestXSITypeSpineAccepts(t *testing.T) {
	data := maptest.Testdata(t, "claim/claim-exemption-evidence.xml")
	const root = `<PORX_IN090101UK31 xmlns="urn:hl7-org:v3">`
	msg := strings.Replace(string(data), root,
		`<PORX_IN090101UK31 xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`, 1)
	tests := []struct {
		name, from, to, refused string
	}{
		{"II on the dispenser's id", `<id extension="7654321" root="1.2.826.0.1285.0.2.1.54" />`,
			`<id xsi:type="II" extension="7654321" root="1.2.826.0.1285.0.2.1.54" />`, ""},
		{"CV on the prescription status", `<value code="0006" `, `<value xsi:type="CV" code="0006" `, ""},
		{"CS (derived) on the prescription status", `<value code="0006" `, `<value xsi:type="CS" code="0006" `, ""},
		{"PQ on a quantity", `<quantity unit="1" value="32">`, `<quantity xsi:type="PQ" unit="1" value="32">`, ""},
		{"TS on the claim's time", `<effectiveTime value="20240401120000" />`, `<effectiveTime xsi:type="TS" value="20240401120000" />`, ""},
		// An endorsement's supporting text is an ST in the MIM.
		{"ST on an endorsement's text", `<text>Broken bulk: 21 from 100</text>`, `<text xsi:type="ST">Broken bulk: 21 from 100</text>`, ""},
		{"PQ on an endorsement's text", `<text>Broken bulk: 21 from 100</text>`, `<text xsi:type="PQ">Broken bulk: 21 from 100</text>`,
			`pertinentDispensingEndorsement/text/@xsi:type: "PQ" is not allowed by the element's datatype (want ST) [MIM rule: datatype]`},
		// A charge payment is a BL observation value.
		{"BL on a charge payment", `<value value="false" />`, `<value xsi:type="BL" value="false" />`, ""},
		{"PQ on a charge payment", `<value value="false" />`, `<value xsi:type="PQ" value="false" />`,
			`pertinentChargePayment/value/@xsi:type: "PQ" is not allowed by the element's datatype (want BL) [MIM rule: datatype]`},
		{"PQ on a coded value", `<value code="0006" `, `<value xsi:type="PQ" code="0006" `,
			`pertinentPrescriptionStatus/value/@xsi:type: "PQ" is not allowed by the element's datatype (want CD|CE|CV|CS) [MIM rule: datatype]`},
		{"IVL_TS on a TS", `<effectiveTime value="20240401120000" />`, `<effectiveTime xsi:type="IVL_TS" value="20240401120000" />`,
			`DispenseClaim/effectiveTime/@xsi:type: "IVL_TS" is not allowed by the element's datatype (want TS) [MIM rule: datatype]`},
	}
	tr := mapping.NewRegistry().ByInteraction("PORX_IN090101UK31")
	own, _, err := tr.ToFHIR(data, variantEnv(data))
	if err != nil {
		t.Fatal(err)
	}
	want := epsVisible(t, own)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(msg, tt.from) {
				t.Fatalf("the fixture no longer holds %q", tt.from)
			}
			variant := []byte(strings.Replace(msg, tt.from, tt.to, 1))
			env := variantEnv(variant)
			body, meta, err := tr.ToFHIR(variant, env)
			if tt.refused != "" {
				if es := v3Errors(err); len(es) == 0 || !strings.Contains(es[0], tt.refused) {
					t.Errorf("refused as %v, want %q", es, tt.refused)
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if got := epsVisible(t, body); got != want {
				t.Errorf("FHIR differs from the claim's own:\n got %s\nwant %s", got, want)
			}
			comesBack(t, tr, body, meta, env, variant)
		})
	}
}

// comesBack checks that the FHIR body (with meta) made of sent, under env,
// is written back to v3 as sent under the corpus comparison rules.
func comesBack(t *testing.T, tr *core.Translator, body []byte, meta core.Meta, env core.Env, sent []byte) {
	t.Helper()
	back, err := tr.ToV3(body, meta, env)
	if err != nil {
		t.Fatalf("FHIR → v3: %v", err)
	}
	if d, err := conformance.Compare(sent, back, conformance.Rules{FHIRRequest: sent}); err != nil || d != nil {
		t.Errorf("v3 → FHIR → v3 differs: %v %v", d, err)
	}
}
