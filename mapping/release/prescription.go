package release

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// A released prescription (PORX_MT122003UK32) is the prescriber's
// ParentPrescription as Spine holds it, written by the prescribing mapper,
// plus what Spine adds when it releases it (seen in every release response
// of the corpus, in these places):
//   - typeId PORX_MT122003UK32 (the component's templateId says the same);
//   - pertinentInformation10, the prescription status, after the treatment
//     type (pertinentInformation5);
//   - pertinentInformation9 and pertinentInformation11, the permanent
//     exemptions by age that Spine derives from the birth date: "is under 16
//     years of age" until the day before the 16th birthday, "is 60 years of
//     age or over" from the 60th; after the status and after the last line
//     item;
//   - in each line item, pertinentInformation4, the item status, after the
//     quantity (component).
// None of them is inside the signature's fragments, so adding them leaves
// the prescriber's signature valid. FHIR carries the statuses as EPS does
// (Extension-EPS-TaskBusinessStatus; Extension-EPS-DispensingInformation
// dispenseStatus and MedicationRequest.status); the exemptions need nothing
// since they follow from Patient.birthDate.

// statusName is a status code with Spine's displayName.
type statusName struct{ code, display string }

// prescriptionStatuses are the prescription statuses (…16.35).
var prescriptionStatuses = [...]statusName{
	{"0001", "To Be Dispensed"}, {"0002", "With Dispenser"}, {"0003", "With Dispenser - Active"},
	{"0004", "Expired"}, {"0005", "Cancelled"}, {"0006", "Dispensed"}, {"0007", "Not Dispensed"},
	{"0008", "Claimed"}, {"0009", "No-Claimed"},
}

// itemStatuses are the line item statuses (…17.23) with the
// MedicationRequest.status the EPS API gives each.
var itemStatuses = [...]struct {
	statusName
	requestStatus string
}{
	{statusName{"0001", "Item fully dispensed"}, "completed"},
	{statusName{"0002", "Item not dispensed"}, "stopped"},
	{statusName{"0003", "Item dispensed - partial"}, "active"},
	{statusName{"0004", "Item not dispensed owing"}, "active"},
	{statusName{"0005", "Item cancelled"}, "cancelled"},
	{statusName{"0006", "Expired"}, "stopped"},
	{statusName{"0007", "To Be Dispensed"}, "active"},
	{statusName{"0008", "Item with dispenser"}, "active"},
}

// Default statuses of a released prescription whose FHIR says none: Spine
// releases prescriptions that are to be dispensed, and writes them so.
const (
	defaultPrescriptionStatus = "0001"
	defaultItemStatus         = "0007"
)

func prescriptionStatusDisplay(code string) string {
	for _, s := range prescriptionStatuses {
		if s.code == code {
			return s.display
		}
	}
	return ""
}

func itemStatusDisplay(code string) string {
	for _, s := range itemStatuses {
		if s.code == code {
			return s.display
		}
	}
	return ""
}

// itemStatusFromRequest is the item status of a MedicationRequest that has
// no dispenseStatus: by its status (cancelled, completed, stopped), else to
// be dispensed.
func itemStatusFromRequest(status string) string {
	switch status {
	case "cancelled":
		return "0005"
	case "completed":
		return "0001"
	case "stopped":
		return "0002"
	}
	return defaultItemStatus
}

// requestStatusOfItem is the MedicationRequest.status of an item status.
func requestStatusOfItem(code string) string {
	for _, s := range itemStatuses {
		if s.code == code {
			return s.requestStatus
		}
	}
	return "active"
}

