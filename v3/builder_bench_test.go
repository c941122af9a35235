package v3

import (
	"testing"

	"github.com/beevik/etree"
)

// Fixed elements of the benchmark's tree, as a writer's package variables.
var (
	benchComponent = NewFixed("component", "typeCode", "COMP")
	benchSupply    = NewFixed("pertinentSupplyHeader", "classCode", "SBADM", "moodCode", "RQO")
	benchID        = NewFixed("id", "root", OIDSDSUser)
)

// buildBenchTree writes under parent a tree shaped as a ParentPrescription's
// write-back is: about half its elements Fixed, then instance identifiers,
// coded values and values, Add's with one or two attributes and text.
func buildBenchTree(parent *etree.Element, values []string) {
	for i := range 8 {
		v := values[i%len(values)]
		c := AddFixed(parent, benchComponent)
		h := AddFixed(c, benchSupply)
		AddII(h, "id", OIDSDSUser, v)
		AddCV(h, "code", v, "2.16.840.1.113883.2.1.3.2.4.15", "")
		AddValue(h, "effectiveTime", v)
		AddFixedII(h, benchID, v)
		a := Add(h, "author", "typeCode", "AUT", "contextControlCode", "OP")
		AddText(Add(a, "name"), "family", v)
		Add(a, "telecom", "use", "WP", "value", v)
		AddFixed(AddFixed(a, benchComponent), benchSupply)
		Add(h, "quantity", "value", v, "unit", "1")
	}
}

// BenchmarkBuildTree measures the builder on a tree of 104 elements written
// in a Space (as the lossless check's write-back writes a prescription),
// the Space given back after each.
func BenchmarkBuildTree(b *testing.B) {
	values := []string{"ABC123", "1.0", "20240101"}
	sc := NewScratch()
	b.ReportAllocs()
	for b.Loop() {
		sp := sc.Get()
		buildBenchTree(sp.NewHolder("subject"), values)
		sc.Put(sp)
	}
}
