package ack

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// ackCorpusPayload returns the MCCI acknowledgement inside a corpus file (a
// bare payload, a SOAP envelope or an ebXML MIME message), with the
// namespace it inherits declared on it, or nil when the file holds none.
func ackCorpusPayload(t *testing.T, data []byte) []byte {
	t.Helper()
	chunks := [][]byte{data}
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("<")) {
		chunks = bytes.Split(data, []byte("----=_MIME-Boundary"))
	}
	for _, c := range chunks {
		if len(chunks) > 1 {
			// Skip the MIME part's headers: the body follows the first blank line.
			if h := bytes.Index(c, []byte("\n\n")); h >= 0 {
				c = c[h+2:]
			} else if h := bytes.Index(c, []byte("\r\n\r\n")); h >= 0 {
				c = c[h+4:]
			}
		}
		i := bytes.Index(c, []byte("<"))
		if i < 0 {
			continue
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(bytes.TrimRight(c[i:], " \t\r\n-")); err != nil || doc.Root() == nil {
			continue
		}
		el := doc.Root().FindElement("//" + v3.ApplicationAcknowledgement)
		if doc.Root().Tag == v3.ApplicationAcknowledgement {
			el = doc.Root()
		}
		if el == nil {
			continue
		}
		cp := el.Copy()
		key := "xmlns"
		if el.Space != "" {
			key += ":" + el.Space
		}
		cp.CreateAttr(key, v3.Namespace)
		out := etree.NewDocument()
		out.SetRoot(cp)
		b, err := out.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return nil
}

// TestAckCorpusRoundTrip reads every acknowledgement of the corpus
// spine-responses, maps it to FHIR and back, and requires the very same
// acknowledgement (ParseAck accepts nothing it does not write back).
func TestAckCorpusRoundTrip(t *testing.T) {
	tr := AckTranslator()
	eachCorpusAck(t, func(t *testing.T, payload []byte) {
		want, err := ParseAck(payload)
		if err != nil {
			t.Fatalf("ParseAck: %v", err)
		}
		body, meta, err := tr.ToFHIR(payload, ackTestEnv())
		if err != nil {
			t.Fatalf("ToFHIR: %v", err)
		}
		out, err := tr.ToV3(body, meta, ackTestEnv())
		if err != nil {
			t.Fatalf("ToV3: %v", err)
		}
		got, err := ParseAck(out)
		if err != nil {
			t.Fatalf("ParseAck(ToV3): %v\n%s", err, out)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip =\n%+v\nwant\n%+v", got, want)
		}
		var oo fhir.OperationOutcome
		if err := fhir.Unmarshal(body, &oo); err != nil {
			t.Fatal(err)
		}
		if oo.ID != want.ID {
			t.Errorf("OperationOutcome.id = %q, want the acknowledgement id %q", oo.ID, want.ID)
		}
		checkCorpusOutcome(t, want, &oo)
	})
}

// eachCorpusAck runs check, as a subtest named by the file, on each
// acknowledgement in the corpus's spine-responses, and wants all five.
func eachCorpusAck(t *testing.T, check func(t *testing.T, payload []byte)) {
	t.Helper()
	files := corpustest.Walk(t, func(rel string) bool {
		return filepath.Dir(rel) == "spine-responses" && filepath.Ext(rel) == ".xml"
	})
	seen := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		payload := ackCorpusPayload(t, data)
		if payload == nil {
			continue
		}
		seen++
		t.Run(filepath.Base(f), func(t *testing.T) { check(t, payload) })
	}
	if seen != 5 {
		t.Errorf("found %d acknowledgements in spine-responses, want 5 (async_success, async_error, async_multiple_error, sync_error, sync_multiple_error)", seen)
	}
}

// checkCorpusOutcome checks the EPS-facing codings of the outcome made from
// a corpus acknowledgement: what the EPS API itself makes of it.
func checkCorpusOutcome(t *testing.T, a Ack, oo *fhir.OperationOutcome) {
	t.Helper()
	switch a.TypeCode {
	case core.AckAccepted:
		if want := []fhir.Issue{{Severity: "information", Code: "informational"}}; !reflect.DeepEqual(oo.Issue, want) {
			t.Errorf("AA issues = %+v, want the EPS success shape %+v", oo.Issue, want)
		}
	case core.AckError:
		for i, iss := range oo.Issue {
			// Spine's 16.34 5000 is the EPS API's FAILURE_TO_PROCESS_MESSAGE with the displayName.
			want := fhir.Coding{System: fhir.CodeSystemSpineErrorOrWarning, Code: "FAILURE_TO_PROCESS_MESSAGE", Display: a.Reasons[i].Display}
			if iss.Code != "processing" || iss.Details.Coding[0] != want {
				t.Errorf("issue[%d] = %+v, want processing %+v", i, iss, want)
			}
		}
	case core.AckRejected:
		for i, iss := range oo.Issue {
			want := fhir.Coding{System: fhir.CodeSystemSpineErrorOrWarning, Code: "202", Display: a.Details[i].Display}
			if iss.Code != "invalid" || iss.Details.Coding[0] != want {
				t.Errorf("issue[%d] = %+v, want invalid %+v", i, iss, want)
			}
		}
	}
}

// TestAckCorpusThroughEPSShape: for every acknowledgement of the corpus
// spine-responses, the outcome the EPS API makes of it (porxgate's outcome
// without what porxgate adds: the extensions and the urn:oid codings; the
// HTTP status of the EPS API's getStatusCode, 200 when every issue is
// informational, else 400), answered by AckFromOutcome, gives the legacy
// side Spine's own acknowledgement type and codes back. (Checked outside
// the repository against the official translator's output for the same
// files.)
func TestAckCorpusThroughEPSShape(t *testing.T) {
	eachCorpusAck(t, func(t *testing.T, payload []byte) {
		spine, err := ParseAck(payload)
		if err != nil {
			t.Fatal(err)
		}
		oo, _ := AckToOutcome(spine)
		oo.ID, oo.Extension = "", nil
		status := 200
		for i := range oo.Issue {
			if oo.Issue[i].Details != nil {
				oo.Issue[i].Details.Coding = oo.Issue[i].Details.Coding[:1]
				oo.Issue[i].Details.Extension = nil
			}
			if oo.Issue[i].Code != "informational" {
				status = 400
			}
		}
		got, _, err := AckFromOutcome(oo, status, AckRequest{RequestID: spine.MessageRef, Interaction: v3.DispenseNotification, SenderASID: "1", ReceiverASID: "2"}, ackTestEnv())
		if err != nil {
			t.Fatal(err)
		}
		if got.TypeCode != spine.TypeCode || !reflect.DeepEqual(got.Details, spine.Details) || !reflect.DeepEqual(got.Reasons, spine.Reasons) {
			t.Errorf("through EPS's outcome: %s %+v %+v\nSpine sent %s %+v %+v", got.TypeCode, got.Details, got.Reasons, spine.TypeCode, spine.Details, spine.Reasons)
		}
	})
}