// writeReleasedPrescription writes one released prescription as a
// component of parent (the PrescriptionReleaseResponse) from a
// prescription-order Bundle, and returns where its signature goes.
func writeReleasedPrescription(c *core.BundleContext, parent *etree.Element, env core.Env) *core.SignaturePlacement {
	comp := v3.Add(parent, "component", "type", "ActRelationship", "typeCode", "COMP", "contextConductionInd", "false")
	v3.AddValue(comp, "seperatableInd", "false")
	tpl := v3.Add(comp, "templateId", "root", oidReleaseTemplate, "extension", releasePayloadType)
	sig := prescribe.WriteParentPrescription(c, comp, env)
	pp := comp.SelectElement("ParentPrescription")
	if pp == nil || c.Failed() {
		return sig
	}
	if !releaseVerbatim(c) {
		addReleaseParts(c, pp, nil, nil)
	}
	if ext := releaseTemplate(c); ext != "" {
		tpl.CreateAttr("extension", ext)
	} else if tid := pp.SelectElement("typeId"); tid != nil {
		if ext := tid.SelectAttrValue("extension", ""); ext != "" {
			tpl.CreateAttr("extension", ext)
		}
	}
	return sig
}

// releaseTemplate returns the first MedicationRequest's
// ExtensionReleaseTemplate value, or "".
func releaseTemplate(c *core.BundleContext) string {
	for _, e := range c.Bundle.Entry {
		if mr, ok := e.Resource.(*fhir.MedicationRequest); ok {
			if ext := fhir.FindExtension(mr.Extension, ExtensionReleaseTemplate); ext != nil && ext.ValueString != nil {
				return *ext.ValueString
			}
			return ""
		}
	}
	return ""
}

// releaseVerbatim reports whether the first MedicationRequest says its
// carried ParentPrescription is the released one, additions included.
func releaseVerbatim(c *core.BundleContext) bool {
	for _, e := range c.Bundle.Entry {
		if mr, ok := e.Resource.(*fhir.MedicationRequest); ok {
			ext := fhir.FindExtension(mr.Extension, ExtensionReleaseVerbatim)
			return ext != nil && ext.ValueBoolean != nil && *ext.ValueBoolean
		}
	}
	return false
}

// addReleaseParts adds Spine's release additions to a ParentPrescription
// written from FHIR, each only where the element is not there already.
// edits (nil: not wanted) gets the elements inserted and changed. parts
// (nil: each made in place) gives the parts of a prescription written
// back only to be compared (see releasedParts).
func addReleaseParts(c *core.BundleContext, pp *etree.Element, edits *core.TreeEdits, parts *releasedParts) {
	if tid := pp.SelectElement("typeId"); tid != nil {
		tid.CreateAttr("extension", releasePayloadType)
		noteEdit(edits, editChanged, tid)
	}
	rx := v3.FindPath(pp, "pertinentInformation1", "pertinentPrescription")
	if rx == nil {
		return
	}
	var room [8]releasedItemRequest
	reqs := releaseRequests(c, room[:0])
	// What the additions go after, and which of them are there already,
	// in one look at the prescription's children.
	var itemRoom [8]*etree.Element
	ch := prescriptionChildrenOf(rx, itemRoom[:0])
	status, anchors := ch.status, ch.anchors
	low, high := ch.low != nil, ch.high != nil
	var lastItem *etree.Element // the last pertinentInformation2
	if len(ch.items) > 0 {
		lastItem = ch.items[len(ch.items)-1]
	}
	// The status goes after the last pertinentInformation5, else
	// pertinentInformation7, component1, responsibleParty or author, the
	// first of them the prescription has.
	var after *etree.Element
	for _, a := range anchors {
		if a != nil {
			after = a
			break
		}
	}
	if status == nil {
		rel := parts.put(rx, after, partPrescriptionStatus, releasePrescriptionStatus(c, reqs))
		after = rel
		noteEdit(edits, editInserted, rel)
	} else {
		after = status
	}
	birth := ""
	if bt := v3.FindPath(pp, "recordTarget", "Patient", "patientPerson", "birthTime"); bt != nil {
		birth = bt.SelectAttrValue("value", "")
	}
	// Nothing added so far is a pertinentInformation9, 11 or 2.
	if lowDate, highDate, ok := exemptionDates(birth); ok {
		if !low {
			noteEdit(edits, editInserted, parts.put(rx, after, partLowExemption, statusName{code: lowDate}))
		}
		if !high && lastItem != nil {
			noteEdit(edits, editInserted, parts.put(rx, lastItem, partHighExemption, statusName{code: highDate}))
		}
	}
	for _, t := range rx.Child {
		rel, ok := t.(*etree.Element)
		if !ok || rel.Tag != "pertinentInformation2" {
			continue
		}
		li := rel.SelectElement("pertinentLineItem")
		if li == nil || li.SelectElement("pertinentInformation4") != nil {
			continue
		}
		st := statusName{defaultItemStatus, itemStatusDisplay(defaultItemStatus)}
		if id := li.SelectElement("id"); id != nil {
			if r := requestOfItem(reqs, id.SelectAttrValue("root", "")); r != nil {
				st = releaseItemStatus(c, *r)
			}
		}
		is := parts.put(li, lastOf(li, "component", "product", "repeatNumber", "effectiveTime"), partItemStatus, st)
		noteEdit(edits, editInserted, is)
	}
}

