package prescribe

import (
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
)

// repeatScope values of ExtensionRepeatNumber.
const (
	repeatScopePrescription = "prescription"
	repeatScopeLineItem     = "lineItem"
)

// repeatNumberExtension makes an ExtensionRepeatNumber.
func repeatNumberExtension(scope, low, high string) fhir.Extension {
	s := scope
	ext := fhir.Extension{URL: core.ExtensionRepeatNumber, Extension: []fhir.Extension{{URL: "scope", ValueCode: &s}}}
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
func repeatNumberOverride(c *core.BundleContext, exts []fhir.Extension, scope, path string) (low, high string, ok bool) {
	for i := range exts {
		e := &exts[i]
		if e.URL != core.ExtensionRepeatNumber {
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
			c.Fail(core.Indexed(path+".extension", i), "repeat number needs both low and high, or neither")
		}
		return low, high, true
	}
	return "", "", false
}

// stringExtension returns the valueString of the only extension with a URL.
func stringExtension(c *core.BundleContext, exts []fhir.Extension, url, path string) string {
	if e := c.ExtensionAt(exts, url, path, ".extension"); e != nil && e.ValueString != nil {
		return *e.ValueString
	}
	return ""
}

// boolExtension returns the valueBoolean of the only extension with a URL.
func boolExtension(c *core.BundleContext, exts []fhir.Extension, url, path string) bool {
	if e := c.ExtensionAt(exts, url, path, ".extension"); e != nil && e.ValueBoolean != nil {
		return *e.ValueBoolean
	}
	return false
}
