package v3variant

import (
	"bytes"
	"strings"
	"testing"

	"github.com/beevik/etree"

	v3 "github.com/porxgate/porxgate/v3"
)

const sample = `<?xml version="1.0" encoding="UTF-8"?>
<PORX_IN090101UK31 xmlns="urn:hl7-org:v3">
  <id root="A"/>
  <ControlActEvent>
    <subject>
      <DispenseClaim>
        <code code="1" codeSystem="2.16.840.1.113883.2.1.3.2.4.15" displayName="one"/>
        <pertinentInformation1>
          <seperatableInd value="false"/>
          <quantity unit="1" value="2"><translation value="2" code="3" codeSystem="2.16.840.1.113883.2.1.3.2.4.15"/></quantity>
          <pertinentSupplyInstructions><value>Two a day, don't crush</value></pertinentSupplyInstructions>
        </pertinentInformation1>
        <author><AgentPerson><telecom value="tel:1"/><agentPerson><name><prefix>Mr</prefix><given>Al</given><family>Smith</family></name></agentPerson><representedOrganization classCode="ORG" determinerCode="INSTANCE"><id root="r" extension="X"/><code code="999" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.94"/><name>Pharmacy</name></representedOrganization></AgentPerson>
        <signatureText><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo></SignedInfo><SignatureValue>AB
CD</SignatureValue></Signature></signatureText></author>
      </DispenseClaim>
    </subject>
  </ControlActEvent>
</PORX_IN090101UK31>`

// sampleCancelResponse holds the optional parts of a cancel response and
// its patient's care provision code.
const sampleCancelResponse = `<PORX_IN050101UK31 xmlns="urn:hl7-org:v3"><ControlActEvent><subject><CancellationResponse>` +
	`<recordTarget><Patient><patientPerson><playedProviderPatient><subjectOf><patientCareProvision>` +
	`<code code="1" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.37"/></patientCareProvision></subjectOf></playedProviderPatient></patientPerson></Patient></recordTarget>` +
	`<author><AgentPerson><id root="1.2.826.0.1285.0.2.0.67" extension="1"/></AgentPerson></author>` +
	`<responsibleParty><AgentPerson><id root="1.2.826.0.1285.0.2.0.67" extension="2"/></AgentPerson></responsibleParty>` +
	`<pertinentInformation1><seperatableInd value="true"/><pertinentLineItemRef><id root="A"/></pertinentLineItemRef></pertinentInformation1>` +
	`<pertinentInformation3><seperatableInd value="false"/><pertinentResponse><code code="CRR" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.30"/>` +
	`<value code="0001" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.19"/></pertinentResponse></pertinentInformation3>` +
	`</CancellationResponse></subject></ControlActEvent></PORX_IN050101UK31>`

// TestOf checks that every kind makes a variant of the sample, that each
// variant is well-formed and differs from the sample, that the signature
// keeps its bytes, and that the options bound the count.
func TestOf(t *testing.T) {
	single, err := Of([]byte(sample), Options{MaxSites: 1})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	sig := `<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo></SignedInfo><SignatureValue>AB
CD</SignatureValue></Signature>`
	cr, err := Of([]byte(sampleCancelResponse), Options{})
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string]int{"<responsibleParty>": 0, "<pertinentInformation1>": 0, "<code code=\"CRR\"": 0}
	for _, v := range cr {
		seen[v.Kinds[0]] = true
		if v.Kinds[0] != "optional-part-absent" {
			continue
		}
		for p := range parts {
			if !bytes.Contains(v.Data, []byte(p)) {
				parts[p]++
			}
		}
	}
	for p, n := range parts {
		if n != 1 {
			t.Errorf("optional-part-absent left %s out in %d variants, want 1", p, n)
		}
	}
	for _, v := range single {
		seen[v.Kinds[0]] = true
		if bytes.Equal(v.Data, []byte(sample)) {
			t.Errorf("%s: no change", v.Name)
		}
		if _, err := v3.ReadXML(v.Data); err != nil {
			t.Errorf("%s: not well-formed: %v", v.Name, err)
		}
		if !strings.Contains(string(v.Data), sig) {
			t.Errorf("%s: the signature lost its bytes:\n%s", v.Name, v.Data)
		}
	}
	for _, k := range Kinds() {
		if !seen[k.Name] {
			t.Errorf("kind %s made no variant", k.Name)
		}
	}
	all, err := Of([]byte(sample), Options{MaxSites: 0, Combined: true, Pairs: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) <= len(single) {
		t.Errorf("%d variants with every site, combined and pairs; %d with one site", len(all), len(single))
	}
	if _, err := Of([]byte("<a>"), Options{}); err == nil {
		t.Error("not well-formed input: no error")
	}
}

