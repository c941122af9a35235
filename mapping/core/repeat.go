package core

import (
	"encoding/json"
	"strconv"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// TaskRepeatIssued returns Extension-EPS-RepeatInformation's
// numberOfRepeatsIssued (the eRD issue), or "" when the Task has none.
func TaskRepeatIssued(c *BundleContext, task *fhir.Task) string {
	ext := c.Extension(task.Extension, ExtensionEPSRepeatInformation, "Task.extension")
	if ext == nil {
		return ""
	}
	sub := fhir.FindExtension(ext.Extension, "numberOfRepeatsIssued")
	if sub == nil || sub.ValueInteger == nil {
		c.Fail("Task.extension", "extension %s has no numberOfRepeatsIssued", ExtensionEPSRepeatInformation)
		return ""
	}
	if n, err := strconv.Atoi(string(*sub.ValueInteger)); err != nil || n < 0 {
		c.Fail("Task.extension", "numberOfRepeatsIssued %q is not a whole number", *sub.ValueInteger)
	}
	return string(*sub.ValueInteger)
}

// TaskRepeatExtension is the Task extension for a v3 repeat instance.
func TaskRepeatExtension(issued string) fhir.Extension {
	n := json.Number(issued)
	return fhir.Extension{URL: ExtensionEPSRepeatInformation, Extension: []fhir.Extension{{URL: "numberOfRepeatsIssued", ValueInteger: &n}}}
}

// TaskAddRepeat writes a pertinentRepeatInstanceInfo relationship.
func TaskAddRepeat(parent *etree.Element, tag, issued string) {
	v3.AddValue(AddAnnotation(parent, tag, "false", "pertinentRepeatInstanceInfo", "RPI"), "value", issued)
}

// TaskReadRepeat reads a pertinentRepeatInstanceInfo relationship.
func TaskReadRepeat(rel v3.Node) string {
	a := Annotation(rel, "false", "pertinentRepeatInstanceInfo", "RPI", "contextConductionInd", "true", "typeCode", "PERT")
	ExpectChildren(a, "code", "value")
	v := a.Child("value")
	Attrs(v, "value", "*")
	ExpectChildren(v)
	val := v.Value()
	if n, err := strconv.Atoi(val); val != "" && (err != nil || n < 0) {
		v.Fail("%q is not a whole number", val)
	}
	return val
}
