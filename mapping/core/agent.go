package core

import (
	"strconv"
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// The dispenser as an AgentPerson (UKCT_MT120201UK03) in dispensing
// messages: EPS FHIR names it by a PractitionerRole contained in the
// MedicationDispense, Claim or Task, whose practitioner is a logical
// reference by SDS user id (written as the v3 professional code, EPS
// decision D011) and whose organization is a bundle entry or contained.

// WriteDispensingAgentPerson writes <AgentPerson> for a dispensing role. holder is
// the resource whose contained resources "#id" references resolve against
// (nil for none), holderPath its FHIR path.
func WriteDispensingAgentPerson(c *BundleContext, parent *etree.Element, role *fhir.PractitionerRole, rolePath string, holder *fhir.Base, holderPath string) {
	syn := &fhir.Bundle{ResourceType: "Bundle"}
	n := 0
	if c.Bundle != nil {
		n = len(c.Bundle.Entry)
	}
	if holder != nil {
		n += len(holder.Contained)
	}
	if n > 0 {
		syn.Entry = make([]fhir.Entry, 0, n) // the entries and the contained, in one allocation
	}
	if c.Bundle != nil {
		syn.Entry = append(syn.Entry, c.Bundle.Entry...)
	}
	first := len(syn.Entry)
	if holder != nil {
		for _, r := range holder.Contained {
			syn.Entry = append(syn.Entry, fhir.Entry{FullURL: "#" + dspResourceID(r), Resource: r})
		}
	}
	sc := NewBundleContext(syn, c.Interaction)
	cp := *role
	if p := role.Practitioner; p != nil && !IsLiteral(p) && p.Identifier != nil && p.Identifier.System == fhir.SystemSDSUser {
		ref := *p
		id := *p.Identifier
		id.System = fhir.SystemProfessionalCode
		ref.Identifier = &id
		cp.Practitioner = &ref
	}
	AddAgentPerson(sc, parent, &cp, rolePath, AgentPersonOptions{PersonID: AuthorPersonID, Dispenser: true})
	if err := sc.Err(); err != nil {
		fe, ok := err.(*FHIRError)
		if !ok {
			c.Fail(rolePath, "%v", err)
			return
		}
		c.Fail(dspContainedPath(fe.Path, first, holderPath), "%s", fe.Msg)
	}
}

// dspContainedPath rewrites "Bundle.entry[k].resource" paths of the
// synthetic bundle's contained entries (k >= first) as holderPath.contained[j].
func dspContainedPath(path string, first int, holderPath string) string {
	const pre = "Bundle.entry["
	if !strings.HasPrefix(path, pre) {
		return path
	}
	end := strings.Index(path, "].resource")
	if end < 0 {
		return path
	}
	k, err := strconv.Atoi(path[len(pre):end])
	if err != nil || k < first {
		return path
	}
	return holderPath + ".contained[" + strconv.Itoa(k-first) + "]" + path[end+len("].resource"):]
}

// dspResourceID returns a resource's logical id.
func dspResourceID(r fhir.Resource) string {
	if h, ok := r.(interface{ GetID() string }); ok {
		return h.GetID()
	}
	return ""
}

// AgentRole resolves a reference to a PractitionerRole contained in holder
// (or a bundle entry).
func AgentRole(c *BundleContext, ref *fhir.Reference, holder *fhir.Base, path string) *fhir.PractitionerRole {
	r := ResolveAgent(c, ref, holder, path)
	if r == nil {
		return nil
	}
	role, ok := r.(*fhir.PractitionerRole)
	if !ok {
		c.Fail(path, "references a %s, want a PractitionerRole", r.GetResourceType())
		return nil
	}
	return role
}

// ResolveAgent resolves a literal reference against holder's contained
// resources ("#id") or the bundle.
func ResolveAgent(c *BundleContext, ref *fhir.Reference, holder *fhir.Base, path string) fhir.Resource {
	return ResolveAgentAt(c, ref, holder, path, "")
}

// ResolveAgentAt is ResolveAgent recording a problem at path+suffix,
// joined only then.
func ResolveAgentAt(c *BundleContext, ref *fhir.Reference, holder *fhir.Base, path, suffix string) fhir.Resource {
	if ref == nil || ref.Reference == "" {
		c.Fail(path+suffix, "missing mandatory reference")
		return nil
	}
	if strings.HasPrefix(ref.Reference, "#") {
		if holder != nil {
			if r := holder.FindContained(ref.Reference); r != nil {
				return r
			}
		}
		c.Fail(path+suffix+".reference", "reference %q does not resolve to a contained resource", ref.Reference)
		return nil
	}
	if c.Bundle == nil {
		c.Fail(path+suffix+".reference", "reference %q: no bundle to resolve it in", ref.Reference)
		return nil
	}
	return c.ResolveAt(ref, path, suffix)
}

// DispensingAgent is what a v3 AgentPerson maps to: the role (the person
// as a logical reference, identifier and name as display, the one shape
// the EPS API takes) and the organisation(s).
type DispensingAgent struct {
	Role         *fhir.PractitionerRole
	Organization *fhir.Organization
	Parent       *fhir.Organization
}

// ReadDispensingAgentPerson reads an AgentPerson. The role gets roleID; the
// organisation's id and the role's reference to it are set by the caller.
//
// Cardinalities are the CMET's (UKCT_MT120201UK03): the AgentPerson's addr
// and telecom repeat (EPS FHIR has no place for the dispenser's own
// addresses: they are read as absent and kept beside the FHIR with
// Env.KeepV3, as the person's administrativeGenderCode and the
// organisation's desc are); the organisation's id, code, name and desc come
// at most once, and a second is refused as Spine refuses it, not read as
// the first. The organisation's telecoms and addresses are taken however
// many (FHIR holds them all; a telecom without a number is left out,
// withNumber), and so is one legacy healthCareProviderLicense,
// which the CMET does not have (conventions.md, "The dispenser"); a second
// licence, which no FHIR partOf could hold, is refused.
func ReadDispensingAgentPerson(n v3.Node, roleID string, newID func() string) *DispensingAgent {
	Attrs(n, "classCode", "AGNT")
	ExpectModel(n, "id", "code", "addr*", "telecom*", "agentPerson", "agentPersonSDS", "representedOrganization", "representedOrganizationSDS")
	a := &DispensingAgent{Role: &fhir.PractitionerRole{Base: fhir.Base{ResourceType: "PractitionerRole", ID: roleID}}}
	role := a.Role
	if id := OptKnown(n, "id"); id.Exists() {
		Attrs(id, "root", v3.OIDSDSRoleProfile, "extension", "*")
		role.Identifier = []fhir.Identifier{{System: fhir.SystemSDSRoleProfile, Value: V3ID(id, v3.OIDSDSRoleProfile)}}
	}
	if cn := OptKnown(n, "code"); cn.Exists() {
		// A CV in the CMET: its displayName names the code and is not
		// kept, as the other AgentPerson readers leave it.
		Attrs(cn, "code", "*", "codeSystem", v3.OIDSDSJobRole, "displayName", "*")
		code := V3Code(cn, v3.OIDSDSJobRole)
		sys := CodeSystemJobRoleName
		if strings.Contains(code, ":") {
			sys = fhir.CodeSystemJobRole
		}
		role.Code = []fhir.CodeableConcept{{Coding: []fhir.Coding{{System: sys, Code: code}}}}
	}
	role.Telecom = append(role.Telecom, ReadTelecoms(n)...)
	if sds := n.Opt("agentPersonSDS"); sds.Exists() && !n.Opt("agentPerson").Exists() {
		// The CMET's other choice for the person: by SDS user id alone,
		// the practitioner EPS expects (the way back writes agentPerson,
		// as the EPS API does).
		Attrs(sds, "classCode", "PSN", "determinerCode", "INSTANCE")
		ExpectModel(sds, "id")
		sid := sds.Child("id")
		Attrs(sid, "root", v3.OIDSDSUser, "extension", "*")
		role.Practitioner = &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemSDSUser, Value: sid.Attr("extension")}}
	} else {
		if sds.Exists() {
			sds.Fail("agentPerson and agentPersonSDS are a choice (UKCT_MT120201UK03): one person, not both")
		}
		readDispensingPerson(n.Child("agentPerson"), role)
	}
	rep := RepresentedOrganization(n)
	Attrs(rep, "classCode", "ORG", "determinerCode", "INSTANCE")
	if rep.Exists() && rep.El.Tag == "representedOrganizationSDS" {
		ExpectModel(rep, "id") // UKCT_MT120201UK03's OrganizationSDS
	}
	ExpectModel(rep, "id", "code", "name", "desc", "telecom", "addr", "healthCareProviderLicense") // telecom, addr 0..1: parties_once.go
	if lic := rep.Opt("healthCareProviderLicense"); lic.Exists() {
		ExpectModel(lic, "Organization")
		ExpectModel(lic.Opt("Organization"), "id", "code", "name", "desc", "telecom", "addr", "healthCareProviderLicense*")
	}
	a.Organization, a.Parent = ReadOrganization(rep, newID)
	a.Organization.Telecom = withNumber(a.Organization.Telecom)
	return a
}

