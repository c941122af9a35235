package release

import (
	"fmt"
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Release requests, v3 → FHIR: the author AgentPerson becomes the agent
// PractitionerRole (role profile id, job role, telecoms, the person by SDS
// user id with the name as display, its parts in ExtensionPersonName) and
// the owner Organization (its representedOrganization);
// the request id and time become Parameters.id and meta.lastUpdated. What
// the FHIR form would not give back exactly (an odd AgentPerson, an offset
// in the time...) is carried verbatim in ExtensionV3Original: the
// AgentPerson on the agent, the whole payload on the owner.

// ReleaseRequestToFHIR turns a v3 release request (PORX_IN060102UK30 or
// PORX_IN132004UK30, UK or SM family) into the Task/$release Parameters,
// with the wrapper values that travel beside it.
func ReleaseRequestToFHIR(payload []byte, env core.Env) ([]byte, core.Meta, error) {
	r, root, canon, err := core.OpenV3(payload, env, "release request (PORX_IN060102, PORX_IN132004)", v3.PatientReleaseRequest, v3.NominatedReleaseRequest)
	if err != nil {
		return nil, core.Meta{}, err
	}
	w, subject := v3.ReadWrapper(root)
	name := releaseRequestPayload(canon)
	core.ExpectChildren(subject, name)
	p := readReleaseRequest(subject.Child(name), canon, env)
	if err := r.Err(); err != nil {
		return nil, core.Meta{}, err
	}
	out, err := fhir.Marshal(p)
	if err != nil {
		return nil, core.Meta{}, fmt.Errorf("%s: writing FHIR: %w", root.El.Tag, err)
	}
	return out, core.MetaFromWrapper(w), nil
}

// readReleaseRequest reads a release request payload into Parameters.
func readReleaseRequest(pl v3.Node, canon string, env core.Env) *fhir.Parameters {
	if !pl.Exists() {
		return nil
	}
	core.CheckOnce(pl, releaseRequestOnce)
	p := &fhir.Parameters{Base: fhir.Base{ResourceType: "Parameters"}}
	id := pl.Child("id").Attr("root")
	if core.IsUUID(id) {
		p.ID = strings.ToLower(id)
	} else if id != "" {
		pl.Child("id").Fail("request id %q is not a UUID", id)
	}
	et := pl.Child("effectiveTime")
	if ts := et.Value(); ts != "" {
		t, err := core.FHIRDateTimeFromV3(ts)
		if err != nil {
			et.Fail("%v", err)
		}
		p.Meta = &fhir.Meta{LastUpdated: t}
	}
	var shortID string
	if canon == v3.PatientReleaseRequest {
		pid := pl.Child("pertinentInformation").Child("pertinentPrescriptionID")
		core.V3FixedCode(pid.Child("code"), "PID", v3.OIDPertinentCode)
		val := pid.Child("value")
		shortID = core.V3ID(val, v3.OIDShortFormID)
		if err := core.CheckShortFormID(shortID); err != nil && shortID != "" {
			val.FailAttr("extension", "%v", err)
		}
	}
	ap := pl.Child("author").Child("AgentPerson")
	if !ap.Exists() {
		return nil
	}
	role, owner := readReleaseAgent(ap, env.NewID)
	if shortID != "" {
		p.Parameter = append(p.Parameter, fhir.Parameter{Name: ParamGroupIdentifier,
			ValueIdentifier: &fhir.Identifier{System: fhir.SystemShortFormID, Value: shortID}})
	}
	accepted := "accepted"
	p.Parameter = append(p.Parameter,
		fhir.Parameter{Name: ParamOwner, Resource: owner},
		fhir.Parameter{Name: ParamStatus, ValueCode: &accepted},
		fhir.Parameter{Name: ParamAgent, Resource: role},
	)
	if pl.El != nil && ap.El != nil {
		carryReleaseRequest(pl.El, ap.El, p, role, owner, env)
	}
	core.RefuseEmptyAttrs(pl)
	return p
}

// releaseRequestOnce is the once-only elements of a release request
// (PORX_MT121001UK30, PORX_MT121002UK30) for core.CheckOnce: the reader
// takes the first of each and carries the rest, so a repeat (two dispenser
// ODS codes, two prescription ids...) would release to the first while
// Spine refuses the request.
var releaseRequestOnce = &core.Once{
	Tags: []string{"id", "effectiveTime", "author", "pertinentInformation"},
	Kids: map[string]*core.Once{
		"author": {Tags: []string{"AgentPerson"}, Kids: map[string]*core.Once{"AgentPerson": core.AgentPersonOnce()}},
		"pertinentInformation": {Tags: []string{"seperatableInd", "pertinentPrescriptionID"},
			Kids: map[string]*core.Once{"pertinentPrescriptionID": {Tags: []string{"code", "value"}}}},
	},
}

// readReleaseAgent reads the author AgentPerson into the agent
// PractitionerRole and the owner Organization.
func readReleaseAgent(ap v3.Node, newID func() string) (*fhir.PractitionerRole, *fhir.Organization) {
	role := &fhir.PractitionerRole{Base: fhir.Base{ResourceType: "PractitionerRole", ID: core.FreshID(newID)}}
	if id := core.OptKnown(ap, "id"); id.Exists() {
		role.Identifier = []fhir.Identifier{{System: fhir.SystemSDSRoleProfile, Value: core.V3ID(id, v3.OIDSDSRoleProfile)}}
	}
	if cn := core.OptKnown(ap, "code"); cn.Exists() {
		code := core.V3Code(cn, v3.OIDSDSJobRole)
		sys := core.CodeSystemJobRoleName
		if strings.Contains(code, ":") {
			sys = fhir.CodeSystemJobRole
		}
		role.Code = []fhir.CodeableConcept{{Coding: []fhir.Coding{{System: sys, Code: code}}}}
	}
	role.Telecom = append(role.Telecom, core.ReadTelecoms(ap)...)
	if pn := ap.Opt("agentPerson"); pn.Exists() {
		// The EPS API writes the SDS user id here under the professional
		// code root; other roots are read too, and the regeneration check
		// keeps such an element exact.
		code := core.SpineRequired(pn, "id", core.SpineNeedsPersonID).Attr("extension")
		ref := &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemSDSUser, Value: code}}
		if nm := pn.Opt("name"); nm.Exists() {
			// EPS takes the person as a logical reference only: a
			// structured name travels as its display text, with its parts
			// in porxgate's own extension.
			core.NamePersonReference(ref, core.ReadName(nm))
		}
		role.Practitioner = ref
	} else if sds := ap.Opt("agentPersonSDS"); sds.Exists() {
		// The CMET's other choice names the person by SDS user id: the
		// practitioner EPS needs (its $release fails on a role without
		// one); the carry below keeps the element itself.
		role.Practitioner = &fhir.Reference{Identifier: &fhir.Identifier{System: fhir.SystemSDSUser, Value: core.V3ID(sds.Child("id"), v3.OIDSDSUser)}}
	} else {
		ap.Child("agentPerson") // one of the two is mandatory: Spine refuses an AgentPerson with neither
	}
	owner, parent := core.ReadOrganization(core.RepresentedOrganization(ap), newID)
	if parent != nil {
		owner.Contained = append(owner.Contained, parent)
		owner.PartOf = &fhir.Reference{Reference: "#" + parent.ID}
	}
	return role, owner
}