// prescriptionChildren are the children of a pertinentPrescription that
// the release additions concern, found in one look at them.
type prescriptionChildren struct {
	// status, low and high are the first pertinentInformation10, 9 and 11
	// (as SelectElement finds them), or nil.
	status, low, high *etree.Element
	// items are the pertinentInformation2 relationships, in order.
	items []*etree.Element
	// anchors are the last pertinentInformation5, pertinentInformation7,
	// component1, responsibleParty and author, or nil.
	anchors [5]*etree.Element
}

// prescriptionChildrenOf looks at rx's children once for what
// prescriptionChildren holds, appending the items to items.
func prescriptionChildrenOf(rx *etree.Element, items []*etree.Element) prescriptionChildren {
	ch := prescriptionChildren{items: items}
	for _, t := range rx.Child {
		el, ok := t.(*etree.Element)
		if !ok {
			continue
		}
		switch el.Tag {
		case "pertinentInformation10":
			if ch.status == nil {
				ch.status = el
			}
		case "pertinentInformation9":
			if ch.low == nil {
				ch.low = el
			}
		case "pertinentInformation11":
			if ch.high == nil {
				ch.high = el
			}
		case "pertinentInformation2":
			ch.items = append(ch.items, el)
		case "pertinentInformation5":
			ch.anchors[0] = el
		case "pertinentInformation7":
			ch.anchors[1] = el
		case "component1":
			ch.anchors[2] = el
		case "responsibleParty":
			ch.anchors[3] = el
		case "author":
			ch.anchors[4] = el
		}
	}
	return ch
}

// partKind names one of Spine's release additions.
type partKind int

const (
	partPrescriptionStatus partKind = iota // pertinentInformation10
	partItemStatus                         // a line item's pertinentInformation4
	partLowExemption                       // pertinentInformation9
	partHighExemption                      // pertinentInformation11
)

// addPart adds the release addition of a kind to parent, right after
// anchor (see addAfter): a status st, or an exemption whose date is
// st.code.
func addPart(parent, anchor *etree.Element, kind partKind, st statusName) *etree.Element {
	switch kind {
	case partLowExemption:
		return exemption(parent, anchor, "pertinentInformation9", "pertinentLowPermanentExemptionInfo", "0002", "is under 16 years of age", st.code)
	case partHighExemption:
		return exemption(parent, anchor, "pertinentInformation11", "pertinentHighPermanentExemptionInfo", "0004", "is 60 years of age or over", st.code)
	}
	tag, act, code, system := "pertinentInformation10", "pertinentPrescriptionStatus", "PS", v3.OIDPrescriptionStatus
	updateMode := "added"
	if kind == partItemStatus {
		tag, act, code, system = "pertinentInformation4", "pertinentItemStatus", "IS", v3.OIDItemStatus
		updateMode = ""
	}
	rel := releaseRelationship(parent, anchor, tag, "false", updateMode)
	obs := v3.Add(rel, act, "type", "Observation", "classCode", "OBS", "moodCode", "EVN")
	v3.AddCV(obs, "code", code, v3.OIDPertinentCode, "")
	v3.AddCV(obs, "value", st.code, system, st.display)
	return rel
}

