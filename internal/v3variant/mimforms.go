package v3variant

import "github.com/beevik/etree"

// The kinds of this file leave out what the MIM 4.2.00 message models make
// optional and the corpus always shows (nhsdigitalmait/SPINE_schema
// omvt/Schemas/*_4200.xsd, minOccurs="0").

// mimFormKinds returns the kinds of message-model variation, in a fixed
// order.
func mimFormKinds() []Kind {
	return []Kind{
		{Name: "optional-part-absent", Meaningful: true, Doc: "an optional part of a message model left out: a cancel response's line item ref (pertinentInformation1 0..1, the answer to the cancellation of a whole prescription), responsible party (0..1) or response code (pertinentResponse/code, CV 0..1; PORX_MT135201UK31); a release rejection's reason (pertinentInformation 0..1), its code or its value (CV 0..1; PORX_MT121201UK30)",
			sites: optionalParts, apply: func(_ *draft, el *etree.Element) bool { return el.Parent().RemoveChild(el) != nil }},
		{Name: "name-parts-reordered", Doc: "a person's name (PN) with its family part first: the datatype's parts come in any order",
			sites: personNames, apply: func(_ *draft, el *etree.Element) bool { return familyFirst(el) }},
		{Name: "care-provision-code-absent", Doc: "a patient's care provision without its code (patientCareProvision/code, CV 0..1 in COCT_MT050012UK05, the fixed 1 when given; Spine's schematron does not check it)",
			sites: careProvisionCodes, apply: func(_ *draft, el *etree.Element) bool { return el.Parent().RemoveChild(el) != nil }},
	}
}

// careProvisionCodes are the code children of the patients' care
// provisions.
func careProvisionCodes(root *etree.Element) []*etree.Element {
	var out []*etree.Element
	walk(root, func(e *etree.Element) {
		if p := e.Parent(); e.Tag == "code" && p != nil && p.Tag == "patientCareProvision" {
			out = append(out, e)
		}
	})
	return out
}

// personNames are the names (PN) with a given and a family part whose
// family part is not first.
func personNames(root *etree.Element) []*etree.Element {
	var out []*etree.Element
	walk(root, func(e *etree.Element) {
		if e.Tag != "name" || e.SelectElement("given") == nil || e.SelectElement("family") == nil {
			return
		}
		if kids := e.ChildElements(); kids[0].Tag != "family" {
			out = append(out, e)
		}
	})
	return out
}

// familyFirst moves the first family part of a name before its other
// parts.
func familyFirst(name *etree.Element) bool {
	fam := name.SelectElement("family")
	kids := name.ChildElements()
	if fam == nil || len(kids) == 0 || kids[0] == fam {
		return false
	}
	at := kids[0].Index()
	name.RemoveChild(fam)
	name.InsertChildAt(at, fam)
	return true
}

// optionalParts are the elements optionalPart names, each at the place the
// message model makes it optional.
func optionalParts(root *etree.Element) []*etree.Element {
	var out []*etree.Element
	walk(root, func(e *etree.Element) {
		p := e.Parent()
		if p == nil {
			return
		}
		if optionalPart(p.Tag, e.Tag) {
			out = append(out, e)
		}
	})
	return out
}

// optionalPart tells the optional parts by parent and element.
func optionalPart(parent, tag string) bool {
	switch parent + "/" + tag {
	case "CancellationResponse/responsibleParty", "CancellationResponse/pertinentInformation1", "pertinentResponse/code",
		"PrescriptionReleaseReject/pertinentInformation", "pertinentRejectionReason/code", "pertinentRejectionReason/value":
		return true
	}
	return false
}
