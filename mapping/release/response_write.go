package release

import (
	"slices"
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Release responses, FHIR → v3: each prescription-order Bundle of
// passedPrescriptions becomes a component (a released ParentPrescription,
// its signature spliced back byte for byte); failedPrescriptions are left
// out: the EPS API has found their signatures invalid and returned them to
// Spine itself, so they are not with the dispenser. The response id and
// time are the passedPrescriptions Bundle's identifier and lastUpdated, the
// release request id its prescriptions' MessageHeader.response.identifier,
// as the EPS API writes them; porxgate's own parameter, when present, gives
// what EPS has no place for.

// releaseEntry is one prescription-order Bundle of a $release answer: the
// index-th entry of the searchset Bundle of the parameter at param.
type releaseEntry struct {
	b     *fhir.Bundle
	param string
	index int
}

// path is the entry's element path, made only for a problem found in it.
func (e releaseEntry) path() string {
	return core.Indexed(e.param+".resource.entry", e.index) + ".resource"
}

// releaseAnswer is a $release answer, gathered and checked.
type releaseAnswer struct {
	passed, failed []releaseEntry
	outcomes       []*fhir.OperationOutcome
	responseID     string
	effective      string // v3 TS of passedPrescriptions.meta.lastUpdated
	head           *fhir.Parameter
	headPath       string
}

// ReleaseResponseToV3 turns a $release answer (Parameters) into the v3
// release response: meta.Interaction when it is one; the answer to the
// release request it names; else PORX_IN070101UK31 in env's family.
func ReleaseResponseToV3(body []byte, meta core.Meta, env core.Env) ([]byte, error) {
	p, err := decodeParameters(body, releaseResponseInteraction(meta, env))
	if err != nil {
		return nil, err
	}
	return releaseResponseToV3(p, meta, env)
}

// releaseResponseInteraction picks the response interaction for meta:
// meta.Interaction when it is a release response; the response to it, in
// its family, when it is a release request; else the nominated response in
// env's family.
func releaseResponseInteraction(meta core.Meta, env core.Env) string {
	canon, fam, err := v3.Canonical(meta.Interaction)
	switch {
	case err != nil:
	case canon == v3.NominatedReleaseResponse || canon == v3.PatientReleaseResponse:
		return meta.Interaction
	case canon == v3.PatientReleaseRequest:
		return v3.InFamily(v3.PatientReleaseResponse, fam)
	case canon == v3.NominatedReleaseRequest:
		return v3.InFamily(v3.NominatedReleaseResponse, fam)
	}
	return v3.InFamily(v3.NominatedReleaseResponse, env.WriteFamily())
}

func releaseResponseToV3(p *fhir.Parameters, meta core.Meta, env core.Env) ([]byte, error) {
	interaction := releaseResponseInteraction(meta, env)
	c := core.NewBundleContext(&fhir.Bundle{ResourceType: "Bundle"}, interaction)
	a := gatherReleaseAnswer(c, p)
	if c.Failed() {
		return nil, c.Err()
	}
	h := &releaseHead{interaction: interaction, ackTypeCode: core.AckAccepted, creationTime: env.Now.UTC().Format(core.V3TimeLayout)}
	h.fillFromMeta(meta)
	if a.head != nil {
		readHeadParameter(c, a.head, a.headPath, h)
	}
	if h.requestRef == "" {
		h.requestRef = answerRequestRef(a)
	}
	h.id = meta.MessageID
	fresh := func() string {
		if env.NewID == nil {
			c.Fail("Parameters", "no id generator (Env.NewID)")
			return ""
		}
		return env.NewID()
	}
	if h.id == "" {
		h.id = a.responseID
		if !core.IsUUID(h.id) {
			h.id = fresh()
		}
	}
	h.payloadID = a.responseID
	if !core.IsUUID(h.payloadID) {
		h.payloadID = h.id
	}
	if h.messageRef == "" {
		h.messageRef = h.id
	}
	if h.requestRef == "" {
		h.requestRef = fresh()
	}
	h.effectiveTime = a.effective
	if h.effectiveTime == "" {
		h.effectiveTime = h.creationTime
	}
	if canon, _, _ := v3.Canonical(interaction); h.batch == nil && canon == v3.NominatedReleaseResponse {
		h.batch = defaultBatch(len(a.passed))
	}
	if c.Failed() {
		return nil, c.Err()
	}
	return buildReleaseResponse(c, h, a.passed, env)
}

// answerRequestRef returns the release request id the first prescription's
// MessageHeader.response names, or "".
func answerRequestRef(a *releaseAnswer) string {
	for _, e := range a.passed {
		for _, mh := range fhir.EntriesOf[*fhir.MessageHeader](e.b) {
			if mh.Response != nil && mh.Response.Identifier != "" {
				return mh.Response.Identifier
			}
		}
	}
	return ""
}

// gatherReleaseAnswer reads the parameters of a $release answer.
func gatherReleaseAnswer(c *core.BundleContext, p *fhir.Parameters) *releaseAnswer {
	a := &releaseAnswer{}
	seen := map[string]bool{}
	for i, prm := range p.Parameter {
		path := core.Indexed("Parameters.parameter", i)
		if seen[prm.Name] {
			c.Fail(path, "more than one %s parameter", prm.Name)
			return a
		}
		seen[prm.Name] = true
		switch prm.Name {
		case ParamPassedPrescriptions, ParamFailedPrescriptions:
			gatherSearchset(c, a, prm, path)
		case ParamReleaseResponse:
			a.head, a.headPath = &p.Parameter[i], path
		default:
			c.Fail(path+".name", "unexpected parameter %q (want passedPrescriptions, failedPrescriptions)", prm.Name)
		}
	}
	if !seen[ParamPassedPrescriptions] {
		c.Fail("Parameters.parameter", "missing mandatory passedPrescriptions parameter")
	}
	return a
}

// gatherSearchset reads a passedPrescriptions or failedPrescriptions
// searchset: prescription-order Bundles (and, for failed ones, the
// OperationOutcomes saying why).
func gatherSearchset(c *core.BundleContext, a *releaseAnswer, prm fhir.Parameter, path string) {
	sb, ok := prm.Resource.(*fhir.Bundle)
	if !ok {
		c.Fail(path+".resource", "%s must be a searchset Bundle", prm.Name)
		return
	}
	passed := prm.Name == ParamPassedPrescriptions
	if passed {
		if sb.Identifier != nil {
			a.responseID = sb.Identifier.Value
		}
		if sb.Meta != nil && sb.Meta.LastUpdated != "" {
			t, err := core.V3TimestampFromFHIR(sb.Meta.LastUpdated)
			if err != nil {
				c.Fail(path+".resource.meta.lastUpdated", "%v", err)
			}
			a.effective = t
		}
	}
	if passed {
		a.passed = slices.Grow(a.passed, len(sb.Entry))
	}
	for j, e := range sb.Entry {
		re := releaseEntry{param: path, index: j}
		r := e.Resource
		if r == nil {
			r = e.Inline
		}
		switch r := r.(type) {
		case *fhir.Bundle:
			re.b = r
			if passed {
				a.passed = append(a.passed, re)
			} else {
				a.failed = append(a.failed, re)
			}
		case *fhir.OperationOutcome:
			if passed {
				c.Fail(re.path(), "an OperationOutcome among the passed prescriptions")
				return
			}
			a.outcomes = append(a.outcomes, r)
		case nil:
			c.Fail(re.path(), "missing resource")
			return
		default:
			c.Fail(re.path(), "resourceType %s, want a prescription-order Bundle", r.GetResourceType())
			return
		}
	}
}

// buildReleaseResponse writes the release response document; a
// prescription it cannot write fails it.
func buildReleaseResponse(c *core.BundleContext, h *releaseHead, passed []releaseEntry, env core.Env) ([]byte, error) {
	// The prescriptions are written in a Space of env's Scratch, given
	// back once the document is serialised.
	sp := env.Scratch.Get()
	defer env.Scratch.Put(sp)
	doc, subject := buildReleaseWrapper(h)
	comps, sigs, unwritten := writeReleasedPrescriptions(c, passed, env, false, sp)
	if len(unwritten) > 0 {
		return nil, unwritten[0].Err
	}
	writeReleaseResponseBody(subject, h, comps)
	return writeSignedDocument(c, doc, sigs)
}

// writeReleasedPrescriptions writes the components of passed and returns
// them with their signatures' places. With isolate, a prescription it
// cannot write is left out and returned in unwritten, the others written;
// without, the first one ends the writing. They are built in sp (nil:
// fresh memory), so the caller serialises them before giving it back.
func writeReleasedPrescriptions(c *core.BundleContext, passed []releaseEntry, env core.Env, isolate bool, sp *v3.Space) (comps []*etree.Element, sigs []*core.SignaturePlacement, unwritten []UnwrittenPrescription) {
	holder := sp.NewHolder("components")
	sigs = make([]*core.SignaturePlacement, 0, len(passed))
	for _, pe := range passed {
		before := len(holder.Child)
		bc := core.NewBundleContext(pe.b, c.Interaction)
		bc.Released = true
		sig := writeReleasedPrescription(bc, holder, env)
		if err := bc.Err(); err != nil {
			unwritten = append(unwritten, UnwrittenPrescription{ShortFormID: bundleShortFormID(pe.b), Err: rebaseBundleError(err, pe.path())})
			if !isolate {
				return nil, nil, unwritten
			}
			for len(holder.Child) > before {
				holder.RemoveChildAt(before)
			}
			continue
		}
		if sig != nil {
			sigs = append(sigs, sig)
		}
	}
	return holder.ChildElements(), sigs, unwritten
}

// bundleShortFormID returns the short-form id of a prescription-order
// Bundle (its first MedicationRequest's groupIdentifier), or "".
func bundleShortFormID(b *fhir.Bundle) string {
	for _, mr := range fhir.EntriesOf[*fhir.MedicationRequest](b) {
		if mr.GroupIdentifier != nil {
			return mr.GroupIdentifier.Value
		}
	}
	return ""
}

// writeReleaseResponseBody writes the PrescriptionReleaseResponse under
// subject with the given components: the carried shell when h has one, else
// id, effectiveTime, the components, the batch counts and the reference to
// the release request.
func writeReleaseResponseBody(subject *etree.Element, h *releaseHead, comps []*etree.Element) *etree.Element {
	if h.shell != nil {
		prr := h.shell.Copy()
		subject.AddChild(prr)
		ph := prr.SelectElement(releaseComponentsPlaceholder)
		if ph == nil {
			for _, cp := range comps {
				prr.AddChild(cp)
			}
			return prr
		}
		at := ph.Index()
		prr.RemoveChildAt(at)
		for i, cp := range comps {
			prr.InsertChildAt(at+i, cp)
		}
		return prr
	}
	prr := v3.Add(subject, "PrescriptionReleaseResponse", "classCode", "INFO", "moodCode", "EVN", "type", "ControlAct")
	v3.AddII(prr, "id", core.UpperUUID(h.payloadID), "")
	v3.AddValue(prr, "effectiveTime", h.effectiveTime)
	for _, cp := range comps {
		prr.AddChild(cp)
	}
	for _, b := range h.batch {
		rel := v3.Add(prr, "pertinentInformation", "typeCode", "PERT", "contextConductionInd", "true")
		v3.AddValue(rel, "seperatableInd", "false")
		obs := v3.Add(rel, "pertinentBatchInfo", "moodCode", "EVN", "classCode", "OBS")
		v3.Add(obs, "code", "codeSystem", oidBatchInfo, "code", b.code)
		v3.AddValue(obs, "value", b.value)
	}
	inf := v3.Add(prr, "inFulfillmentOf", "type", "ActRelationship", "typeCode", "FLFS", "inversionInd", "false", "negationInd", "false")
	v3.AddValue(inf, "seperatableInd", "true")
	ref := v3.Add(inf, "priorDownloadRequestRef", "type", "ControlAct", "classCode", "INFO", "moodCode", "RQO")
	v3.AddII(ref, "id", core.UpperUUID(h.requestRef), "")
	return prr
}

// rebaseBundleError puts an error found in an inner Bundle at its place in
// the Parameters ("Bundle.entry[3]…" → base + ".entry[3]…").
func rebaseBundleError(err error, base string) error {
	fe, ok := err.(*core.FHIRError)
	if !ok {
		return &core.FHIRError{Path: base, Msg: err.Error()}
	}
	out := *fe
	if rest, ok := strings.CutPrefix(fe.Path, "Bundle"); ok {
		out.Path = base + rest
	}
	return &out
}