// releasedParts are the release additions put into the ParentPrescriptions
// of a response that are written back only to be compared with the
// released ones (releasedFrom): each made once a response, and moved from
// the tree of one prescription into the next one's (the tree of the one
// before is no longer looked at) instead of being made again for each, an
// exemption with its date changed. Moved, a part leaves the tree it was in,
// which etree does for an element added elsewhere. A nil *releasedParts
// makes each part where it goes (the answer's prescriptions, which are
// written out, need their own).
type releasedParts struct {
	sp     *v3.Space      // where the parts are made
	holder *etree.Element // the parts' parent while made; nil: none yet
	gen    int            // counts the prescriptions the parts went into
	parts  []releasedPart
}

// releasedPart is a part of releasedParts.
type releasedPart struct {
	kind partKind
	st   statusName     // a status part's status
	el   *etree.Element // the relationship
	date *etree.Element // an exemption's value, whose date changes
	gen  int            // the prescription it is in (releasedParts.gen)
}

// next readies the parts for the next prescription.
func (p *releasedParts) next() {
	if p != nil {
		p.gen++
	}
}

// put adds the part of a kind, for st (see addPart), to parent right after
// anchor, as addPart does, and returns it: one of p's that the prescription
// does not hold yet when p has it, else one made (and kept in p).
func (p *releasedParts) put(parent, anchor *etree.Element, kind partKind, st statusName) *etree.Element {
	if p == nil {
		return addPart(parent, anchor, kind, st)
	}
	exemption := kind == partLowExemption || kind == partHighExemption
	var part *releasedPart
	for i := range p.parts {
		if q := &p.parts[i]; q.kind == kind && q.gen != p.gen && (exemption || q.st == st) {
			part = q
			break
		}
	}
	if part == nil {
		if p.holder == nil {
			p.holder = p.sp.NewHolder("releasedParts")
		}
		p.parts = append(p.parts, releasedPart{kind: kind, st: st, el: addPart(p.holder, nil, kind, st)})
		part = &p.parts[len(p.parts)-1]
		if exemption {
			part.date = v3.FindPath(part.el, exemptionAct(kind), "value")
		}
	} else if exemption {
		part.date.CreateAttr("value", st.code)
	}
	part.gen = p.gen
	return insertAfter(parent, anchor, part.el)
}

// exemptionAct is the act of an exemption part.
func exemptionAct(kind partKind) string {
	if kind == partLowExemption {
		return "pertinentLowPermanentExemptionInfo"
	}
	return "pertinentHighPermanentExemptionInfo"
}

// releasedItemRequest is a MedicationRequest of a Bundle and the index of its
// entry.
type releasedItemRequest struct {
	mr    *fhir.MedicationRequest
	entry int
}

// path is the request's element path, for a problem found in it.
func (r releasedItemRequest) path() string {
	return core.Indexed("Bundle.entry", r.entry) + ".resource"
}

// extension returns the request's extension of a URL, or nil; more than
// one is a problem, recorded as BundleContext.Extension records it (with
// the path made only then).
func (r releasedItemRequest) extension(c *core.BundleContext, url string) *fhir.Extension {
	var found *fhir.Extension
	for i := range r.mr.Extension {
		if r.mr.Extension[i].URL != url {
			continue
		}
		if found != nil {
			return c.ExtensionAt(r.mr.Extension, url, r.path(), ".extension")
		}
		found = &r.mr.Extension[i]
	}
	return found
}

