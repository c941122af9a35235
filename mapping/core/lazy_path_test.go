package core

import (
	"encoding/json"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestAtVariantsRefuseAtTheJoinedPath holds each helper that joins its
// path only for a problem (path, suffix) to the refusal of the helper it
// stands beside, given path+suffix joined: the same FHIRError, path and
// text, for every way each can refuse.
func TestAtVariantsRefuseAtTheJoinedPath(t *testing.T) {
	const path, suffix = "Bundle.entry[2].resource", ".thing[1]"
	org := &fhir.Organization{Base: fhir.Base{ResourceType: "Organization", ID: "org"}}
	bundle := &fhir.Bundle{ResourceType: "Bundle", Entry: []fhir.Entry{{FullURL: "urn:uuid:org", Resource: org}}}
	twoIDs := []fhir.Identifier{{System: "s", Value: "1"}, {System: "s", Value: "2"}}
	twoCodings := []fhir.CodeableConcept{{Coding: []fhir.Coding{{System: "s", Code: "a"}, {System: "s", Code: "b"}}}}
	twoExts := []fhir.Extension{{URL: "u"}, {URL: "u"}}
	noCoding := []fhir.Extension{{URL: "u"}}
	seq := json.Number("x")
	holder := &fhir.Base{}
	cases := []struct {
		name      string
		at, whole func(c *BundleContext)
	}{
		{"ResolveAt, no reference", func(c *BundleContext) { c.ResolveAt(nil, path, suffix) }, func(c *BundleContext) { c.Resolve(nil, path+suffix) }},
		{"ResolveAt, empty reference", func(c *BundleContext) { c.ResolveAt(&fhir.Reference{}, path, suffix) },
			func(c *BundleContext) { c.Resolve(&fhir.Reference{}, path+suffix) }},
		{"ResolveAt, unresolved", func(c *BundleContext) { c.ResolveAt(&fhir.Reference{Reference: "urn:uuid:x"}, path, suffix) },
			func(c *BundleContext) { c.Resolve(&fhir.Reference{Reference: "urn:uuid:x"}, path+suffix) }},
		{"IdentifierAt", func(c *BundleContext) { c.IdentifierAt(twoIDs, "s", path, suffix) }, func(c *BundleContext) { c.Identifier(twoIDs, "s", path+suffix) }},
		{"RequireIdentifierAt, none", func(c *BundleContext) { c.RequireIdentifierAt(nil, "s", path, suffix) },
			func(c *BundleContext) { c.RequireIdentifier(nil, "s", path+suffix) }},
		{"RequireIdentifierAt, two", func(c *BundleContext) { c.RequireIdentifierAt(twoIDs, "s", path, suffix) },
			func(c *BundleContext) { c.RequireIdentifier(twoIDs, "s", path+suffix) }},
		{"CodingAt", func(c *BundleContext) { c.CodingAt(twoCodings, "s", path, suffix) }, func(c *BundleContext) { c.Coding(twoCodings, "s", path+suffix) }},
		{"AddTelecomAt", func(c *BundleContext) {
			AddTelecomAt(c, v3.NewHolder("x"), fhir.ContactPoint{Use: "nope", Value: "1"}, path, ".telecom", 3)
		},
			func(c *BundleContext) {
				AddTelecom(c, v3.NewHolder("x"), fhir.ContactPoint{Use: "nope", Value: "1"}, Indexed(path+".telecom", 3))
			}},
		{"AddNameAt", func(c *BundleContext) {
			AddNameAt(c, v3.NewHolder("x"), "name", fhir.HumanName{Use: "nope"}, path, ".name", 0)
		},
			func(c *BundleContext) {
				AddName(c, v3.NewHolder("x"), "name", fhir.HumanName{Use: "nope"}, path+".name[0]")
			}},
		{"AddNameAt, no index", func(c *BundleContext) {
			AddNameAt(c, v3.NewHolder("x"), "name", fhir.HumanName{Use: "nope"}, path, ".name", -1)
		},
			func(c *BundleContext) {
				AddName(c, v3.NewHolder("x"), "name", fhir.HumanName{Use: "nope"}, path+".name")
			}},
		{"TSFromFHIRAt, empty", func(c *BundleContext) { TSFromFHIRAt(c, "", path, suffix) }, func(c *BundleContext) { TSFromFHIR(c, "", path+suffix) }},
		{"TSFromFHIRAt, bad", func(c *BundleContext) { TSFromFHIRAt(c, "20x", path, suffix) }, func(c *BundleContext) { TSFromFHIR(c, "20x", path+suffix) }},
		{"ExtCodingAt, two", func(c *BundleContext) { ExtCodingAt(c, twoExts, "u", path, suffix) }, func(c *BundleContext) { ExtCoding(c, twoExts, "u", path+suffix) }},
		{"ExtCodingAt, no coding", func(c *BundleContext) { ExtCodingAt(c, noCoding, "u", path, suffix) },
			func(c *BundleContext) { ExtCoding(c, noCoding, "u", path+suffix) }},
		{"AltQuantityFromFHIRAt, none", func(c *BundleContext) { AltQuantityFromFHIRAt(c, nil, path, suffix) },
			func(c *BundleContext) { AltQuantityFromFHIR(c, nil, path+suffix) }},
		{"AltQuantityFromFHIRAt, no value", func(c *BundleContext) { AltQuantityFromFHIRAt(c, &fhir.Quantity{Code: "1"}, path, suffix) },
			func(c *BundleContext) { AltQuantityFromFHIR(c, &fhir.Quantity{Code: "1"}, path+suffix) }},
		{"AltQuantityFromFHIRAt, bad value", func(c *BundleContext) { AltQuantityFromFHIRAt(c, &fhir.Quantity{Value: "1e", Code: "1"}, path, suffix) },
			func(c *BundleContext) { AltQuantityFromFHIR(c, &fhir.Quantity{Value: "1e", Code: "1"}, path+suffix) }},
		{"AltQuantityFromFHIRAt, no unit", func(c *BundleContext) { AltQuantityFromFHIRAt(c, &fhir.Quantity{Value: "1"}, path, suffix) },
			func(c *BundleContext) { AltQuantityFromFHIR(c, &fhir.Quantity{Value: "1"}, path+suffix) }},
		{"ResolveAgentAt, contained", func(c *BundleContext) { ResolveAgentAt(c, &fhir.Reference{Reference: "#x"}, holder, path, suffix) },
			func(c *BundleContext) { ResolveAgent(c, &fhir.Reference{Reference: "#x"}, holder, path+suffix) }},
		{"ResolveAgentAt, bundle", func(c *BundleContext) {
			ResolveAgentAt(c, &fhir.Reference{Reference: "urn:uuid:x"}, holder, path, suffix)
		},
			func(c *BundleContext) { ResolveAgent(c, &fhir.Reference{Reference: "urn:uuid:x"}, holder, path+suffix) }},
		{"DosageTextAt, none", func(c *BundleContext) { DosageTextAt(c, nil, path, suffix) }, func(c *BundleContext) { DosageText(c, nil, path+suffix) }},
		{"DosageTextAt, bad sequence", func(c *BundleContext) {
			DosageTextAt(c, []fhir.Dosage{{Sequence: &seq}, {Sequence: &seq}}, path, suffix)
		},
			func(c *BundleContext) { DosageText(c, []fhir.Dosage{{Sequence: &seq}, {Sequence: &seq}}, path+suffix) }},
	}
	for _, tc := range cases {
		at, whole := NewBundleContext(bundle, "PORX_IN080101UK31"), NewBundleContext(bundle, "PORX_IN080101UK31")
		tc.at(at)
		tc.whole(whole)
		if at.Err() == nil || whole.Err() == nil || at.Err().Error() != whole.Err().Error() {
			t.Errorf("%s: %v, want %v (and a refusal)", tc.name, at.Err(), whole.Err())
		}
	}
	// And a resolved reference is no refusal.
	c := NewBundleContext(bundle, "PORX_IN080101UK31")
	if r := c.ResolveAt(&fhir.Reference{Reference: "urn:uuid:org"}, path, suffix); r != org || c.Err() != nil {
		t.Errorf("ResolveAt of an entry: %v, %v", r, c.Err())
	}
	if c.Path(org) != "Bundle.entry[0].resource" || c.Path(&fhir.Organization{Base: fhir.Base{ResourceType: "Organization"}}) != "Organization" || c.Path(nil) != "Bundle" {
		t.Errorf("Path: %q, %q, %q", c.Path(org), c.Path(&fhir.Organization{}), c.Path(nil))
	}
}
