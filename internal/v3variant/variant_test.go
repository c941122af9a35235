package v3variant

import (
	"bytes"
	"strings"
	"testing"

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
          <pertinentSupplyInstructions><value>Two a day</value></pertinentSupplyInstructions>
        </pertinentInformation1>
        <author><AgentPerson><telecom value="tel:1"/><representedOrganization classCode="ORG" determinerCode="INSTANCE"><id root="r" extension="X"/><code code="999" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.94"/><name>Pharmacy</name></representedOrganization></AgentPerson>
        <signatureText><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo></SignedInfo><SignatureValue>AB
CD</SignatureValue></Signature></signatureText></author>
      </DispenseClaim>
    </subject>
  </ControlActEvent>
</PORX_IN090101UK31>`

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