// releaseRequests appends the bundle's MedicationRequests to reqs.
func releaseRequests(c *core.BundleContext, reqs []releasedItemRequest) []releasedItemRequest {
	for i, e := range c.Bundle.Entry {
		if mr, ok := e.Resource.(*fhir.MedicationRequest); ok {
			reqs = append(reqs, releasedItemRequest{mr, i})
		}
	}
	return reqs
}

// requestOfItem returns the last of reqs with a line item id that is id
// in upper case as id is, or nil.
func requestOfItem(reqs []releasedItemRequest, id string) *releasedItemRequest {
	for i := len(reqs) - 1; i >= 0; i-- {
		for _, ident := range reqs[i].mr.Identifier {
			if ident.System == fhir.SystemLineItemID && sameUpper(ident.Value, id) {
				return &reqs[i]
			}
		}
	}
	return nil
}

// sameUpper reports whether strings.ToUpper(a) == strings.ToUpper(b),
// without making either for ASCII strings.
func sameUpper(a, b string) bool {
	if len(a) != len(b) {
		return strings.ToUpper(a) == strings.ToUpper(b)
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= utf8.RuneSelf || y >= utf8.RuneSelf {
			return strings.ToUpper(a) == strings.ToUpper(b)
		}
		if 'a' <= x && x <= 'z' {
			x -= 'a' - 'A'
		}
		if 'a' <= y && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// releaseRelationship adds to parent, right after anchor (see addAfter),
// <tag type="ActRelationship" typeCode="PERT" contextConductionInd="true">
// with its seperatableInd (and updateMode when given), as Spine writes the
// relationships it adds.
func releaseRelationship(parent, anchor *etree.Element, tag, separatable, updateMode string) *etree.Element {
	rel := addAfter(parent, anchor, tag, "type", "ActRelationship", "typeCode", "PERT", "contextConductionInd", "true")
	if updateMode != "" {
		v3.Add(rel, "seperatableInd", "updateMode", updateMode, "value", separatable)
	} else {
		v3.AddValue(rel, "seperatableInd", separatable)
	}
	return rel
}

// exemption adds a permanent exemption relationship to parent, right
// after anchor.
func exemption(parent, anchor *etree.Element, tag, act, code, display, date string) *etree.Element {
	rel := releaseRelationship(parent, anchor, tag, "true", "")
	obs := v3.Add(rel, act, "classCode", "OBS", "moodCode", "EVN")
	v3.AddCV(obs, "code", code, core.OIDChargeExemption, display)
	v3.AddValue(obs, "value", date)
	return rel
}

// exemptionDates returns the last day a person born on birth (a v3 TS of a
// day or finer) is under 16, and the day they turn 60: what
// time.Parse(core.V3DateLayout, birth[:8]) and AddDate(16, 0, -1) and
// AddDate(60, 0, 0) of it give, formatted in that layout, without the
// parser's and formatter's general machinery (TestExemptionDates and
// FuzzExemptionDates hold it to them).
func exemptionDates(birth string) (low, high string, ok bool) {
	if len(birth) < 8 {
		return "", "", false
	}
	var n [3]int // year, month, day
	for i, w := range [...]int{4, 2, 2} {
		for ; w > 0; w-- {
			c := birth[0]
			if c < '0' || c > '9' {
				return "", "", false
			}
			n[i] = n[i]*10 + int(c-'0')
			birth = birth[1:]
		}
	}
	year, month, day := n[0], time.Month(n[1]), n[2]
	// The parser takes a month of 1 to 12 and a day of that month.
	if month < time.January || month > time.December || day < 1 {
		return "", "", false
	}
	if _, m, d := time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Date(); m != month || d != day {
		return "", "", false
	}
	// AddDate(y, m, d) is time.Date of the fields added, normalised.
	return dayString(time.Date(year+16, month, day-1, 0, 0, 0, 0, time.UTC)), dayString(time.Date(year+60, month, day, 0, 0, 0, 0, time.UTC)), true
}

// dayString is t.Format(core.V3DateLayout), YYYYMMDD, in one allocation.
func dayString(t time.Time) string {
	y, m, d := t.Date()
	if y < 0 || y > 9999 {
		return t.Format(core.V3DateLayout)
	}
	b := [8]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10),
		byte('0' + int(m)/10), byte('0' + int(m)%10), byte('0' + d/10), byte('0' + d%10)}
	return string(b[:])
}

