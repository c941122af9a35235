package fhir

import (
	"os"
	"testing"
)

func provBytes(b *testing.B) []byte {
	data, err := os.ReadFile("/work/shared/corpus/examples/primary-care/acute/nominated-pharmacy/medical-prescriber/cancellations/4-Process-Request-Cancel-200_OK.json")
	if err != nil {
		b.Fatal(err)
	}
	var out []byte
	EachEntryMember(data, func(int, string, []byte) bool { return true })
	s := bundleScan{data: data, ref: true}
	_, _, _ = s.entryArray(nil)
	for _, e := range s.entries {
		_ = e
	}
	// find the Provenance object's bytes
	EachMember(data, func(name string, v []byte) bool {
		if name == "entry" {
			EachElement(v, func(e []byte) bool {
				EachMember(e, func(n string, r []byte) bool {
					if n == "resource" {
						if t, _ := peekResourceType(r); t == "Provenance" {
							out = r
						}
					}
					return true
				})
				return true
			})
		}
		return true
	})
	if out == nil {
		b.Fatal("no Provenance")
	}
	return out
}

func BenchmarkZZProvDecode(b *testing.B) {
	p := provBytes(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := fastDecoder{data: p, ref: true, slabs: newSlabs()}
		res := newResource("Provenance")
		if _, ok := d.object(0, resourcePlans["Provenance"], resourcePointer(res)); !ok {
			b.Fatal("no")
		}
	}
}

func BenchmarkZZProvSkip(b *testing.B) {
	p := provBytes(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := fastDecoder{data: p, ref: true}
		if _, ok := d.skip(0); !ok {
			b.Fatal("no")
		}
	}
}
