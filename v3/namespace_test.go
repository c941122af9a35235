package v3

import (
	"errors"
	"strings"
	"testing"
)

// TestParseUnprefixes checks that a message written with a prefix for the
// v3 namespace reads, element for element, as the default-namespace one,
// and that elements of other namespaces keep theirs.
func TestParseUnprefixes(t *testing.T) {
	plain := `<PORX_IN090101UK31 xmlns="urn:hl7-org:v3"><id root="A"/><ControlActEvent><subject><x code="1"/></subject></ControlActEvent><signatureText><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature></signatureText></PORX_IN090101UK31>`
	tests := []struct{ name, doc string }{
		{"hl7 prefix", `<hl7:PORX_IN090101UK31 xmlns:hl7="urn:hl7-org:v3"><hl7:id root="A"/><hl7:ControlActEvent><hl7:subject><hl7:x code="1"/></hl7:subject></hl7:ControlActEvent><hl7:signatureText><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature></hl7:signatureText></hl7:PORX_IN090101UK31>`},
		{"prefix declared twice", `<hl7:PORX_IN090101UK31 xmlns:hl7="urn:hl7-org:v3"><hl7:id root="A"/><v:ControlActEvent xmlns:v="urn:hl7-org:v3"><v:subject><hl7:x code="1"/></v:subject></v:ControlActEvent><hl7:signatureText><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature></hl7:signatureText></hl7:PORX_IN090101UK31>`},
		{"mixed, dsig prefixed", `<PORX_IN090101UK31 xmlns="urn:hl7-org:v3" xmlns:hl7="urn:hl7-org:v3"><hl7:id root="A"/><ControlActEvent><hl7:subject><x code="1"/></hl7:subject></ControlActEvent><signatureText><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo/></ds:Signature></signatureText></PORX_IN090101UK31>`},
	}
	_, want, err := Parse([]byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, err := Parse([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if d := CompareElements(want.El, got.El, Rules{}); d != nil {
				t.Fatalf("differs: %s", d)
			}
			for _, n := range []Node{got, got.Child("ControlActEvent").Child("subject").Child("x")} {
				if n.El.Space != "" || n.El.NamespaceURI() != Namespace {
					t.Errorf("%s: space %q namespace %q", n.Path(), n.El.Space, n.El.NamespaceURI())
				}
			}
			sig := got.Child("signatureText").El.ChildElements()[0]
			if sig.NamespaceURI() != "http://www.w3.org/2000/09/xmldsig#" {
				t.Errorf("Signature namespace %q", sig.NamespaceURI())
			}
			if strings.Contains(string(got.XML()), "hl7:") && !strings.Contains(tt.name, "dsig") {
				t.Errorf("a prefix is left: %s", got.XML())
			}
		})
	}
}

// TestReaderKeepsEveryProblem checks that a Reader reports every problem
// once per path, in the order met, each naming its MIM rule.
func TestReaderKeepsEveryProblem(t *testing.T) {
	r, root, err := Parse([]byte(`<PORX_IN090101UK31 xmlns="urn:hl7-org:v3"><a/></PORX_IN090101UK31>`))
	if err != nil {
		t.Fatal(err)
	}
	root.Child("id")
	root.Child("id") // the same path once
	root.Child("a").Attr("value")
	root.Child("a").Fail("%q is not a v3 timestamp", "x")
	err = r.Err()
	got := Errors(err)
	want := []struct{ path, rule string }{
		{"/PORX_IN090101UK31/id", RuleCardinality},
		{"/PORX_IN090101UK31/a/@value", RuleCardinality},
		{"/PORX_IN090101UK31/a", RuleDatatype},
	}
	if len(got) != len(want) {
		t.Fatalf("%d problems (%v), want %d", len(got), err, len(want))
	}
	for i, w := range want {
		if got[i].Path != w.path || got[i].rule() != w.rule || got[i].Interaction != "PORX_IN090101UK31" {
			t.Errorf("problem %d: %+v, want path %s rule %s", i, got[i], w.path, w.rule)
		}
		if !strings.Contains(got[i].Error(), "[MIM rule: "+w.rule+"]") {
			t.Errorf("problem %d: %q names no rule", i, got[i].Error())
		}
	}
	if !strings.HasSuffix(err.Error(), "(and 2 more)") {
		t.Errorf("ErrorList.Error() = %q", err.Error())
	}
	var e *Error
	if !errors.As(err, &e) || e.Path != "/PORX_IN090101UK31/id" {
		t.Errorf("errors.As finds %v, want the first problem", e)
	}
	for i := 0; i < 2*maxErrors; i++ {
		root.Child("a").Child("b" + strings.Repeat("x", i))
	}
	if n := len(Errors(r.Err())); n != maxErrors {
		t.Errorf("%d problems kept, want at most %d", n, maxErrors)
	}
}

// TestRuleOf checks the rule told from the problem messages the readers
// write.
func TestRuleOf(t *testing.T) {
	for msg, want := range map[string]string{
		"missing mandatory element":                          RuleCardinality,
		"element repeated":                                   RuleCardinality,
		"unexpected element (unknown here, or out of order)": RuleModel,
		`unknown code system "1.2" (want 2.16)`:              RuleVocabulary,
		`unknown identifier root "1.2" (want 2.16)`:          RuleIdentifier,
		`attribute classCode="X" not supported (want SPLY)`:  RuleFixed,
		`"2024-01" is not a v3 timestamp (YYYY[MM[DD...`:     RuleDatatype,
		`"abc" is not a decimal number`:                      RuleDatatype,
		"the prescription's author and its signature differ": RuleConstraint,
	} {
		if got := RuleOf(msg); got != want {
			t.Errorf("RuleOf(%q) = %q, want %q", msg, got, want)
		}
	}
}
