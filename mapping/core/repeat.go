package core

import (
	"encoding/json"
	"strconv"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// TaskRepeatInstance returns the eRD issue a Task names as the v3 repeat
// instance (pertinentRepeatInstanceInfo, counted from 1), or "" when the
// Task has no Extension-EPS-RepeatInformation. EPS FHIR counts the issues
// before this one in numberOfRepeatsIssued (the EPS API's release response
// writes the v3 repeatNumber low - 1 there), and its return and withdraw
// translations write numberOfRepeatsIssued + 1 (return.ts
// getRepeatNumberIssued, withdraw.ts createPertinentInformation1), as the
// dispense notification's supply header does.
func TaskRepeatInstance(c *BundleContext, task *fhir.Task) string {
	ext := c.Extension(task.Extension, ExtensionEPSRepeatInformation, "Task.extension")
	if ext == nil {
		return ""
	}
	sub := fhir.FindExtension(ext.Extension, "numberOfRepeatsIssued")
	if sub == nil || sub.ValueInteger == nil {
		c.Fail("Task.extension", "extension %s has no numberOfRepeatsIssued", ExtensionEPSRepeatInformation)
		return ""
	}
	n, err := strconv.Atoi(string(*sub.ValueInteger))
	if err != nil || n < 0 {
		c.Fail("Task.extension", "numberOfRepeatsIssued %q is not a whole number", *sub.ValueInteger)
		return ""
	}
	return strconv.Itoa(n + 1)
}

// TaskRepeatExtension is the Task extension for a v3 repeat instance:
// numberOfRepeatsIssued is the instance - 1 (see TaskRepeatInstance).
func TaskRepeatExtension(instance string) fhir.Extension {
	n := json.Number(instance)
	if i, err := strconv.Atoi(instance); err == nil {
		n = json.Number(strconv.Itoa(i - 1))
	}
	return fhir.Extension{URL: ExtensionEPSRepeatInformation, Extension: []fhir.Extension{{URL: "numberOfRepeatsIssued", ValueInteger: &n}}}
}

// TaskAddRepeat writes a pertinentRepeatInstanceInfo relationship for a
// repeat instance.
func TaskAddRepeat(parent *etree.Element, tag, instance string) {
	v3.AddValue(AddAnnotation(parent, tag, "false", "pertinentRepeatInstanceInfo", "RPI"), "value", instance)
}

// TaskReadRepeat reads a pertinentRepeatInstanceInfo relationship: the
// repeat instance.
func TaskReadRepeat(rel v3.Node) string {
	a := Annotation(rel, "false", "pertinentRepeatInstanceInfo", "RPI", "contextConductionInd", "true", "typeCode", "PERT")
	ExpectModel(a, "code", "value")
	v := a.Child("value")
	Attrs(v, "value", "*", XSIType, "INT")
	ExpectChildren(v)
	val := v.Value()
	if n, err := strconv.Atoi(val); val != "" && (err != nil || n < 1) {
		v.Fail("%q is not an issue number (a whole number from 1)", val)
	}
	return val
}