// lastOf returns the last child of parent named by the first of tags that
// parent has, or nil.
func lastOf(parent *etree.Element, tags ...string) *etree.Element {
	for _, t := range tags {
		for i := len(parent.Child) - 1; i >= 0; i-- {
			if el, ok := parent.Child[i].(*etree.Element); ok && el.Tag == t {
				return el
			}
		}
	}
	return nil
}

// addAfter adds a child element to parent as v3.Add does (in the slabs of
// parent's tree, when it has them, rather than in an allocation of its
// own) and moves it right after anchor; it stays last when anchor is nil or
// not parent's child, where insertAfter puts an element.
func addAfter(parent, anchor *etree.Element, tag string, attrs ...string) *etree.Element {
	el := v3.Add(parent, tag, attrs...)
	if anchor != nil && anchor.Parent() == parent && anchor.Index()+1 != el.Index() {
		parent.RemoveChildAt(el.Index())
		parent.InsertChildAt(anchor.Index()+1, el)
	}
	return el
}

// insertAfter inserts el into parent right after anchor (at the end when
// anchor is nil) and returns el.
func insertAfter(parent, anchor, el *etree.Element) *etree.Element {
	if anchor == nil || anchor.Parent() != parent {
		parent.AddChild(el)
		return el
	}
	parent.InsertChildAt(anchor.Index()+1, el)
	return el
}

// releasePrescriptionStatus is the prescription status the FHIR gives
// (Extension-EPS-TaskBusinessStatus of the first MedicationRequest that has
// one), or the default.
func releasePrescriptionStatus(c *core.BundleContext, reqs []releasedItemRequest) statusName {
	for _, r := range reqs {
		ext := r.extension(c, core.ExtensionTaskBusinessStatus)
		if ext == nil {
			continue
		}
		cd := ext.ValueCoding
		if cd == nil || cd.Code == "" {
			c.Fail(r.path()+".extension", "%s without a valueCoding code", core.ExtensionTaskBusinessStatus)
			break
		}
		if cd.System != "" && cd.System != fhir.CodeSystemTaskBusinessStatus {
			c.Fail(r.path()+".extension.valueCoding.system", "system %q, want %s", cd.System, fhir.CodeSystemTaskBusinessStatus)
		}
		return statusName{cd.Code, core.FirstNonEmpty(cd.Display, prescriptionStatusDisplay(cd.Code))}
	}
	return statusName{defaultPrescriptionStatus, prescriptionStatusDisplay(defaultPrescriptionStatus)}
}

// releaseItemStatus is a line item's status: the dispenseStatus of its
// Extension-EPS-DispensingInformation, else one its status gives.
func releaseItemStatus(c *core.BundleContext, r releasedItemRequest) statusName {
	mr := r.mr
	if ext := r.extension(c, core.ExtensionDispensingInformation); ext != nil {
		if ds := fhir.FindExtension(ext.Extension, "dispenseStatus"); ds != nil {
			cd := ds.ValueCoding
			if cd == nil || cd.Code == "" {
				c.Fail(r.path()+".extension.extension", "dispenseStatus without a valueCoding code")
				return statusName{}
			}
			if cd.System != "" && cd.System != fhir.CodeSystemMedicationDispenseType {
				c.Fail(r.path()+".extension.extension.valueCoding.system", "system %q, want %s", cd.System, fhir.CodeSystemMedicationDispenseType)
			}
			return statusName{cd.Code, core.FirstNonEmpty(cd.Display, itemStatusDisplay(cd.Code))}
		}
	}
	code := itemStatusFromRequest(mr.Status)
	return statusName{code, itemStatusDisplay(code)}
}
