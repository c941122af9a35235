package core

import (
	"strconv"
	"strings"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// OnlyPatient returns the bundle's only Patient.
func OnlyPatient(c *BundleContext) *fhir.Patient {
	pats := fhir.EntriesOf[*fhir.Patient](c.Bundle)
	switch len(pats) {
	case 1:
		return pats[0]
	case 0:
		c.Fail("Bundle.entry", "no Patient")
	default:
		c.Fail(c.Path(pats[1]), "more than one Patient")
	}
	return nil
}

// AddAnnotation writes <tag contextConductionInd typeCode=PERT> with its
// seperatableInd and a <act classCode=OBS moodCode=EVN> whose code is one of
// the prescription annotation codes; it returns the act for its value.
func AddAnnotation(parent *etree.Element, tag, separatable, act, code string) *etree.Element {
	rel := v3.Add(parent, tag, "contextConductionInd", "true", "typeCode", "PERT")
	v3.AddValue(rel, "seperatableInd", separatable)
	a := v3.Add(rel, act, "classCode", "OBS", "moodCode", "EVN")
	v3.AddCV(a, "code", code, v3.OIDPertinentCode, "")
	return a
}

// DosageText returns the dosage instructions text: the text of a single
// dosage, or for several the texts of dosages with the same sequence joined
// by ", and " and the sequences joined by ", then ", as the EPS API does.
func DosageText(c *BundleContext, ds []fhir.Dosage, path string) string {
	switch len(ds) {
	case 0:
		c.Fail(path, "missing mandatory dosageInstruction")
		return ""
	case 1:
		return ds[0].Text
	}
	var groups [][]string
	for i, d := range ds {
		if d.Sequence == nil {
			c.Fail(Indexed(path, i)+".sequence", "dosage instructions lacking complete sequencing")
			return ""
		}
		seq, err := strconv.Atoi(string(*d.Sequence))
		if err != nil || seq < 0 || seq > 1000 {
			c.Fail(Indexed(path, i)+".sequence", "sequence %q is not a small whole number", *d.Sequence)
			return ""
		}
		for len(groups) <= seq {
			groups = append(groups, nil)
		}
		groups[seq] = append(groups[seq], d.Text)
	}
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = strings.Join(g, ", and ")
	}
	if parts[0] == "" {
		parts = parts[1:]
	}
	return strings.Join(parts, ", then ")
}
