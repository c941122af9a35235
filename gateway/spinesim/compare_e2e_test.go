package spinesim_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway"
	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/internal/ids"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestCompareEndToEnd runs comparison mode on loopback: porxgate's FHIR
// path and the Spine stand-in answer the same prescription; the answers
// match when both environments agree, and a difference in the legacy
// environment's state (the prescription already there: a duplicate) or
// one injected into its answer shows up as a difference in the journal
// and in /metrics. The primary answer is kept for the sender (no routing
// table) either way.
func TestCompareEndToEnd(t *testing.T) {
	t.Run("fhir primary, answers match", func(t *testing.T) {
		r := startRig(t, "fhir", nil)
		id := send(t, r, prescription(t, "acute-nurse-controlled-drug-unsigned.json"))
		x := waitCompared(t, r, id)
		if x.Comparison.Result != "match" {
			t.Fatalf("comparison %+v\n%s", x.Comparison, fmtSteps(x))
		}
		if x.Outcome.Result != "accepted" {
			t.Errorf("outcome %+v, want accepted", x.Outcome)
		}
		kinds := map[string]int{}
		for _, s := range x.Steps {
			kinds[s.Kind]++
		}
		for _, k := range []string{journal.StepLegacyRequest, journal.StepFHIRRequest, journal.StepEPSAnswer, journal.StepV3Answer, journal.StepShadow} {
			if kinds[k] == 0 {
				t.Errorf("no %s step:\n%s", k, fmtSteps(x))
			}
		}
		if m := metric(t, r, `porxgate_compare_total{interaction="PORX_IN020101UK31",result="match"} 1`); m == "" {
			t.Errorf("/metrics has no match count: %s", metric(t, r, "porxgate_compare_total"))
		}
	})
	t.Run("legacy state differs: duplicate on the legacy side", func(t *testing.T) {
		r := startRig(t, "fhir", nil)
		payload := prescription(t, "repeat-prescribing-dental-four-items.json")
		first := send(t, r, payload)
		waitCompared(t, r, first)
		// The same prescription again (new MessageId): both environments
		// already have it, so both refuse it alike.
		second := send(t, r, payload)
		if x := waitCompared(t, r, second); x.Comparison.Result != "match" {
			t.Fatalf("second send: %+v\n%s", x.Comparison, fmtSteps(x))
		}
		// Now only the legacy side has seen a third prescription: issue it
		// there directly first, then through porxgate.
		third := prescription(t, "repeat-dispensing-pharmacist-endorsed.json")
		r.legacyOnly(t, third)
		x := waitCompared(t, r, send(t, r, third))
		if x.Comparison.Result != "differ" || len(x.Comparison.Differences) == 0 {
			t.Fatalf("comparison %+v, want differ\n%s", x.Comparison, fmtSteps(x))
		}
		if !strings.Contains(strings.Join(x.Comparison.Differences, "\n"), "typeCode") {
			t.Errorf("differences do not name the acknowledgement type: %v", x.Comparison.Differences)
		}
		if m := metric(t, r, `result="differ"} 1`); m == "" {
			t.Errorf("/metrics has no differ count: %s", metric(t, r, "porxgate_compare_total"))
		}
	})
	t.Run("legacy primary, difference injected into the legacy answer", func(t *testing.T) {
		alter := func(_ string, b []byte) []byte {
			return bytes.Replace(b, []byte(`typeCode="AA"`), []byte(`typeCode="AE"`), 1)
		}
		r := startRig(t, "legacy", alter)
		id := send(t, r, prescription(t, "acute-nurse-controlled-drug-unsigned.json"))
		x := waitCompared(t, r, id)
		if x.Comparison.Result != "differ" || x.Comparison.Primary != "legacy" {
			t.Fatalf("comparison %+v\n%s", x.Comparison, fmtSteps(x))
		}
		want := "legacy has AE, fhir has AA"
		if !strings.Contains(strings.Join(x.Comparison.Differences, "\n"), want) {
			t.Errorf("differences %v, want one saying %q", x.Comparison.Differences, want)
		}
		// The sender got the primary (legacy) answer: AE.
		if x.Outcome.Result != "rejected" && x.Outcome.Result != "error" {
			t.Errorf("outcome %+v: the sender should have the legacy (primary) answer", x.Outcome)
		}
	})
}

