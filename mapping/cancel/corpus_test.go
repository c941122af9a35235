package cancel_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/cancel"
	"github.com/porxgate/porxgate/mapping/conformance"
	"github.com/porxgate/porxgate/mapping/core"
)

// spinePayload returns the HL7 part of a Spine ebXML message of the corpus:
// the MIME part whose document is the interaction itself.
func spinePayload(t *testing.T, data []byte) []byte {
	t.Helper()
	for _, part := range bytes.Split(data, []byte("----=_MIME-Boundary")) {
		i := bytes.Index(part, []byte("<?xml"))
		if i < 0 {
			continue
		}
		chunk := bytes.TrimRight(part[i:], " \t\r\n\"-")
		got, tag, err := conformance.ExtractPayload(chunk)
		if err == nil && strings.HasPrefix(tag, "PORX_IN0501") && bytes.Equal(got, chunk) {
			return chunk
		}
	}
	t.Fatal("no cancel response payload in the message")
	return nil
}

// TestCancelSpineResponsesRoundTrip checks that every Spine cancel response
// of the corpus maps to FHIR and back unchanged under the corpus rules.
func TestCancelSpineResponsesRoundTrip(t *testing.T) {
	dir := corpustest.Dir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "spine-responses", "cancel_*.xml"))
	if len(files) == 0 {
		t.Fatal("no spine-responses/cancel_*.xml in the corpus")
	}
	tr := mapping.NewRegistry().ByInteraction("PORX_IN050101UK31")
	if tr == nil {
		t.Fatal("no translator registered for PORX_IN050101UK31")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := spinePayload(t, raw)
			env := conformance.Env()
			body, meta, err := tr.ToFHIR(want, env)
			if err != nil {
				t.Fatalf("ToFHIR: %v", err)
			}
			got, err := tr.ToV3(body, meta, env)
			if err != nil {
				t.Fatalf("ToV3: %v", err)
			}
			d, err := conformance.Compare(want, got, conformance.Rules{FHIRRequest: want})
			if err != nil {
				t.Fatal(err)
			}
			if d != nil {
				t.Errorf("%s", d)
			}
		})
	}
}

// TestCancelCorpusRequestsNeedNoLayout checks that the corpus Cancel
// Requests map to FHIR without porxgate's layout or v3 extensions: the
// FHIR form alone gives them back.
func TestCancelCorpusRequestsNeedNoLayout(t *testing.T) {
	dir := corpustest.Dir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "examples", "*", "*", "*", "*", "cancellations", "*-Convert-Response-Cancel-200_OK.xml"))
	if len(files) != 10 {
		t.Fatalf("%d corpus cancel requests, want 10", len(files))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		body, _, err := cancel.CancelToFHIR(raw, conformance.Env())
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if bytes.Contains(body, []byte(cancel.ExtensionV3Layout)) || bytes.Contains(body, []byte(cancel.ExtensionCancelV3)) {
			t.Errorf("%s: needed a porxgate extension", f)
		}
	}
}

var rCodeRE = regexp.MustCompile(`^R-([0-9]{4})-Cancellation\.json$`)

// TestCancelSpecErrorsMapToV3 maps every EPS answer example of
// examples/spec/errors/prescription-order-update to the Cancel Response
// code it stands for.
func TestCancelSpecErrorsMapToV3(t *testing.T) {
	dir := corpustest.Dir(t)
	req, err := os.ReadFile(filepath.Join("..", "..", "testdata", "cancel", "cancel_request_uk.xml"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "examples", "spec", "errors", "prescription-order-update", "*.json"))
	if len(files) == 0 {
		t.Fatal("no examples/spec/errors/prescription-order-update in the corpus")
	}
	seen := 0
	for _, f := range files {
		name := filepath.Base(f)
		want := ""
		switch m := rCodeRE.FindStringSubmatch(name); {
		case m != nil:
			want = m[1]
		case name == "bundle-success.json":
			want = "0001"
		case name == "bundle-error.json":
			want = "0006"
		}
		t.Run(name, func(t *testing.T) {
			answer, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			request := requestFor(t, req, answer)
			status := 400
			if bytes.Contains(answer, []byte(`"Bundle"`)) {
				status = 200
			}
			msg, out, err := cancel.CancelResponseFromEPS(request, answer, status, cancel.CancelReplyEnds{}, conformance.Env())
			if want == "" {
				// R-0006-Prescription.json is the prescription the R-0006
				// example cancels, not an answer.
				if err == nil {
					t.Errorf("not an answer, yet mapped to %+v", out.Code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			wantType := core.AckAccepted
			if status != 200 {
				wantType = core.AckError
			}
			if out.Code.Code != want || out.Code.System != "2.16.840.1.113883.2.1.3.2.4.17.19" || out.FHIRCode != "R-"+want || out.TypeCode != wantType {
				t.Errorf("outcome %+v, want code %s type %s", out, want, wantType)
			}
			if !bytes.Contains(msg, []byte(`code="`+want+`"`)) {
				t.Errorf("message lacks the code:\n%s", msg)
			}
			if out.Pending != (want == "0002" || want == "0003") {
				t.Errorf("pending = %v for %s", out.Pending, want)
			}
			_, _, status0 := cancel.CancelResponseFromEPS(request, answer, 0, cancel.CancelReplyEnds{}, conformance.Env())
			if status0 != nil {
				t.Errorf("unknown HTTP status: %v", status0)
			}
		})
		if want != "" {
			seen++
		}
	}
	if seen < 13 {
		t.Errorf("%d answers mapped, want the 11 R-codes and the two bundles", seen)
	}
}

// requestFor returns the fixture request changed to cancel the line item
// an EPS answer Bundle speaks of.
func requestFor(t *testing.T, req, answer []byte) []byte {
	t.Helper()
	res, err := fhir.DecodeResource(answer)
	if err != nil {
		t.Fatal(err)
	}
	b, ok := res.(*fhir.Bundle)
	if !ok {
		return req
	}
	for _, mr := range fhir.EntriesOf[*fhir.MedicationRequest](b) {
		if li := fhir.FindIdentifier(mr.Identifier, fhir.SystemLineItemID); li != "" {
			return bytes.ReplaceAll(req, []byte("A9B8C7D6-E5F4-4A3B-8C2D-1E0F9A8B7C6D"), []byte(strings.ToUpper(li)))
		}
	}
	return req
}
