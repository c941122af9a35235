package core

import (
	"bytes"
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
)

// Carrying what EPS FHIR cannot say. A legacy message may hold things the
// EPS FHIR profiles have no place for (an addressKey, an empty suffix, a
// code's originalText...). Where a part of it must nevertheless come back
// byte for byte (a signed prescription's parts, a release request's agent),
// v3 → FHIR keeps the part verbatim in ExtensionV3Original and FHIR → v3
// writes a carried part as it was.

// ExtensionV3Original carries a v3 element verbatim (sub-extensions: part,
// a valueCode naming the element; xml, a valueString with the element).
const ExtensionV3Original = PorxgateExtensionBase + "Extension-Porxgate-V3Original"

// V3OriginalExtension makes an ExtensionV3Original holding el. A prefix
// el or an element or attribute inside it uses, declared above el (an
// xsi:type, its xmlns:xsi on the message's root), is declared on the
// element kept, so that the part written back binds it.
func V3OriginalExtension(part string, el *etree.Element) fhir.Extension {
	var buf bytes.Buffer
	WithDeclarations(el).WriteTo(&buf, &etree.WriteSettings{})
	p, x := part, buf.String()
	return fhir.Extension{URL: ExtensionV3Original, Extension: []fhir.Extension{
		{URL: "part", ValueCode: &p},
		{URL: "xml", ValueString: &x},
	}}
}

// CarriedPart returns the element an ExtensionV3Original of the part
// carries, parsed, or nil when there is none.
func CarriedPart(c *BundleContext, exts []fhir.Extension, part, path string) *etree.Element {
	for i := range exts {
		e := &exts[i]
		if e.URL != ExtensionV3Original {
			continue
		}
		p := fhir.FindExtension(e.Extension, "part")
		if p == nil || p.ValueCode == nil || *p.ValueCode != part {
			continue
		}
		x := fhir.FindExtension(e.Extension, "xml")
		ep := Indexed(path+".extension", i)
		if x == nil || x.ValueString == nil || strings.TrimSpace(*x.ValueString) == "" {
			c.Fail(ep, "carried v3 %s has no xml", part)
			return nil
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromString(*x.ValueString); err != nil || doc.Root() == nil {
			c.Fail(ep, "carried v3 %s is not well-formed XML", part)
			return nil
		}
		return doc.Root()
	}
	return nil
}

// WithDeclarations returns el, or a copy of it declaring the namespace
// prefixes used in it (by an element or an attribute) that only an ancestor
// of el declares: what a part written on its own needs.
func WithDeclarations(el *etree.Element) *etree.Element {
	var used []string
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		if e.Space != "" && e.Space != "xmlns" && e.Space != "xml" {
			used = appendNew(used, e.Space)
		}
		for _, a := range e.Attr {
			if a.Space != "" && a.Space != "xmlns" && a.Space != "xml" {
				used = appendNew(used, a.Space)
			}
		}
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(el)
	out := el
	for _, prefix := range used {
		if el.SelectAttr("xmlns:"+prefix) != nil {
			continue
		}
		for anc := el.Parent(); anc != nil; anc = anc.Parent() {
			if d := anc.SelectAttr("xmlns:" + prefix); d != nil {
				if out == el {
					out = el.Copy()
				}
				out.CreateAttr("xmlns:"+prefix, d.Value)
				break
			}
		}
	}
	return out
}

// appendNew appends s to list unless it is there.
func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
