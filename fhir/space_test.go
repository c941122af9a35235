package fhir

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// spaceSeed is a message Bundle whose resources hold structs of most of
// the types the slabs' block holds: Identifiers, References, Codings,
// CodeableConcepts, Extensions, a Dosage with its Timing, a
// DispenseRequest, a Quantity and lists of strings.
const spaceSeed = `{"resourceType":"Bundle","id":"b1","identifier":{"system":"https://tools.ietf.org/html/rfc4122","value":"a1"},"type":"message","entry":[
{"fullUrl":"urn:uuid:h1","resource":{"resourceType":"MessageHeader","id":"h1","eventCoding":{"system":"https://fhir.nhs.uk/CodeSystem/message-event","code":"prescription-order-update"},"source":{"endpoint":"urn:nhs-uk:addressing:ods:A83008"},"destination":[{"endpoint":"https://directory.spineservices.nhs.uk/STU3/Organization/FH542","receiver":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"FH542"}}}],"focus":[{"reference":"urn:uuid:m1"}]}},
{"fullUrl":"urn:uuid:m1","resource":{"resourceType":"MedicationRequest","id":"m1","extension":[{"url":"https://fhir.nhs.uk/StructureDefinition/Extension-DM-PrescriptionType","valueCoding":{"system":"https://fhir.nhs.uk/CodeSystem/prescription-type","code":"0101"}}],"identifier":[{"system":"https://fhir.nhs.uk/Id/prescription-order-item-number","value":"i1"}],"status":"cancelled","statusReason":{"coding":[{"system":"https://fhir.nhs.uk/CodeSystem/medicationrequest-status-reason","code":"0001","display":"Prescribing Error"}]},"intent":"order","medicationCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"39732311000001104","display":"Amoxicillin 250mg capsules"}]},"subject":{"reference":"urn:uuid:p1"},"requester":{"reference":"urn:uuid:r1"},"groupIdentifier":{"system":"https://fhir.nhs.uk/Id/prescription-order-number","value":"A0548B-A99968-451485"},"courseOfTherapyType":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy","code":"acute"}]},"dosageInstruction":[{"text":"500mg three times a day","timing":{"repeat":{"frequency":3,"period":1,"periodUnit":"d"}}}],"dispenseRequest":{"quantity":{"value":63,"unit":"capsule","system":"http://snomed.info/sct","code":"3316911000001105"}},"substitution":{"allowedBoolean":false}}},
{"fullUrl":"urn:uuid:p1","resource":{"resourceType":"Patient","id":"p1","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9449305552"}],"name":[{"use":"usual","family":"CORY","given":["ETTA","MAY"],"prefix":["MISS"]}],"gender":"female","birthDate":"1999-01-04","address":[{"use":"home","line":["123 Dale Avenue","Long Eaton"],"postalCode":"NG10 1NP"}]}}
]}`

// TestParseBundleInReuses decodes Bundles one after another in one Space,
// two of them before a Reset, and checks each against ParseBundle: the
// second Bundle before a Reset must not share the first's entry list, and
// a Reset must leave nothing of the last message in the Space's memory.
func TestParseBundleInReuses(t *testing.T) {
	long := strings.Replace(spaceSeed, `"entry":[`, `"entry":[`+strings.Repeat(`{"fullUrl":"urn:uuid:x","resource":{"resourceType":"Patient","id":"x","identifier":[{"value":"1"}]}},`, 70), 1)
	sp := &Space{}
	for round, msgs := range [][]string{{spaceSeed}, {spaceSeed, long}, {long}, {spaceSeed}} {
		var got []*Bundle
		for _, m := range msgs {
			b, err := ParseBundleIn(sp, []byte(m))
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			got = append(got, b)
		}
		for i, m := range msgs {
			want, err := ParseBundle([]byte(m))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got[i], want) {
				t.Fatalf("round %d, Bundle %d: decoded in a reused Space as\n%#v\nwant\n%#v", round, i, got[i], want)
			}
		}
		sp.Reset()
		if err := spaceCleared(sp); err != nil {
			t.Fatalf("round %d: after Reset, %v", round, err)
		}
	}
	if cap(sp.entries) > maxKeptEntries {
		t.Errorf("the Space kept an entry list of %d after a Bundle of 73 entries, want at most %d", cap(sp.entries), maxKeptEntries)
	}
}

// spaceCleared returns an error unless the memory sp keeps holds nothing:
// the block, the first slab of strings, the slabs' bookkeeping and the
// entry list all zero.
func spaceCleared(sp *Space) error {
	s := &sp.slabs
	if s.block == nil {
		return fmt.Errorf("no block kept")
	}
	if !reflect.NewAt(messageBlock.typ, s.block).Elem().IsZero() {
		return fmt.Errorf("the block holds the last message's structs")
	}
	for i, x := range s.byPlan {
		if x != (slab{}) {
			return fmt.Errorf("plan %d's slab is %+v, want empty", i, x)
		}
	}
	if len(s.firstStrs) == 0 || len(s.strs) != len(s.firstStrs) {
		return fmt.Errorf("the first slab of strings is not kept whole (%d of %d)", len(s.strs), len(s.firstStrs))
	}
	for _, str := range s.firstStrs {
		if str != "" {
			return fmt.Errorf("the slab of strings holds %q", str)
		}
	}
	if len(sp.entries) != 0 || sp.listed {
		return fmt.Errorf("%d entries kept listed", len(sp.entries))
	}
	for _, e := range sp.entries[:cap(sp.entries)] {
		if e != (Entry{}) {
			return fmt.Errorf("the entry list holds %+v", e)
		}
	}
	return nil
}

// TestParseBundleInFallsBack checks that a Bundle ParseBundleIn cannot read
// in its Space (an unusual shape, a broken one) is read as
// ParseBundleBorrowed reads it, and that a nil Space decodes in fresh
// memory.
func TestParseBundleInFallsBack(t *testing.T) {
	tests := []struct{ name, data string }{
		{"inline entry", `{"resourceType":"Bundle","entry":[{"resourceType":"Patient","id":"p"}]}`},
		{"entry named twice", `{"resourceType":"Bundle","entry":[],"entry":[{"resource":{"resourceType":"Patient","id":"p"}}]}`},
		{"not a Bundle", `{"resourceType":"Patient","id":"p"}`},
		{"cut short", spaceSeed[:len(spaceSeed)/2]},
		{"the seed", spaceSeed},
	}
	for _, tt := range tests {
		want, werr := ParseBundleBorrowed([]byte(tt.data))
		for _, sp := range []*Space{nil, {}} {
			got, err := ParseBundleIn(sp, []byte(tt.data))
			if fmt.Sprint(err) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
				t.Errorf("%s (Space %v): %#v, %v; ParseBundleBorrowed gives %#v, %v", tt.name, sp != nil, got, err, want, werr)
			}
		}
	}
}
