package prescribe

import (
	"slices"
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Prescribing: a FHIR prescription-order message Bundle ↔ the v3 Parent
// Prescription (PORX_IN020101UK31, non-urgent PORX_IN020102UK31, and their
// SM variants), following the EPS API's own translation rules. See
// docs/mappings/prescribe.md for the element-by-element table.

// PrescribeTranslator returns the Translator for the corpus kind "Send".
func PrescribeTranslator() *core.Translator {
	return &core.Translator{
		Kind:         "Send",
		Interactions: []string{v3.ParentPrescription, v3.ParentPrescriptionNonUrgent},
		ToV3:         PrescribeToV3,
		ToFHIR:       PrescribeToFHIR,
	}
}

// prescribeInteraction picks the interaction to write: the one the message
// came as (urgent or non-urgent) in env's family, urgent by default.
func prescribeInteraction(meta core.Meta, env core.Env) string {
	id := v3.ParentPrescription
	// No interaction (a FHIR message that came as FHIR) is the usual case:
	// Canonical's error for it, and InFamily's copy of an id already in
	// the family, are left out.
	if meta.Interaction != "" {
		if canon, _, err := v3.Canonical(meta.Interaction); err == nil && canon == v3.ParentPrescriptionNonUrgent {
			id = canon
		}
	}
	if fam := env.WriteFamily(); fam != v3.FamilyUK {
		id = v3.InFamily(id, fam)
	}
	return id
}

// PrescribeToV3 turns a FHIR prescription-order Bundle into the v3 Parent
// Prescription with its transmission and ControlActEvent wrappers. The
// transmission id is meta.MessageID when set, else the Bundle identifier.
func PrescribeToV3(body []byte, meta core.Meta, env core.Env) ([]byte, error) {
	interaction := prescribeInteraction(meta, env)
	// The Bundle is decoded and the message written in a Space of env's
	// Scratch, given back once it is serialised: nothing returned refers
	// to either, nor to body.
	sp := env.Scratch.Get()
	defer env.Scratch.Put(sp)
	b, err := core.ParseBundleIn(sp, body)
	if err != nil {
		return nil, &core.FHIRError{Interaction: interaction, Path: "Bundle", Msg: err.Error()}
	}
	p, err := buildPrescription(sp, b, interaction, meta, env)
	if err != nil {
		return nil, err
	}
	return p.bytes()
}

// builtPrescription is the v3 of a prescription-order Bundle as built,
// before it is serialised.
type builtPrescription struct {
	c *core.BundleContext
	// doc is the whole message; nil when only the ParentPrescription was
	// written (buildParentPrescription).
	doc *etree.Document
	pp  *etree.Element // the ParentPrescription
	sig *core.SignaturePlacement
}

// bytes serialises the built message (see WriteDocument).
func (p builtPrescription) bytes() ([]byte, error) { return core.WriteDocument(p.c, p.doc, p.sig) }

// buildPrescription builds the v3 document of a decoded prescription-order
// Bundle in sp (nil: fresh memory): PrescribeToV3 without the decoding and
// the serialising, so that $prepare can take the fragments from the tree
// it built.
func buildPrescription(sp *v3.Space, b *fhir.Bundle, interaction string, meta core.Meta, env core.Env) (builtPrescription, error) {
	return writeBuilt(b, interaction, env, func(msgID string) (*etree.Document, *etree.Element) {
		return core.NewV3MessageIn(sp, meta, interaction, msgID, env)
	})
}

// buildParentPrescription is buildPrescription, its checks included,
// without the transmission wrapper: the ParentPrescription alone, in the
// v3 namespace, for $prepare, which needs only its fragments; in sp (nil:
// fresh memory).
func buildParentPrescription(sp *v3.Space, b *fhir.Bundle, interaction string, env core.Env) (builtPrescription, error) {
	return writeBuilt(b, interaction, env, func(string) (*etree.Document, *etree.Element) {
		subject := sp.NewHolder("subject")
		subject.CreateAttr("xmlns", v3.Namespace)
		return nil, subject
	})
}

// writeBuilt checks the Bundle's identifier and event and writes its
// ParentPrescription into the subject open makes (given the message id;
// a nil document: the ParentPrescription alone).
func writeBuilt(b *fhir.Bundle, interaction string, env core.Env, open func(msgID string) (*etree.Document, *etree.Element)) (builtPrescription, error) {
	c := core.NewBundleContext(b, interaction)
	msgID := core.BundleMessageID(c)
	core.CheckMessageEvent(c, fhir.EventPrescriptionOrder)
	if c.Failed() {
		return builtPrescription{}, c.Err()
	}
	doc, subject := open(msgID)
	sig := WriteParentPrescription(c, subject, env)
	if err := c.Err(); err != nil {
		return builtPrescription{}, err
	}
	return builtPrescription{c: c, doc: doc, pp: subject.SelectElement("ParentPrescription"), sig: sig}, nil
}

// prescriptionOrder is what a prescription-order Bundle says, gathered and
// checked once before writing.
type prescriptionOrder struct {
	items     []*fhir.MedicationRequest
	paths     []string
	first     *fhir.MedicationRequest
	firstPath string
	course    string
	shortID   string
	longID    string
	patient   *fhir.Patient
	requester *fhir.PractitionerRole
	reqPath   string
	signature *fhir.Signature
	sigAt     signatureAt // where signature is
	// released: a released prescription's, written as Spine has it
	// (BundleContext.Released or Env.Released).
	released bool
	// itemRoom and pathRoom hold items and paths for most prescriptions
	// (up to four items), in the order's own allocation, and idRoom their
	// line item ids (writePrescription); sigRoom is the signature's
	// placement (signatureFor).
	itemRoom [4]*fhir.MedicationRequest
	pathRoom [4]string
	idRoom   [4]string
	sigRoom  core.SignaturePlacement
}

// gatherOrder reads the MedicationRequests and checks that they are one
// prescription: the same group identifier, a valid short-form id, and a
// course of therapy they agree on.
func gatherOrder(c *core.BundleContext, env core.Env) *prescriptionOrder {
	o := &prescriptionOrder{released: c.Released || env.Released}
	n := 0
	for _, e := range c.Bundle.Entry {
		if _, ok := e.Resource.(*fhir.MedicationRequest); ok {
			n++
		}
	}
	if n <= len(o.itemRoom) {
		o.items, o.paths = o.itemRoom[:0:n], o.pathRoom[:0:n]
	} else {
		o.items, o.paths = make([]*fhir.MedicationRequest, 0, n), make([]string, 0, n)
	}
	for _, e := range c.Bundle.Entry {
		if mr, ok := e.Resource.(*fhir.MedicationRequest); ok {
			o.items = append(o.items, mr)
			o.paths = append(o.paths, c.Path(mr)) // "Bundle.entry[i].resource", made once
		}
	}
	if len(o.items) == 0 {
		c.Fail("Bundle.entry", "no MedicationRequest: a prescription needs at least one line item")
		return nil
	}
	o.first, o.firstPath = o.items[0], o.paths[0]
	gi := o.first.GroupIdentifier
	if gi == nil {
		c.Fail(o.firstPath+".groupIdentifier", "missing mandatory groupIdentifier")
		return nil
	}
	o.shortID = gi.Value
	if gi.System != fhir.SystemShortFormID {
		c.Fail(o.firstPath+".groupIdentifier.system", "system %q, want %s", gi.System, fhir.SystemShortFormID)
	}
	if err := core.CheckShortFormID(o.shortID); err != nil {
		c.Fail(o.firstPath+".groupIdentifier.value", "%v", err)
	}
	o.longID = groupLongFormID(c, gi, o.firstPath)
	for i := 1; i < len(o.items); i++ {
		g := o.items[i].GroupIdentifier
		switch {
		case g == nil:
			c.Fail(o.paths[i]+".groupIdentifier", "missing mandatory groupIdentifier")
		case g.Value != o.shortID:
			c.Fail(o.paths[i]+".groupIdentifier.value", "short-form prescription id %q differs from %q of %s: all line items must belong to one prescription", g.Value, o.shortID, o.firstPath)
		case !strings.EqualFold(groupLongFormID(c, g, o.paths[i]), o.longID):
			c.Fail(o.paths[i]+".groupIdentifier.extension", "long-form prescription id differs from %q of %s: all line items must belong to one prescription", o.longID, o.firstPath)
		}
	}
	o.course = courseOfTherapy(c, o)
	return o
}

// groupLongFormID is core.LongFormID of gi, the group identifier of the
// MedicationRequest at mrPath, whose path (mrPath+".groupIdentifier") is
// made only when there is a problem to record at it: when gi has exactly
// one prescription id extension, with a value, that value is the answer.
func groupLongFormID(c *core.BundleContext, gi *fhir.Identifier, mrPath string) string {
	var found *fhir.Extension
	for i := range gi.Extension {
		if gi.Extension[i].URL == fhir.ExtensionPrescriptionID {
			if found != nil {
				found = nil // more than one, for LongFormID to record
				break
			}
			found = &gi.Extension[i]
		}
	}
	if found != nil && found.ValueIdentifier != nil && found.ValueIdentifier.Value != "" {
		return found.ValueIdentifier.Value
	}
	return core.LongFormID(c, gi, mrPath+".groupIdentifier")
}

// courseOfTherapy returns the course of therapy of the prescription: the
// one all items share, or acute for a mix of acute and continuous.
func courseOfTherapy(c *core.BundleContext, o *prescriptionOrder) string {
	// The codes met, each once in the order met: a list, not a map (a
	// prescription has one or two).
	var room [4]string
	codes := room[:0]
	for i, mr := range o.items {
		if mr.CourseOfTherapyType == nil || len(mr.CourseOfTherapyType.Coding) == 0 {
			c.Fail(o.paths[i]+".courseOfTherapyType", "missing mandatory courseOfTherapyType")
			return ""
		}
		for _, cd := range mr.CourseOfTherapyType.Coding {
			if !slices.Contains(codes, cd.Code) {
				codes = append(codes, cd.Code)
			}
		}
	}
	switch {
	case len(codes) == 1:
		return codes[0]
	case len(codes) == 2 && slices.Contains(codes, core.CourseAcute) && slices.Contains(codes, core.CourseContinuous):
		return core.CourseAcute
	}
	// A copy for the message: codes itself, handed to Fail, would put its
	// room on the heap for every prescription written.
	c.Fail(o.firstPath+".courseOfTherapyType.coding", "course of therapy must match for all MedicationRequests or be a mix of acute and continuous, got %v", slices.Clone(codes))
	return ""
}

// WriteParentPrescription writes the ParentPrescription of a
// prescription-order Bundle under parent (the ControlActEvent subject) and
// returns where the signature goes, to be placed after indentation.
func WriteParentPrescription(c *core.BundleContext, parent *etree.Element, env core.Env) *core.SignaturePlacement {
	o := gatherOrder(c, env)
	if o == nil {
		return nil
	}
	o.patient = core.OnlyPatient(c)
	req, ok := c.ResolveAt(o.first.Requester, o.firstPath, ".requester").(*fhir.PractitionerRole)
	if !ok {
		c.Fail(o.firstPath+".requester", "does not reference a PractitionerRole")
		return nil
	}
	o.requester, o.reqPath = req, c.Path(req)
	o.signature, o.sigAt = requesterSignature(c, o.first.Requester.Reference)
	if c.Failed() {
		return nil
	}

	authorTime := prescriptionAuthorTime(c, o, env)
	if el := core.CarriedPart(c, o.first.Extension, PartParentPrescription, o.firstPath); el != nil {
		parent.AddChild(el)
		if st := signatureText(el); st != nil && st.SelectAttr("nullFlavor") == nil {
			return signatureFor(c, st, o)
		}
		return nil
	}
	if c.Bundle.Identifier == nil {
		// PrescribeToV3 refuses it before (BundleMessageID); the
		// simulator's and the signature guard's view of a Bundle
		// (EPSParentPrescription) and a released prescription come here
		// without that check.
		c.Fail("Bundle.identifier", "missing mandatory identifier")
		return nil
	}
	pp := v3.AddFixed(parent, fixedParentPrescription)
	v3.AddII(pp, "id", core.UpperUUID(c.Bundle.Identifier.Value), "")
	v3.AddFixed(pp, fixedPrescriptionCode)
	effective := authorTime
	if vp := validityPeriod(o.first); vp != nil {
		t, err := core.V3TimestampFromFHIR(vp.Start)
		if err != nil {
			c.Fail(o.firstPath+".dispenseRequest.validityPeriod.start", "%v", err)
		}
		effective = t
	}
	if t := releasedEffectiveTime(c); t != "" {
		effective = t
	}
	if et := stringExtension(c, o.first.Extension, core.ExtensionEffectiveTime, o.firstPath); et != "" {
		effective = et
	}
	v3.AddValue(pp, "effectiveTime", effective)
	v3.AddFixed(pp, fixedTypeID)
	if o.patient != nil {
		rt := v3.AddFixed(pp, core.FixedRecordTarget)
		if el := core.CarriedPart(c, o.first.Extension, partRecordTarget, o.firstPath); el != nil {
			rt.AddChild(el)
		} else {
			core.AddPatient(c, rt, o.patient, c.Path(o.patient))
		}
	}
	pi1 := v3.AddFixed(pp, fixedPertinentInformation1)
	v3.AddFixed(pi1, fixedTemplatePertinentInfo)
	sig, lineIDs := writePrescription(c, pi1, o, authorTime)

	pi2 := v3.AddFixed(pp, fixedPertinentInformation2)
	v3.AddFixed(pi2, fixedTemplatePertinentInfo1)
	cat := v3.AddFixed(pi2, fixedCareRecordCategory)
	v3.AddFixed(cat, fixedCareRecordCode)
	for _, id := range lineIDs {
		ref := v3.AddFixed(v3.AddFixed(cat, fixedCategoryComponent), fixedActRef)
		v3.AddII(ref, "id", id, "")
	}
	return sig
}

// The ParentPrescription's elements whose names and attributes are fixed
// (see v3.Fixed): written as WriteParentPrescription wrote them with
// v3.Add, v3.AddII and v3.AddCV.
var (
	fixedParentPrescription     = v3.NewFixed("ParentPrescription", "classCode", "INFO", "moodCode", "EVN")
	fixedPrescriptionCode       = v3.NewFixed("code", "code", core.CodePrescription, "codeSystem", core.V3SNOMED, "displayName", core.NamePrescription)
	fixedTypeID                 = v3.NewFixed("typeId", "root", v3.OIDTypeID, "extension", core.ParentPrescriptionTypeID)
	fixedPertinentInformation1  = v3.NewFixed("pertinentInformation1", "contextConductionInd", "true", "typeCode", "PERT")
	fixedTemplatePertinentInfo  = v3.NewFixed("templateId", "root", v3.OIDTemplateID, "extension", core.TemplatePertinentInfo)
	fixedPertinentInformation2  = v3.NewFixed("pertinentInformation2", "typeCode", "PERT")
	fixedTemplatePertinentInfo1 = v3.NewFixed("templateId", "root", v3.OIDTemplateID, "extension", core.TemplatePertinentInfo1)
	fixedCareRecordCategory     = v3.NewFixed("pertinentCareRecordElementCategory", "classCode", "CATEGORY", "moodCode", "EVN")
	fixedCareRecordCode         = v3.NewFixed("code", "code", core.CodeCareRecord, "codeSystem", core.V3SNOMED, "displayName", core.NameCareRecord)
	fixedCategoryComponent      = v3.NewFixed("component", "typeCode", "COMP")
	fixedActRef                 = v3.NewFixed("actRef", "classCode", "SBADM", "moodCode", "RQO")
)

// releasedEffectiveTime is, for a released prescription (c.Released), the
// ParentPrescription effectiveTime the EPS API's release translation keeps
// as the Bundle's meta.lastUpdated (common/response-bundles.ts), as a v3
// timestamp; "" otherwise.
func releasedEffectiveTime(c *core.BundleContext) string {
	m := c.Bundle.Meta
	if !c.Released || m == nil || m.LastUpdated == "" {
		return ""
	}
	t, err := core.V3TimestampFromFHIR(m.LastUpdated)
	if err != nil {
		c.Fail("Bundle.meta.lastUpdated", "%v", err)
	}
	return t
}

// validityPeriod returns dispenseRequest.validityPeriod, or nil.
func validityPeriod(mr *fhir.MedicationRequest) *fhir.Period {
	if mr.DispenseRequest == nil {
		return nil
	}
	return mr.DispenseRequest.ValidityPeriod
}
