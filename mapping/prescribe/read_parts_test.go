package prescribe

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestMedicationRequestsApart holds the MedicationRequests of a
// prescription, whose extensions come from one list and whose common
// values are shared (buildMedicationRequests), apart: each item's
// extensions fill their room exactly (with two more, released, for the
// release translation's), and what a caller appends to one item's lists
// or sets on it changes no other item.
func TestMedicationRequestsApart(t *testing.T) {
	for i, j := range ownPrescriptions(t) {
		msg, err := PrescribeToV3(j, core.Meta{}, benchEnv())
		if err != nil {
			t.Fatal(err)
		}
		for _, released := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d/released=%v", i, released), func(t *testing.T) {
				doc := etree.NewDocument()
				if err := doc.ReadFromBytes(msg); err != nil {
					t.Fatal(err)
				}
				env := core.FixedEnv()
				env.Released = released
				r, pp := v3.NewReader("PORX_IN020101UK31", doc.FindElement("//ParentPrescription"))
				b := ReadParentPrescription(pp, msg, env)
				if err := r.Err(); err != nil {
					t.Fatal(err)
				}
				mrs := fhir.EntriesOf[*fhir.MedicationRequest](b)
				if len(mrs) == 0 {
					t.Fatal("no MedicationRequest")
				}
				spare := 0
				if released {
					spare = 2
				}
				before := make([]fhir.MedicationRequest, len(mrs))
				for k, mr := range mrs {
					if got := cap(mr.Extension) - len(mr.Extension); got != spare {
						t.Errorf("item %d: room for %d more extensions, want %d", k, got, spare)
					}
					before[k] = deepCopyMR(t, mr)
				}
				for k, mr := range mrs {
					mr.Extension = append(mr.Extension, fhir.Extension{URL: "urn:test:a"}, fhir.Extension{URL: "urn:test:b"}, fhir.Extension{URL: "urn:test:c"})
					mr.Category = append(mr.Category, fhir.CodeableConcept{Text: "test"})
					mr.DispenseRequest.Extension = append(mr.DispenseRequest.Extension, fhir.Extension{URL: "urn:test:d"})
					mr.Identifier = append(mr.Identifier, fhir.Identifier{Value: "test"})
					mr.Status = "cancelled"
					// Each item as it was before, or as changed on purpose.
					before[k] = deepCopyMR(t, mr)
					if len(before[k].Extension) != len(mrs[k].Extension) || before[k].Extension[len(before[k].Extension)-1].URL != "urn:test:c" {
						t.Fatalf("item %d: extensions not added", k)
					}
					for l, other := range mrs {
						if l == k {
							continue
						}
						if got := deepCopyMR(t, other); !reflect.DeepEqual(got, before[l]) {
							t.Fatalf("changing item %d changed item %d", k, l)
						}
					}
				}
			})
		}
	}
}

// deepCopyMR returns a copy of mr that shares nothing with it, through
// its JSON.
func deepCopyMR(t *testing.T, mr *fhir.MedicationRequest) fhir.MedicationRequest {
	t.Helper()
	out, err := fhir.Marshal(mr)
	if err != nil {
		t.Fatal(err)
	}
	var cp fhir.MedicationRequest
	if err := fhir.Unmarshal(out, &cp); err != nil {
		t.Fatal(err)
	}
	return cp
}

// TestLentJoin holds lentJoin and lentFullURL to the strings they stand
// for, in a Space's room and in fresh memory, and each string to its own
// room.
func TestLentJoin(t *testing.T) {
	sc := v3.NewScratch()
	sp := sc.Get()
	defer sc.Put(sp)
	for _, s := range []*v3.Space{sp, nil} {
		var made []string
		for _, id := range []string{"", "a", "0b4ef1a2-5d5b-4c5e-9e42-6c1bd0c1d2a3", strings.Repeat("x", 5000)} {
			if got, want := lentFullURL(s, id), core.FullURL(id); got != want {
				t.Errorf("lentFullURL(%q) = %q, want %q", id, got, want)
			}
			got := lentJoin(s, "https://example.org/", id)
			if want := "https://example.org/" + id; got != want {
				t.Errorf("lentJoin(%q) = %q, want %q", id, got, want)
			}
			made = append(made, got)
		}
		for i, id := range []string{"", "a", "0b4ef1a2-5d5b-4c5e-9e42-6c1bd0c1d2a3", strings.Repeat("x", 5000)} {
			if made[i] != "https://example.org/"+id {
				t.Errorf("string %d written over by a later one", i)
			}
		}
	}
}

// TestLentLowerID holds lentLowerID and lentLowerIDURL to core.LowerID and
// core.LowerIDURL, in a Space's room and in fresh memory: ids in lower
// case, in capitals, mixed, past ASCII, empty.
func TestLentLowerID(t *testing.T) {
	sc := v3.NewScratch()
	sp := sc.Get()
	defer sc.Put(sp)
	ids := []string{"", "a", "A", "0B4EF1A2-5D5B-4C5E-9E42-6C1BD0C1D2A3", "0b4ef1a2-5d5b-4c5e-9e42-6c1bd0c1d2a3",
		"0b4ef1a2-5D5B-4c5e-9e42-6c1bd0c1d2a3", "ÉCOLE-ABC", "ABC-ÉCOLE", "abc-école", "Z@[`{"}
	for _, s := range []*v3.Space{sp, nil} {
		var lowers, urls []string
		for _, id := range ids {
			if got, want := lentLowerID(s, id), core.LowerID(id); got != want {
				t.Errorf("lentLowerID(%q) = %q, want %q", id, got, want)
			}
			lower, url := lentLowerIDURL(s, id)
			wantLower, wantURL := core.LowerIDURL(id)
			if lower != wantLower || url != wantURL {
				t.Errorf("lentLowerIDURL(%q) = %q, %q; want %q, %q", id, lower, url, wantLower, wantURL)
			}
			lowers, urls = append(lowers, lower), append(urls, url)
		}
		for i, id := range ids {
			if wantLower, wantURL := core.LowerIDURL(id); lowers[i] != wantLower || urls[i] != wantURL {
				t.Errorf("id %q written over by a later one", id)
			}
		}
	}
}