// TestCompareSOAP: a SOAP sync request (a nominated release) is compared
// too: the legacy path gets it as SOAP, the sender gets the primary reply
// in the HTTP response, and the two answers match when both environments
// hold the same (nothing to release).
func TestCompareSOAP(t *testing.T) {
	r := startRig(t, "fhir", nil)
	payload, err := os.ReadFile("../../testdata/release/nominated-release-request-060102.xml")
	if err != nil {
		t.Fatal(err)
	}
	id, resp, reply := postNominatedRelease(t, r.gateway, payload)
	if resp.StatusCode != 200 || !bytes.Contains(reply, []byte("PORX_IN110101UK30")) {
		t.Fatalf("SOAP reply %d\n%s", resp.StatusCode, reply)
	}
	x := waitCompared(t, r, id)
	if x.Comparison.Result != "match" || x.Transport != "soap" {
		t.Fatalf("comparison %+v over %s\n%s", x.Comparison, x.Transport, fmtSteps(x))
	}
	if x.Outcome.Result != "not-released" {
		t.Errorf("outcome %+v", x.Outcome)
	}
}

// TestCompareReleasedPrescription: a nominated release that releases a
// prescription is compared on the prescription it releases. Both
// environments release it alike (the FHIR path from EPS's own release
// shape): a match. The legacy environment's answer giving another author
// time, or another line item id (values of the prescription, absent from
// the release request), matched as well, both taken for values the
// answering system makes up; they are now differences.
func TestCompareReleasedPrescription(t *testing.T) {
	const authored, item = "20240502152005", "A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C01" // the fixture's
	tests := []struct {
		name  string
		alter func(string, []byte) []byte
		want  string // a difference; "": a match
	}{
		{"alike", nil, ""},
		{"another author time", func(i string, b []byte) []byte {
			if i != v3.NominatedReleaseResponse {
				return b
			}
			return bytes.ReplaceAll(b, []byte(authored), []byte("20240502160000"))
		}, "author/time@value: fhir has 20240502152005, legacy has 20240502160000"},
		{"another line item", func(i string, b []byte) []byte {
			if i != v3.NominatedReleaseResponse {
				return b
			}
			return bytes.Replace(b, []byte(item), []byte("B1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C01"), 1)
		}, "pertinentLineItem/id@root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startRig(t, "fhir", tt.alter)
			if x := waitCompared(t, r, send(t, r, prescription(t, "acute-nurse-controlled-drug-unsigned.json"))); x.Comparison.Result != "match" {
				t.Fatalf("prescription: %+v", x.Comparison)
			}
			payload, err := os.ReadFile("../../testdata/release/nominated-release-request-060102.xml")
			if err != nil {
				t.Fatal(err)
			}
			// The fixture prescription is nominated to FCG71.
			payload = bytes.ReplaceAll(payload, []byte("FQ202"), []byte("FCG71"))
			id, resp, reply := postNominatedRelease(t, r.gateway, payload)
			if resp.StatusCode != 200 || !bytes.Contains(reply, []byte(v3.NominatedReleaseResponse)) || !bytes.Contains(reply, []byte(item)) {
				t.Fatalf("SOAP reply %d, want the release of the prescription\n%.2000s", resp.StatusCode, reply)
			}
			x := waitCompared(t, r, id)
			all := strings.Join(x.Comparison.Differences, "\n")
			switch {
			case tt.want == "" && x.Comparison.Result != "match":
				t.Fatalf("comparison %+v", x.Comparison)
			case tt.want != "" && (x.Comparison.Result != "differ" || !strings.Contains(all, tt.want)):
				t.Fatalf("comparison %s, differences:\n%s\nwant one with %q", x.Comparison.Result, all, tt.want)
			}
		})
	}
}

// postNominatedRelease sends payload, a Nominated Release Request, to the
// gateway's SOAP door as a dispenser's system does and returns its
// MessageId, the HTTP answer and its body.
func postNominatedRelease(t *testing.T, gatewayURL string, payload []byte) (string, *http.Response, []byte) {
	t.Helper()
	id := strings.ToUpper(ids.NewUUID())
	body, err := ebxml.BuildSOAPRequest(ebxml.SOAPRequest{MessageID: id, Action: ebxml.ServiceMM + "/" + v3.NominatedReleaseRequest,
		To: gatewayURL + gateway.PathSOAP, FromAddress: "https://dispenser.example", ReplyTo: "https://dispenser.example",
		ReceiverASID: "990101234567", SenderASID: "200000009876", Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(gatewayURL+gateway.PathSOAP, "text/xml; charset=UTF-8", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return id, resp, reply
}
