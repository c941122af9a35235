package prescribe

import (
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestWriteBackFixedStaysStrict checks that the ParentPrescription's
// elements WriteParentPrescription writes as v3.Fixed elements (its own
// attributes, its code, typeId, recordTarget, both pertinentInformation
// relationships and their templateIds, the care record category and its
// code, each component and actRef) hold the lossless check as strictly as
// the Add, AddII and AddCV calls they replaced: on each corpus Send
// message, signed variant and porxgate's v3 of the project's prescriptions
// (scratchMessages) whose write-back, made in a Space, the check finds the
// same as the original, every one of those attributes changed in the
// original makes it find them different.
func TestWriteBackFixedStaysStrict(t *testing.T) {
	sc := v3.NewScratch()
	checked := 0
	for m, msg := range scratchMessages(t) {
		read, b := readForWriteBack(t, msg)
		sp := sc.Get()
		regen := regenerateParentPrescription(b, benchEnv(), sp)
		if regen == nil || !core.SameSignedElementUnder(read.El, regen, signatureTextTag) {
			sc.Put(sp)
			continue // refused, or carried for what the FHIR does not hold
		}
		for _, path := range [][]string{
			{}, {"code"}, {"typeId"}, {"recordTarget"},
			{"pertinentInformation1"}, {"pertinentInformation1", "templateId"},
			{"pertinentInformation2"}, {"pertinentInformation2", "templateId"},
			{"pertinentInformation2", "pertinentCareRecordElementCategory"},
			{"pertinentInformation2", "pertinentCareRecordElementCategory", "code"},
			{"pertinentInformation2", "pertinentCareRecordElementCategory", "component"},
			{"pertinentInformation2", "pertinentCareRecordElementCategory", "component", "actRef"},
		} {
			el := childAt(read.El, path)
			if el == nil || len(el.Attr) == 0 {
				t.Fatalf("message %d: no %v with attributes in the original", m, path)
			}
			for i := range el.Attr {
				pp := read.El.Copy()
				a := &childAt(pp, path).Attr[i]
				a.Value += "x"
				if core.SameSignedElementUnder(pp, regen, signatureTextTag) {
					t.Errorf("message %d: %v's %s changed to %q is found the same as the write-back", m, path, a.Key, a.Value)
				}
				checked++
			}
		}
		sc.Put(sp)
	}
	if checked == 0 {
		t.Fatal("no message written back the same as it came: nothing checked")
	}
	t.Logf("%d changed attributes found different", checked)
}

// readForWriteBack opens a Send message and reads its ParentPrescription
// (fresh memory) to the Bundle regenerateParentPrescription writes back.
func readForWriteBack(tb testing.TB, msg []byte) (v3.Node, *fhir.Bundle) {
	tb.Helper()
	_, root, _, err := core.OpenV3(msg, benchEnv(), "Parent Prescription", v3.ParentPrescription, v3.ParentPrescriptionNonUrgent)
	if err != nil {
		tb.Fatal(err)
	}
	_, subject := v3.ReadWrapper(root)
	read := subject.Child("ParentPrescription")
	b, _, _ := readParentPrescription(read, msg, benchEnv(), nil)
	return read, b
}

// childAt returns the element path leads to under el (the first child of
// each name), or nil.
func childAt(el *etree.Element, path []string) *etree.Element {
	for _, tag := range path {
		if el = el.SelectElement(tag); el == nil {
			return nil
		}
	}
	return el
}
