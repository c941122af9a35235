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
	files := corpustest.Walk(t, func(rel string) bool {
		return filepath.Dir(rel) == "spine-responses" && filepath.Ext(rel) == ".xml"
	})
	tr := AckTranslator()
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
		t.Run(filepath.Base(f), func(t *testing.T) {
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
