package mapping

import (
	"github.com/porxgate/porxgate/fhir"
)

// porxgate's own FHIR extensions for the few v3 prescription values the EPS
// FHIR profiles have no place for. v3 → FHIR adds one only when the value
// differs from what the EPS rules derive on the way back, so FHIR made from
// EPS-shaped v3 carries none; FHIR → v3 honours them when present.
const (
	// PorxgateExtensionBase prefixes porxgate's extension URLs.
	PorxgateExtensionBase = "https://fhir.porxgate.dev/StructureDefinition/"
	// ExtensionRepeatNumber carries a v3 repeatNumber interval exactly
	// (sub-extensions scope = prescription | lineItem, low, high as
	// valueString; no low/high means "no repeatNumber element").
	ExtensionRepeatNumber = PorxgateExtensionBase + "Extension-Porxgate-RepeatNumber"
	// ExtensionTokenIssued carries pertinentTokenIssued when it is true
	// (valueBoolean); the EPS API always writes false.
	ExtensionTokenIssued = PorxgateExtensionBase + "Extension-Porxgate-TokenIssued"
	// ExtensionEffectiveTime carries the ParentPrescription effectiveTime
	// (valueString, a v3 TS) when neither the validity period start nor the
	// author time gives it.
	ExtensionEffectiveTime = PorxgateExtensionBase + "Extension-Porxgate-EffectiveTime"
)

// repeatScope values of ExtensionRepeatNumber.
const (
	repeatScopePrescription = "prescription"
	repeatScopeLineItem     = "lineItem"
)

// repeatNumberExtension makes an ExtensionRepeatNumber.
func repeatNumberExtension(scope, low, high string) fhir.Extension {
	s := scope
	ext := fhir.Extension{URL: ExtensionRepeatNumber, Extension: []fhir.Extension{{URL: "scope", ValueCode: &s}}}
	if low != "" {
		l := low
		ext.Extension = append(ext.Extension, fhir.Extension{URL: "low", ValueString: &l})
	}
	if high != "" {
		h := high
		ext.Extension = append(ext.Extension, fhir.Extension{URL: "high", ValueString: &h})
	}
	return ext
}

// repeatNumberOverride returns the interval an ExtensionRepeatNumber of the
// scope gives, and whether there is one.
func repeatNumberOverride(c *BundleContext, exts []fhir.Extension, scope, path string) (low, high string, ok bool) {
	for i := range exts {
		e := &exts[i]
		if e.URL != ExtensionRepeatNumber {
			continue
		}
		sc := fhir.FindExtension(e.Extension, "scope")
		if sc == nil || sc.ValueCode == nil || *sc.ValueCode != scope {
			continue
		}
		if l := fhir.FindExtension(e.Extension, "low"); l != nil && l.ValueString != nil {
			low = *l.ValueString
		}
		if h := fhir.FindExtension(e.Extension, "high"); h != nil && h.ValueString != nil {
			high = *h.ValueString
		}
		if (low == "") != (high == "") {
			c.Fail(indexed(path+".extension", i), "repeat number needs both low and high, or neither")
		}
		return low, high, true
	}
	return "", "", false
}

// stringExtension returns the valueString of the only extension with a URL.
func stringExtension(c *BundleContext, exts []fhir.Extension, url, path string) string {
	if e := c.Extension(exts, url, path+".extension"); e != nil && e.ValueString != nil {
		return *e.ValueString
	}
	return ""
}

// boolExtension returns the valueBoolean of the only extension with a URL.
func boolExtension(c *BundleContext, exts []fhir.Extension, url, path string) bool {
	if e := c.Extension(exts, url, path+".extension"); e != nil && e.ValueBoolean != nil {
		return *e.ValueBoolean
	}
	return false
}
