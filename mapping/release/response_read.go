package release

import (
	"fmt"
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Release responses, v3 → FHIR: as the EPS API answers $release, a
// Parameters whose passedPrescriptions searchset Bundle (identifier the
// response id, lastUpdated its time) holds one prescription-order Bundle
// per component; failedPrescriptions is empty (porxgate does not judge
// signatures on this side: every prescription is kept, its signature
// exactly as it was). The porxgate-releaseResponse parameter keeps the
// request references, the batch counts and, when the response is shaped
// unlike Spine's, the response around its components verbatim.

// ReleaseResponseToFHIR turns a v3 release response (PORX_IN070101UK31 or
// PORX_IN070103UK31, UK or SM family) into the $release answer, with the
// wrapper values that travel beside it.
func ReleaseResponseToFHIR(payload []byte, env core.Env) ([]byte, core.Meta, error) {
	// The message and every prescription written back from its Bundle
	// are built in a Space of env's Scratch, given back once the FHIR is
	// written: nothing returned refers to them.
	sp := env.Scratch.Get()
	out, meta, err := releaseResponseToFHIR(sp, payload, env)
	env.Scratch.Put(sp)
	return out, meta, err
}

// releaseResponseToFHIR is ReleaseResponseToFHIR building its trees in sp.
func releaseResponseToFHIR(sp *v3.Space, payload []byte, env core.Env) ([]byte, core.Meta, error) {
	r, root, _, err := core.OpenV3In(sp, payload, env, "release response (PORX_IN070101, PORX_IN070103)", v3.NominatedReleaseResponse, v3.PatientReleaseResponse)
	if err != nil {
		return nil, core.Meta{}, err
	}
	h, w, subject := readReleaseWrapper(root)
	core.ExpectChildren(subject, "PrescriptionReleaseResponse")
	prr := subject.Child("PrescriptionReleaseResponse")
	bundles := readReleaseResponseBody(sp, prr, root, payload, h, env)
	if err := r.Err(); err != nil {
		return nil, core.Meta{}, err
	}
	h.shell = releaseShell(sp, prr.El, h)
	p, err := releaseParameters(h, bundles, env)
	if err != nil {
		// The tag and path are views of the message in sp.
		return nil, core.Meta{}, &v3.Error{Interaction: strings.Clone(root.El.Tag), Path: strings.Clone(prr.Path()), Msg: err.Error()}
	}
	out, err := fhir.Marshal(p)
	if err != nil {
		return nil, core.Meta{}, fmt.Errorf("%s: writing FHIR: %w", root.El.Tag, err)
	}
	meta := core.MetaFromWrapper(w)
	if sp != nil {
		meta = meta.Copy() // its strings are views of the message in sp
	}
	return out, meta, nil
}

// readReleaseResponseBody reads the response's id, time, batch counts and
// request reference into h and its prescriptions into Bundles, writing
// each back in sp.
func readReleaseResponseBody(sp *v3.Space, prr, root v3.Node, payload []byte, h *releaseHead, env core.Env) []*fhir.Bundle {
	if !prr.Exists() {
		return nil
	}
	core.ExpectChildren(prr, "id", "effectiveTime", "component", "pertinentInformation", "inFulfillmentOf")
	h.payloadID = prr.Child("id").Attr("root")
	h.effectiveTime = prr.Child("effectiveTime").Value()
	h.batch = []releaseBatch{}
	for _, rel := range prr.All("pertinentInformation") {
		bi := rel.Child("pertinentBatchInfo")
		code := core.V3Code(bi.Child("code"), oidBatchInfo)
		h.batch = append(h.batch, releaseBatch{code, bi.Child("value").Value()})
	}
	h.requestRef = prr.Child("inFulfillmentOf").Child("priorDownloadRequestRef").Child("id").Attr("root")
	comps := prr.All("component")
	sigs, spans := messageSignatures(sp, root.El, comps, payload)
	spanOf := func(pp *etree.Element) []byte {
		st := prescriptionSignature(pp)
		for i, el := range sigs {
			if el == st && i < len(spans) {
				return spans[i]
			}
		}
		return nil
	}
	out := make([]*fhir.Bundle, 0, len(comps))
	var rs releasedScratch
	// Lowered once for every prescription's MessageHeader, not once each
	// (addReleaseExtensions lowers it again, which costs no copy then).
	requestRef := core.LowerID(h.requestRef)
	for _, comp := range comps {
		var span []byte
		if pp := comp.Opt("ParentPrescription"); pp.Exists() {
			span = spanOf(pp.El)
		}
		if b := readReleasedPrescription(sp, &rs, comp, root.El.Tag, span, requestRef, env); b != nil {
			out = append(out, b)
		}
	}
	return out
}

// prescriptionSignature returns the signatureText of a ParentPrescription,
// or nil.
func prescriptionSignature(pp *etree.Element) *etree.Element {
	return v3.FindPath(pp, "pertinentInformation1", "pertinentPrescription", "author", "signatureText")
}

// messageSignatures returns signatureText elements under root and their
// spans in the message (signatureTextSpans; nil when they cannot be
// matched). When the message was read in sp by its scanner, the
// components' prescriptions' signatureText elements are found where the
// scanner read them (scannedSignatureSpans), without looking at the rest
// of the message. Else, when the message holds as many signatureText
// start tags as the components' prescriptions have signatureText
// elements, those are all of them (every element has its start tag),
// found without walking the whole tree; else the tree is walked, and the
// elements are all the message's, in document order.
func messageSignatures(sp *v3.Space, root *etree.Element, comps []v3.Node, payload []byte) ([]*etree.Element, [][]byte) {
	sigs := make([]*etree.Element, 0, len(comps))
	for _, comp := range comps {
		if pp := comp.El.SelectElement("ParentPrescription"); pp != nil {
			if st := prescriptionSignature(pp); st != nil {
				sigs = append(sigs, st)
			}
		}
	}
	if spans := scannedSignatureSpans(sp, sigs); spans != nil {
		return sigs, spans
	}
	if spans := signatureTextSpans(payload, len(sigs)); spans != nil {
		return sigs, spans
	}
	sigs = signatureTextElements(root)
	return sigs, signatureTextSpans(payload, len(sigs))
}

// releaseShell returns the response as it was with its components replaced
// by a placeholder, when writing it back from h would not give it; nil
// otherwise. Namespace declarations do not count. What it writes back to
// compare is built in sp.
func releaseShell(sp *v3.Space, prr *etree.Element, h *releaseHead) *etree.Element {
	if prr == nil {
		return nil
	}
	// The shell is the response without its components: copy everything
	// else, and stand one placeholder where the components were, without
	// copying the prescriptions only to drop them.
	orig := bareElement(prr)
	placed := false
	for _, t := range prr.Child {
		if ch, ok := t.(*etree.Element); ok && ch.Tag == "component" {
			if !placed {
				orig.AddChild(etree.NewElement(releaseComponentsPlaceholder))
				placed = true
			}
			continue
		}
		orig.AddChild(copyToken(t))
	}
	if !placed {
		eff := orig.SelectElement("effectiveTime")
		insertAfter(orig, eff, etree.NewElement(releaseComponentsPlaceholder))
	}
	sub := sp.NewHolder("subject")
	hh := *h
	hh.shell = nil
	hh.effectiveTime = viaFHIRTime(h.effectiveTime)
	regen := writeReleaseResponseBody(sub, &hh, []*etree.Element{etree.NewElement(releaseComponentsPlaceholder)})
	if core.SameElement(withoutNamespaceDecls(orig), regen, nil) {
		return nil
	}
	return orig
}

// withoutNamespaceDecls returns a copy of el without namespace declarations
// on its own start tag.
func withoutNamespaceDecls(el *etree.Element) *etree.Element {
	cp := el.Copy()
	keep := cp.Attr[:0]
	for _, a := range cp.Attr {
		if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
			continue
		}
		keep = append(keep, a)
	}
	cp.Attr = keep
	return cp
}