// TestMutate checks that Mutate is deterministic, leaves input that is not
// XML alone, and that the prefix kind gives a document in the v3
// namespace.
func TestMutate(t *testing.T) {
	a := Mutate([]byte(sample), []byte{0, 0, 5, 1})
	b := Mutate([]byte(sample), []byte{0, 0, 5, 1})
	if !bytes.Equal(a, b) {
		t.Error("not deterministic")
	}
	if !bytes.Contains(a, []byte("<hl7:PORX_IN090101UK31")) || !bytes.Contains(a, []byte("<hl7:originalText>")) {
		t.Errorf("prefix and originalText missing:\n%s", a)
	}
	if got := Mutate([]byte("not xml"), []byte{1, 2}); string(got) != "not xml" {
		t.Errorf("non-XML input changed: %q", got)
	}
	if got := Mutate([]byte(sample), nil); string(got) != sample {
		t.Error("no choice changed the input")
	}
}

// TestXMLFormsReadAsTheMessage checks that every variant of a kind of XML
// form that is not Meaningful reads as the very message under the corpus
// comparison rules (v3.Compare), and with v3.Parse (the readers' way in) as
// etree reads the message, and that special-chars gives its characters
// decoded.
func TestXMLFormsReadAsTheMessage(t *testing.T) {
	vs, err := Of([]byte(sample), Options{})
	if err != nil {
		t.Fatal(err)
	}
	forms := map[string]bool{}
	for _, k := range xmlFormKinds() {
		forms[k.Name] = !k.Meaningful && k.Name != "schema-location" // an attribute of the root, read as one
	}
	seen := 0
	for _, v := range vs {
		if len(v.Kinds) != 1 || !forms[v.Kinds[0]] {
			if v.Kinds[0] == "special-chars" {
				if _, root, err := v3.Parse(v.Data); err != nil {
					t.Errorf("%s: %v", v.Name, err)
				} else if !strings.Contains(xmlText(root.El), "& don't <mix> \"\u00e9\"") && !strings.Contains(xmlAttrs(root.El), "& '\u00e9' <> \"") {
					t.Errorf("%s: the characters do not read back:\n%s", v.Name, v.Data)
				}
			}
			continue
		}
		seen++
		d, err := v3.Compare([]byte(sample), v.Data, v3.Rules{FHIRRequest: []byte(sample)})
		if err != nil || d != nil {
			t.Errorf("%s: reads otherwise: %v %v\n%s", v.Name, d, err, v.Data)
		}
		if _, _, err := v3.Parse(v.Data); err != nil {
			t.Errorf("%s: v3.Parse: %v", v.Name, err)
		}
	}
	if seen < len(forms)-2 {
		t.Errorf("%d variants of XML forms, want one a kind at least", seen)
	}
}

// xmlText is the text of every element under e, joined.
func xmlText(e *etree.Element) string {
	s := e.Text()
	for _, c := range e.ChildElements() {
		s += "|" + xmlText(c)
	}
	return s
}

// xmlAttrs is the attribute values of every element under e, joined.
func xmlAttrs(e *etree.Element) string {
	var s string
	for _, a := range e.Attr {
		s += "|" + a.Value
	}
	for _, c := range e.ChildElements() {
		s += xmlAttrs(c)
	}
	return s
}
