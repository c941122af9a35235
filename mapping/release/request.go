package release

import (
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Release requests, FHIR → v3: the Task/$release Parameters become a Patient
// Prescription Release Request (PORX_IN132004UK30, when a group-identifier
// names the prescription) or a Nominated Prescription Release Request
// (PORX_IN060102UK30, the owner alone). The author AgentPerson is the agent
// PractitionerRole working for the owner Organization, written as the EPS
// API writes it (the practitioner's SDS user id as the professional code,
// no healthCareProviderLicense).

// releaseRequest is what a $release Parameters says, gathered and checked.
type releaseRequest struct {
	canon      string // canonical interaction id
	id         string // PatientPrescriptionReleaseRequest/id root ("" for a fresh one)
	effective  string // effectiveTime (v3 TS); "" for now
	shortID    string
	owner      *fhir.Organization
	ownerPath  string
	agent      *fhir.PractitionerRole
	agentPath  string
	paramsPath string
}

// Synthetic fullUrls under which the agent and the owner are written.
const (
	releaseAgentURL = "urn:porxgate:release:agent"
	releaseOwnerURL = "urn:porxgate:release:owner"
)

// ReleaseRequestToV3 turns a Task/$release Parameters into the v3 release
// request, in env's family: patient with a group-identifier, nominated
// without. The transmission id is meta.MessageID (else a fresh one), the
// request id the Parameters id when it is a UUID (else a fresh one), the
// effective time Parameters.meta.lastUpdated (else env.Now). A $release
// answer (passedPrescriptions, failedPrescriptions) goes to
// ReleaseResponseToV3.
func ReleaseRequestToV3(body []byte, meta core.Meta, env core.Env) ([]byte, error) {
	p, err := decodeParameters(body, v3.InFamily(v3.NominatedReleaseRequest, env.WriteFamily()))
	if err != nil {
		return nil, err
	}
	if isReleaseAnswer(p) {
		return releaseResponseToV3(p, meta, env)
	}
	c := core.NewBundleContext(&fhir.Bundle{ResourceType: "Bundle"}, "")
	q := gatherReleaseRequest(c, p, env)
	if c.Failed() {
		return nil, c.Err()
	}
	if env.NewID == nil && (meta.MessageID == "" || q.id == "") {
		c.Fail("Parameters", "no id generator (Env.NewID)")
		return nil, c.Err()
	}
	msgID := meta.MessageID
	if msgID == "" {
		msgID = env.NewID()
	}
	if q.id == "" {
		q.id = env.NewID()
	}
	if q.effective == "" {
		q.effective = env.Now.UTC().Format(core.V3TimeLayout)
	}
	doc, subject := core.NewV3Message(meta, c.Interaction, msgID, env)
	writeReleaseRequest(c, subject, q)
	if err := c.Err(); err != nil {
		return nil, err
	}
	return core.WriteDocument(c, doc, nil)
}

// decodeParameters decodes a Parameters resource; errors name interaction.
func decodeParameters(body []byte, interaction string) (*fhir.Parameters, error) {
	res, err := fhir.DecodeResource(body)
	if err != nil {
		return nil, &core.FHIRError{Interaction: interaction, Path: "Parameters", Msg: err.Error()}
	}
	p, ok := res.(*fhir.Parameters)
	if !ok {
		return nil, &core.FHIRError{Interaction: interaction, Path: res.GetResourceType(), Msg: "resourceType " + res.GetResourceType() + ", want Parameters"}
	}
	return p, nil
}

// isReleaseAnswer reports whether a Parameters is a $release answer.
func isReleaseAnswer(p *fhir.Parameters) bool {
	return p.Find(ParamPassedPrescriptions) != nil || p.Find(ParamFailedPrescriptions) != nil
}

// findParam returns the only parameter with a name and its path; a second
// one is recorded as a problem.
func findParam(c *core.BundleContext, p *fhir.Parameters, name string) (*fhir.Parameter, string) {
	var found *fhir.Parameter
	path := ""
	for i := range p.Parameter {
		if p.Parameter[i].Name != name {
			continue
		}
		if found != nil {
			c.Fail(core.Indexed("Parameters.parameter", i), "more than one %s parameter", name)
			return found, path
		}
		found, path = &p.Parameter[i], core.Indexed("Parameters.parameter", i)
	}
	return found, path
}

// gatherReleaseRequest reads and checks the parameters of a release request.
func gatherReleaseRequest(c *core.BundleContext, p *fhir.Parameters, env core.Env) *releaseRequest {
	q := &releaseRequest{canon: v3.NominatedReleaseRequest, paramsPath: "Parameters"}
	gi, giPath := findParam(c, p, ParamGroupIdentifier)
	if gi != nil {
		q.canon = v3.PatientReleaseRequest
	}
	c.Interaction = v3.InFamily(q.canon, env.WriteFamily())
	for i, prm := range p.Parameter {
		switch prm.Name {
		case ParamOwner, ParamGroupIdentifier, ParamStatus, ParamAgent:
		default:
			c.Fail(core.Indexed("Parameters.parameter", i)+".name", "unexpected parameter %q (want owner, group-identifier, status, agent)", prm.Name)
		}
	}
	if gi != nil {
		id := gi.ValueIdentifier
		switch {
		case id == nil || id.Value == "":
			c.Fail(giPath+".valueIdentifier", "missing mandatory short-form prescription id")
		case id.System != fhir.SystemShortFormID:
			c.Fail(giPath+".valueIdentifier.system", "system %q, want %s", id.System, fhir.SystemShortFormID)
		default:
			if err := core.CheckShortFormID(id.Value); err != nil {
				c.Fail(giPath+".valueIdentifier.value", "%v", err)
			}
			q.shortID = id.Value
		}
	}
	if st, stPath := findParam(c, p, ParamStatus); st != nil {
		if st.ValueCode == nil || *st.ValueCode != "accepted" {
			got := ""
			if st.ValueCode != nil {
				got = *st.ValueCode
			}
			c.Fail(stPath+".valueCode", "status %q, want accepted", got)
		}
	}
	ow, owPath := findParam(c, p, ParamOwner)
	switch {
	case ow == nil:
		c.Fail("Parameters.parameter", "missing mandatory owner parameter (the dispensing organisation)")
	case ow.Resource == nil:
		c.Fail(owPath+".resource", "owner must be an Organization resource: the v3 release request names the dispensing organisation with its name")
	default:
		org, ok := ow.Resource.(*fhir.Organization)
		if !ok {
			c.Fail(owPath+".resource", "resourceType %s, want Organization", ow.Resource.GetResourceType())
			break
		}
		q.owner, q.ownerPath = org, owPath+".resource"
		if c.Identifier(org.Identifier, fhir.SystemODS, q.ownerPath+".identifier") == "" {
			c.Fail(q.ownerPath+".identifier", "missing mandatory ODS code (%s)", fhir.SystemODS)
		}
	}
	ag, agPath := findParam(c, p, ParamAgent)
	switch {
	case ag == nil:
		if q.canon == v3.NominatedReleaseRequest {
			c.Fail("Parameters.parameter", "missing mandatory agent parameter (a nominated release names its author)")
		}
	case ag.Resource == nil:
		c.Fail(agPath+".resource", "missing mandatory agent PractitionerRole")
	default:
		role, ok := ag.Resource.(*fhir.PractitionerRole)
		if !ok {
			c.Fail(agPath+".resource", "resourceType %s, want PractitionerRole", ag.Resource.GetResourceType())
			break
		}
		q.agent, q.agentPath = role, agPath+".resource"
	}
	if core.IsUUID(p.ID) {
		q.id = p.ID
	}
	if p.Meta != nil && p.Meta.LastUpdated != "" {
		t, err := core.V3TimestampFromFHIR(p.Meta.LastUpdated)
		if err != nil {
			c.Fail("Parameters.meta.lastUpdated", "%v", err)
		}
		q.effective = t
	}
	return q
}

// writeReleaseRequest writes the release request payload under subject: the
// carried payload when the owner has one, else id, effectiveTime, the author
// and (patient release) the prescription id.
func writeReleaseRequest(c *core.BundleContext, subject *etree.Element, q *releaseRequest) {
	if el := core.CarriedPart(c, q.owner.Extension, partReleaseRequest, q.ownerPath); el != nil {
		subject.AddChild(el)
		return
	}
	pl := v3.Add(subject, releaseRequestPayload(q.canon), "classCode", "INFO", "moodCode", "RQO")
	v3.AddII(pl, "id", core.UpperUUID(q.id), "")
	v3.AddValue(pl, "effectiveTime", q.effective)
	if q.agent != nil {
		writeReleaseAgent(c, v3.Add(pl, "author", "typeCode", "AUT"), q)
	}
	if q.canon == v3.PatientReleaseRequest {
		rel := v3.Add(pl, "pertinentInformation", "contextConductionInd", "true", "typeCode", "PERT")
		v3.AddValue(rel, "seperatableInd", "false")
		pid := v3.Add(rel, "pertinentPrescriptionID", "classCode", "OBS", "moodCode", "EVN")
		v3.AddCV(pid, "code", "PID", v3.OIDPertinentCode, "")
		v3.AddII(pid, "value", v3.OIDShortFormID, q.shortID)
	}
}

// writeReleaseAgent writes the author's AgentPerson: the agent working for
// the owner. A practitioner named by SDS user id gets it as the v3
// professional code (as the EPS API writes it); the role's contained
// resources and the owner's contained licence organisation resolve by "#id".
func writeReleaseAgent(c *core.BundleContext, author *etree.Element, q *releaseRequest) {
	if el := core.CarriedPart(c, q.agent.Extension, partAgentPerson, q.agentPath); el != nil {
		author.AddChild(el)
		return
	}
	role := *q.agent
	role.Organization = &fhir.Reference{Reference: releaseOwnerURL}
	if pr := role.Practitioner; pr != nil && !core.IsLiteral(pr) && pr.Identifier != nil && pr.Identifier.System == fhir.SystemSDSUser {
		ref, id := *pr, *pr.Identifier
		id.System = fhir.SystemProfessionalCode
		ref.Identifier = &id
		role.Practitioner = &ref
	}
	syn := &fhir.Bundle{ResourceType: "Bundle", Entry: []fhir.Entry{
		{FullURL: releaseAgentURL, Resource: &role},
		{FullURL: releaseOwnerURL, Resource: q.owner},
	}}
	var paths []string
	for i, r := range q.agent.Contained {
		syn.Entry = append(syn.Entry, fhir.Entry{FullURL: "#" + relResourceID(r), Resource: r})
		paths = append(paths, core.Indexed(q.agentPath+".contained", i))
	}
	for i, r := range q.owner.Contained {
		syn.Entry = append(syn.Entry, fhir.Entry{FullURL: "#" + relResourceID(r), Resource: r})
		paths = append(paths, core.Indexed(q.ownerPath+".contained", i))
	}
	sc := core.NewBundleContext(syn, c.Interaction)
	core.AddAgentPerson(sc, author, &role, "Bundle.entry[0].resource", core.AgentPersonOptions{PersonID: core.AuthorPersonID, Dispenser: true})
	if err := sc.Err(); err != nil {
		fe, _ := err.(*core.FHIRError)
		if fe == nil {
			c.Fail(q.agentPath, "%v", err)
			return
		}
		c.Fail(rebaseEntryPath(fe.Path, append([]string{q.agentPath, q.ownerPath}, paths...)), "%s", fe.Msg)
	}
}

// rebaseEntryPath rewrites a "Bundle.entry[k].resource…" path of a
// synthetic bundle as bases[k]…; other paths are returned unchanged.
func rebaseEntryPath(path string, bases []string) string {
	const pre = "Bundle.entry["
	rest, ok := strings.CutPrefix(path, pre)
	if !ok {
		return path
	}
	end := strings.Index(rest, "].resource")
	if end < 0 {
		return path
	}
	k := 0
	for _, ch := range rest[:end] {
		if ch < '0' || ch > '9' {
			return path
		}
		k = k*10 + int(ch-'0')
	}
	if k >= len(bases) {
		return path
	}
	return bases[k] + rest[end+len("].resource"):]
}

// relResourceID returns a resource's logical id.
func relResourceID(r fhir.Resource) string {
	if h, ok := r.(interface{ GetID() string }); ok {
		return h.GetID()
	}
	return ""
}
