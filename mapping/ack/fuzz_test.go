package ack

import (
	"errors"
	"reflect"
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// FuzzAckV3ToFHIR feeds arbitrary bytes to the acknowledgement translator:
// ParseAck must fail with a path-naming *v3.Error or succeed, and whatever it
// reads must come back unchanged through FHIR (ToFHIR, ToV3, ParseAck).
func FuzzAckV3ToFHIR(f *testing.F) {
	for _, a := range []Ack{ackSample(), {ID: "X", CreationTime: "2024", TypeCode: core.AckAccepted, MessageRef: "R", ReceiverASID: "1", SenderASID: "2", SystemASID: "2"}} {
		b, err := BuildAck(a)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	tr := AckTranslator()
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAck(data)
		if err != nil {
			var ve *v3.Error
			if !errors.As(err, &ve) || ve.Path == "" {
				t.Fatalf("ParseAck error %v: not a path-naming *v3.Error", err)
			}
			return
		}
		env := ackTestEnv()
		body, meta, err := tr.ToFHIR(data, env)
		if err != nil {
			t.Fatalf("ToFHIR of a readable acknowledgement: %v", err)
		}
		out, err := tr.ToV3(body, meta, env)
		if err != nil {
			t.Fatalf("ToV3: %v\n%s", err, body)
		}
		b, err := ParseAck(out)
		if err != nil {
			t.Fatalf("ParseAck of our own output: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("v3 → FHIR → v3 changed the acknowledgement:\n%+v\nwant\n%+v", b, a)
		}
	})
}

// FuzzAckFields builds acknowledgements from arbitrary field values: what
// BuildAck accepts, ParseAck must read back as the same Ack, and the trip
// through FHIR must keep it too.
func FuzzAckFields(f *testing.F) {
	f.Add("6E1A3F5C-7B2D-4C8E-9A0F-1B2C3D4E5F60", "20240305102030", "AE", "5F2B8C1E", "2.16.840.1.113883.2.1.3.2.4.16.34", "0004", "Prescription is with another dispenser", "ER")
	f.Add("X", "2024", "AR", "R", "2.16.840.1.113883.2.1.3.2.4.17.32", "202", "Duplicate <HL7> & \"ID\"\n\tError", "WG")
	// Spine's ER typeCode; 0006 under ER and IF (EPS: severity information);
	// a …17.19 code (EPS: passed through).
	f.Add("X", "2024", "ER", "R", "2.16.840.1.113883.2.1.3.2.4.16.34", "0006", "none", "ER")
	f.Add("X", "2024", "AE", "R", "2.16.840.1.113883.2.1.3.2.4.16.34", "0006", "", "IF")
	f.Add("X", "2024", "AE", "R", "2.16.840.1.113883.2.1.3.2.4.17.19", "0008", "Prescription/item not found", "WG")
	tr := AckTranslator()
	f.Fuzz(func(t *testing.T, id, ct, typeCode, ref, system, code, display, sev string) {
		a := Ack{ID: id, CreationTime: ct, TypeCode: typeCode, MessageRef: ref, ReceiverASID: "1", SenderASID: "2", SystemASID: "2"}
		c := core.SpineCode{System: system, Code: code, Display: display, Severity: sev}
		if system == v3.OIDAckDetailCode {
			a.Details = []core.SpineCode{c}
		} else {
			a.Reasons = []core.SpineCode{c}
		}
		xml, err := BuildAck(a)
		if err != nil {
			return
		}
		got, err := ParseAck(xml)
		if err != nil {
			t.Fatalf("ParseAck(BuildAck(a)): %v\n%s", err, xml)
		}
		a.ackDefaults()
		if !reflect.DeepEqual(got, a) {
			t.Fatalf("ParseAck(BuildAck(a)) = %+v\nwant %+v", got, a)
		}
		env := ackTestEnv()
		body, meta, err := tr.ToFHIR(xml, env)
		if err != nil {
			t.Fatalf("ToFHIR: %v", err)
		}
		out, err := tr.ToV3(body, meta, env)
		if err != nil {
			t.Fatalf("ToV3: %v", err)
		}
		back, err := ParseAck(out)
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Fatalf("through FHIR: %+v, %v\nwant %+v", back, err, got)
		}
	})
}
