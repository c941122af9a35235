package core

import (
	v3 "github.com/porxgate/porxgate/v3"
)

// ReadRecordTarget reads recordTarget/patient and returns the NHS number.
func ReadRecordTarget(rt v3.Node) string {
	Attrs(rt, "typeCode", "RCT")
	ExpectChildren(rt, "patient")
	pat := rt.Child("patient")
	Attrs(pat, "classCode", "PAT")
	ExpectChildren(pat, "id")
	id := pat.Child("id")
	Attrs(id, "root", v3.OIDNHSNumber, "extension", "*")
	return V3ID(id, v3.OIDNHSNumber)
}

// ReadPrescriptionID reads a short-form prescription id relationship.
func ReadPrescriptionID(rel v3.Node, act, code string, relAttrs ...string) string {
	if len(relAttrs) == 0 {
		relAttrs = []string{"contextConductionInd", "true", "typeCode", "PERT"}
	}
	a := Annotation(rel, "false", act, code, relAttrs...)
	ExpectChildren(a, "code", "value")
	v := a.Child("value")
	Attrs(v, "root", v3.OIDShortFormID, "extension", "*")
	ExpectChildren(v)
	id := V3ID(v, v3.OIDShortFormID)
	if id != "" {
		// The shape is checked; the check character is Spine's to judge
		// (see CheckShortFormID).
		if err := CheckShortFormID(id); err != nil {
			at := v
			at.Path += "/@extension"
			at.Fail("%v", err)
		}
	}
	return id
}