// carryReleaseRequest compares the request written back from p with the
// original payload pl and carries what would not come back: the AgentPerson
// on the agent, then (if still needed) the whole payload on the owner.
func carryReleaseRequest(pl, ap *etree.Element, p *fhir.Parameters, role *fhir.PractitionerRole, owner *fhir.Organization, env core.Env) {
	regen := func() *etree.Element {
		e := env
		c := core.NewBundleContext(&fhir.Bundle{ResourceType: "Bundle"}, "")
		q := gatherReleaseRequest(c, p, e)
		if c.Failed() || q.agent == nil {
			return nil
		}
		q.id, q.effective = strings.ToUpper(p.ID), ""
		if p.Meta != nil {
			q.effective, _ = core.V3TimestampFromFHIR(p.Meta.LastUpdated)
		}
		subject := v3.NewHolder("subject")
		writeReleaseRequest(c, subject, q)
		if c.Failed() {
			return nil
		}
		return subject.SelectElement(pl.Tag)
	}
	got := regen()
	if got != nil && core.SameElement(pl, got, nil) {
		return
	}
	var gotAP *etree.Element
	if got != nil {
		gotAP = got.FindElement("author/AgentPerson")
	}
	if gotAP == nil || !core.SameElement(ap, gotAP, nil) {
		role.Extension = append(role.Extension, core.V3OriginalExtension(partAgentPerson, ap))
		got = regen()
	}
	if got == nil || !core.SameElement(pl, got, nil) {
		owner.Extension = append(owner.Extension, core.V3OriginalExtension(partReleaseRequest, pl))
	}
}