// releaseParameters makes the $release answer of a read response.
func releaseParameters(h *releaseHead, bundles []*fhir.Bundle, env core.Env) (*fhir.Parameters, error) {
	last := ""
	if h.effectiveTime != "" {
		t, err := core.FHIRDateTimeFromV3(h.effectiveTime)
		if err != nil {
			return nil, fmt.Errorf("effectiveTime: %w", err)
		}
		last = t
	}
	searchset := func(idValue string, entries []fhir.Entry) *fhir.Bundle {
		n := len(entries)
		b := &fhir.Bundle{ResourceType: "Bundle", ID: core.FreshID(env.NewID), Type: "searchset", Total: &n, Entry: entries,
			Identifier: &fhir.Identifier{System: fhir.SystemRFC4122, Value: idValue}}
		if last != "" {
			b.Meta = &fhir.Meta{LastUpdated: last}
		}
		return b
	}
	entries := make([]fhir.Entry, 0, len(bundles))
	for _, b := range bundles {
		entries = append(entries, fhir.Entry{FullURL: core.FullURL(b.ID), Resource: b, Search: &fhir.EntrySearch{Mode: "match"}})
	}
	id := h.payloadID
	if core.IsUUID(id) {
		id = strings.ToLower(id)
	}
	passed := searchset(id, entries)
	failed := searchset(core.FreshID(env.NewID), nil)
	return &fhir.Parameters{Base: fhir.Base{ResourceType: "Parameters", ID: core.FreshID(env.NewID)}, Parameter: []fhir.Parameter{
		{Name: ParamPassedPrescriptions, Resource: passed},
		{Name: ParamFailedPrescriptions, Resource: failed},
		headParameter(h),
	}}, nil
}

// copyToken returns a deep copy of a child token of an element.
func copyToken(t etree.Token) etree.Token {
	switch t := t.(type) {
	case *etree.Element:
		return t.Copy()
	case *etree.CharData:
		if t.IsCData() {
			return etree.NewCData(t.Data)
		}
		return etree.NewText(t.Data)
	case *etree.Comment:
		return etree.NewComment(t.Data)
	case *etree.ProcInst:
		return etree.NewProcInst(t.Target, t.Inst)
	case *etree.Directive:
		return etree.NewDirective(t.Data)
	}
	return nil
}
