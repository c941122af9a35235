package cancel

import (
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// The people of the cancellation payloads. A CancellationRequest's and a
// CancellationResponse's AgentPerson differ from a prescription's
// (parties.go): the person's id is the SDS user id (…0.65) where the
// practitioner has one, the telecoms come from the role or else the
// practitioner (never the organisation), and the represented organisation
// has no healthCareProviderLicense. The patient is written and read by
// AddPatient and ReadPatient unchanged.

// addCancelAgentPerson writes the AgentPerson of a cancellation payload for
// a PractitionerRole (writeCancelAgentPerson), then puts the role's v3
// layout (ExtensionV3Layout) in its place while the role still says what
// the layout says.
func addCancelAgentPerson(c *core.BundleContext, parent *etree.Element, role *fhir.PractitionerRole, rolePath string, answer *answerPlace) *etree.Element {
	el := writeCancelAgentPerson(c, parent, role, rolePath, answer)
	if c.Failed() {
		return el
	}
	return applyLayout(el, role.Extension, func(n v3.Node) *etree.Element {
		return regenAgentPerson(readCancelAgentPerson(n, core.CountingIDs()))
	})
}

// writeCancelAgentPerson writes <AgentPerson classCode="AGNT">: role profile
// id, job role code, telecoms, the person (SDS user id, else the
// professional code; name) and the represented organisation (the role's
// HealthcareService or Organization, without a provider licence), as the
// EPS API's cancellation translation does.
//
// answer, for the AgentPersons of the EPS API's FHIR of a cancellation
// response (nil for a request), is the person's place among the answer's
// parties sharing its role: the person's code is then read as the EPS API
// writes it (core.EPSAnswerPersonCode), and a twelve-digit code, which is
// only ever an SDS user id (the EPS API gives it no system of its own), is
// written under the SDS user id root again.
func writeCancelAgentPerson(c *core.BundleContext, parent *etree.Element, role *fhir.PractitionerRole, rolePath string, answer *answerPlace) *etree.Element {
	org, orgPath := core.RoleOrganization(c, role, rolePath)
	prac, pracPath := core.RolePractitioner(c, role, org, rolePath, false)

	ap := v3.AddFixed(parent, core.FixedAgentPerson)
	if len(role.Identifier) > 0 {
		id := c.RequireIdentifierAt(role.Identifier, fhir.SystemSDSRoleProfile, rolePath, ".identifier")
		v3.AddFixedII(ap, core.FixedRoleProfileID, id)
	}
	if len(role.Code) > 0 {
		code := c.CodingAt(role.Code, fhir.CodeSystemJobRole, rolePath, ".code")
		if code == nil {
			code = c.CodingAt(role.Code, core.CodeSystemJobRoleName, rolePath, ".code")
		}
		if code == nil {
			c.Fail(rolePath+".code", "no job role code in %s or %s", fhir.CodeSystemJobRole, core.CodeSystemJobRoleName)
		} else {
			v3.AddCV(ap, "code", code.Code, v3.OIDSDSJobRole, "")
		}
	}
	// The telecoms' paths are joined only for a problem.
	telecoms, telOf := role.Telecom, rolePath
	if telecoms == nil && prac != nil {
		telecoms, telOf = prac.Telecom, pracPath
	}
	for i, t := range telecoms {
		core.AddTelecomAt(c, ap, t, telOf, ".telecom", i)
	}
	if prac != nil {
		person := v3.AddFixed(ap, core.FixedAgentPersonPerson)
		switch sds := c.IdentifierAt(prac.Identifier, fhir.SystemSDSUser, pracPath, ".identifier"); {
		case sds != "":
			v3.AddFixedII(person, core.FixedUserID, sds)
		case answer != nil:
			code, system, ok := core.EPSAnswerPersonCode(prac, role, answer.at, answer.of)
			if !ok {
				c.Fail(pracPath+".identifier", "expected the person's SDS user id or code on the Practitioner, or its NHSBSA spurious code on the PractitionerRole, one for each party the role stands for")
			}
			root := v3.OIDProfessionalCode
			if system == fhir.SystemProfessionalCode && isSDSUserID(code) {
				root = v3.OIDSDSUser
			}
			v3.AddII(person, "id", root, code)
		default:
			v3.AddFixedII(person, core.FixedProfessionalCode, core.PractitionerCode(c, prac, pracPath))
		}
		switch len(prac.Name) {
		case 0:
		case 1:
			core.AddNameAt(c, person, "name", prac.Name[0], pracPath, ".name", 0)
		default:
			c.Fail(pracPath+".name", "more than one name")
		}
	}
	if org != nil {
		core.AddRepresentedOrganization(c, ap, role, rolePath, org, orgPath)
	}
	return ap
}

// answerPlace is a person's place among the parties of the EPS API's FHIR
// of a cancellation response that share its PractitionerRole: at of of.
type answerPlace struct{ at, of int }

// answerPlaces gives each of the roles of a cancellation response's
// parties, in the order the EPS API adds them (the cancel requester, the
// original prescription's author, the dispenser; nil for one absent), its
// place among those sharing it.
func answerPlaces(roles ...*fhir.PractitionerRole) []*answerPlace { return placesOf(nil, roles...) }

// placesOf is answerPlaces over anything that tells the roles apart (a
// role, a reference), none standing for an absent party.
func placesOf[K comparable](none K, roles ...K) []*answerPlace {
	out := make([]*answerPlace, len(roles))
	for i, r := range roles {
		if r == none {
			continue
		}
		p := &answerPlace{}
		for j, o := range roles {
			if o == r {
				p.of++
				if j < i {
					p.at++
				}
			}
		}
		out[i] = p
	}
	return out
}

// isSDSUserID reports a code of twelve digits, the shape of an SDS user id
// and of no professional code.
func isSDSUserID(code string) bool { return len(code) == 12 && core.AllDigits(code) }

// readCancelAgentPerson reads the AgentPerson of a cancellation payload into
// a PractitionerRole, Practitioner (when it names a person) and
// Organization(s), with fresh ids from newID. The person's id becomes an
// sds-user-id identifier (root …0.65) or a professional code identifier
// (root …1.54, system by its shape: ProfessionalCodeIdentifier).
func readCancelAgentPerson(n v3.Node, newID func() string) *core.AgentPersonResources {
	res := &core.AgentPersonResources{Role: &fhir.PractitionerRole{Base: fhir.Base{ResourceType: "PractitionerRole", ID: core.FreshID(newID)}}}
	// The MIM's AgentPerson (UKCT_MT120201UK04) may carry addresses
	// (addr 0..*) and its person a gender; EPS FHIR has no place for
	// either, and the role's layout (ExtensionV3Layout) keeps them.
	core.ExpectChildren(n, "id", "code", "addr", "telecom", "agentPerson", "agentPersonSDS", "representedOrganization", "representedOrganizationSDS")
	role := res.Role
	if id := core.OptKnown(n, "id"); id.Exists() {
		role.Identifier = []fhir.Identifier{{System: fhir.SystemSDSRoleProfile, Value: core.V3ID(id, v3.OIDSDSRoleProfile)}}
	}
	if cn := core.OptKnown(n, "code"); cn.Exists() {
		code := core.V3Code(cn, v3.OIDSDSJobRole)
		sys := core.CodeSystemJobRoleName
		if strings.Contains(code, ":") {
			sys = fhir.CodeSystemJobRole
		}
		role.Code = []fhir.CodeableConcept{{Coding: []fhir.Coding{{System: sys, Code: code}}}}
	}
	role.Telecom = append(role.Telecom, core.ReadTelecoms(n)...)
	if sds := n.Opt("agentPersonSDS"); sds.Exists() && n.Opt("agentPerson").Exists() {
		sds.Fail("agentPerson and agentPersonSDS are a choice (UKCT_MT120201UK04): one person, not both")
	}
	if pn := n.Opt("agentPerson"); pn.Exists() {
		core.ExpectChildren(pn, "id", "name", "administrativeGenderCode")
		prac := &fhir.Practitioner{Base: fhir.Base{ResourceType: "Practitioner", ID: core.FreshID(newID)}}
		idn := core.SpineRequired(pn, "id", core.SpineNeedsPersonID)
		if code := idn.Attr("extension"); code != "" {
			switch root := idn.Attr("root"); root {
			case v3.OIDSDSUser:
				prac.Identifier = []fhir.Identifier{{System: fhir.SystemSDSUser, Value: code}}
			case v3.OIDProfessionalCode:
				prac.Identifier = []fhir.Identifier{core.ProfessionalCodeIdentifier(code)}
			default:
				idn.Fail("unknown identifier root %q (want %s or %s)", root, v3.OIDSDSUser, v3.OIDProfessionalCode)
			}
		}
		if nm := pn.Opt("name"); nm.Exists() {
			prac.Name = []fhir.HumanName{core.ReadName(nm)}
		}
		res.Practitioner = prac
		role.Practitioner = &fhir.Reference{Reference: core.FullURL(prac.ID)}
	} else if sds := n.Opt("agentPersonSDS"); sds.Exists() {
		// The CMET's other choice for the person, by SDS user id alone;
		// the role's layout keeps the element.
		core.ExpectChildren(sds, "id")
		prac := &fhir.Practitioner{Base: fhir.Base{ResourceType: "Practitioner", ID: core.FreshID(newID)},
			Identifier: []fhir.Identifier{{System: fhir.SystemSDSUser, Value: core.V3ID(sds.Child("id"), v3.OIDSDSUser)}}}
		res.Practitioner = prac
		role.Practitioner = &fhir.Reference{Reference: core.FullURL(prac.ID)}
	}
	org, parent := core.ReadOrganization(core.RepresentedOrganization(n), newID)
	res.Organization, res.Parent = org, parent
	role.Organization = &fhir.Reference{Reference: core.FullURL(org.ID)}
	return res
}

// readCancelAgentPersonLayout is readCancelAgentPerson that also records on
// the role the v3 layout (ExtensionV3Layout) when the resources alone do
// not give the element back.
func readCancelAgentPersonLayout(n v3.Node, newID func() string) *core.AgentPersonResources {
	res := readCancelAgentPerson(n, newID)
	if ext := layoutExtension(n, regenAgentPerson(res)); ext != nil {
		res.Role.Extension = append(res.Role.Extension, *ext)
	}
	return res
}

// readPatientLayout is ReadPatient that also records the v3 layout on the
// Patient when the resource alone does not give the element back.
func readPatientLayout(n v3.Node, id string) *fhir.Patient {
	p := core.ReadPatient(n, id)
	if ext := layoutExtension(n, regenPatient(p)); ext != nil {
		p.Extension = append(p.Extension, *ext)
	}
	return p
}

// addPatientLayout is AddPatient followed by the Patient's v3 layout.
func addPatientLayout(c *core.BundleContext, parent *etree.Element, p *fhir.Patient, path string) *etree.Element {
	el := core.AddPatient(c, parent, p, path)
	if c.Failed() {
		return el
	}
	return applyLayout(el, p.Extension, func(n v3.Node) *etree.Element {
		return regenPatient(core.ReadPatient(n, "layout"))
	})
}

// regenAgentPerson writes the AgentPerson the resources give, or nil when
// they give none.
func regenAgentPerson(res *core.AgentPersonResources) *etree.Element {
	b := &fhir.Bundle{ResourceType: "Bundle", Entry: res.Entries()}
	c := core.NewBundleContext(b, "")
	el := writeCancelAgentPerson(c, etree.NewElement("holder"), res.Role, c.Path(res.Role), nil)
	if c.Failed() {
		return nil
	}
	return el
}

// regenPatient writes the Patient element a Patient resource gives, or nil.
func regenPatient(p *fhir.Patient) *etree.Element {
	c := core.NewBundleContext(&fhir.Bundle{ResourceType: "Bundle"}, "")
	el := core.AddPatient(c, etree.NewElement("holder"), p, "Patient")
	if c.Failed() {
		return nil
	}
	return el
}

// layoutExtension returns an ExtensionV3Layout holding the element of n when
// regen (what the FHIR form gives back) differs from it, or nil when they
// agree or the element cannot be kept (it uses another namespace).
func layoutExtension(n v3.Node, regen *etree.Element) *fhir.Extension {
	if !n.Exists() {
		return nil
	}
	norm := normalizedV3(n.El)
	if norm == nil || (regen != nil && core.SameElement(norm, regen, nil)) {
		return nil
	}
	doc := etree.NewDocument()
	doc.SetRoot(norm)
	s, err := doc.WriteToString()
	if err != nil {
		return nil
	}
	return &fhir.Extension{URL: ExtensionV3Layout, ValueString: &s}
}

// applyLayout replaces el (just written from FHIR) by the layout kept in
// exts, when there is one and reading it through FHIR (regen) gives el
// again: the layout then says nothing the FHIR resource does not.
func applyLayout(el *etree.Element, exts []fhir.Extension, regen func(v3.Node) *etree.Element) *etree.Element {
	ext := fhir.FindExtension(exts, ExtensionV3Layout)
	if ext == nil || ext.ValueString == nil || el == nil || el.Parent() == nil {
		return el
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromString(*ext.ValueString); err != nil || doc.Root() == nil || doc.Root().Tag != el.Tag {
		return el
	}
	raw := doc.Root()
	r, node := v3.NewReader("layout", raw)
	again := regen(node)
	if r.Err() != nil || again == nil || !core.SameElement(el, again, nil) {
		return el
	}
	raw = raw.Copy()
	parent := el.Parent()
	parent.InsertChildAt(el.Index(), raw)
	parent.RemoveChild(el)
	return raw
}

// normalizedV3 copies a v3 element with its namespace prefixes and
// declarations dropped, or returns nil when it or a descendant is outside
// the v3 namespace or carries a namespaced attribute.
func normalizedV3(el *etree.Element) *etree.Element {
	if el.NamespaceURI() != v3.Namespace {
		return nil
	}
	out := etree.NewElement(el.Tag)
	for _, a := range el.Attr {
		switch {
		case a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns"):
			continue
		case a.Space != "":
			return nil
		}
		out.CreateAttr(a.Key, a.Value)
	}
	for _, t := range el.Child {
		switch t := t.(type) {
		case *etree.Element:
			c := normalizedV3(t)
			if c == nil {
				return nil
			}
			out.AddChild(c)
		case *etree.CharData:
			if strings.TrimSpace(t.Data) != "" {
				out.CreateText(t.Data)
			}
		}
	}
	return out
}
