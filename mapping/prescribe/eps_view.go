package prescribe

import (
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// EPSParentPrescription returns the ParentPrescription element that the EPS
// API derives from a prescription-order Bundle: porxgate's own extensions
// (ExtensionV3Original and the other Extension-Porxgate-*), which EPS does
// not read, are set aside first, so that a part porxgate could only carry
// verbatim is written as EPS would write it. The gateway's signature guard
// compares its signature fragments with those the prescriber signed.
func EPSParentPrescription(body []byte, env core.Env) (*etree.Element, error) {
	b, err := fhir.ParseBundle(body)
	if err != nil {
		return nil, &core.FHIRError{Interaction: prescribeInteraction(core.Meta{}, env), Path: "Bundle", Msg: err.Error()}
	}
	for _, mr := range fhir.EntriesOf[*fhir.MedicationRequest](b) {
		mr.Extension = withoutPorxgateExtensions(mr.Extension)
	}
	c := core.NewBundleContext(b, prescribeInteraction(core.Meta{}, env))
	subject := v3.NewHolder("subject")
	WriteParentPrescription(c, subject, env)
	if err := c.Err(); err != nil {
		return nil, err
	}
	return subject.SelectElement("ParentPrescription"), nil
}

// withoutPorxgateExtensions drops the extensions porxgate defines.
func withoutPorxgateExtensions(exts []fhir.Extension) []fhir.Extension {
	out := exts[:0:0]
	for _, e := range exts {
		if !strings.HasPrefix(e.URL, core.PorxgateExtensionBase) {
			out = append(out, e)
		}
	}
	return out
}