// withNumber returns the ContactPoints of cps that hold a number (a
// value). A dispensing organisation's telecom without one (a null flavour,
// <telecom nullFlavor="NI"/>, or a use alone), which Spine takes, is left
// out: the EPS API refuses a dispense notification whose Organization has a
// telecom without a value or a use (bundle-validator.ts validateTelecoms),
// and writes the dispenser's telecom for an organisation without one.
func withNumber(cps []fhir.ContactPoint) []fhir.ContactPoint {
	out := cps[:0]
	for _, cp := range cps {
		if cp.Value != "" {
			out = append(out, cp)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// readDispensingPerson reads the dispenser's agentPerson into the role's
// practitioner: the SDS user id, the name as display.
func readDispensingPerson(pn v3.Node, role *fhir.PractitionerRole) {
	Attrs(pn, "classCode", "PSN", "determinerCode", "INSTANCE")
	ExpectModel(pn, "id", "name", "administrativeGenderCode")
	idn := SpineRequired(pn, "id", SpineNeedsPersonID)
	// Spine takes the dispenser's person by the professional-code root (as
	// the EPS API writes it, holding an SDS user id) or by the SDS user id
	// root itself; both reach FHIR as the SDS user id EPS expects, and the
	// way back writes the professional-code root as the EPS API does.
	Attrs(idn, "root", v3.OIDProfessionalCode+"|"+v3.OIDSDSUser, "extension", "*")
	code := idn.Attr("extension")
	ref := &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemSDSUser, Value: code}}
	if nm := pn.Opt("name"); nm.Exists() {
		// The EPS API refuses a practitioner given other than as a logical
		// reference, so a structured name (prefix, given, family...)
		// travels as its display text, as EPS writes it to v3, with its
		// parts in porxgate's own extension.
		NamePersonReference(ref, ReadName(nm))
	}
	role.Practitioner = ref
}
