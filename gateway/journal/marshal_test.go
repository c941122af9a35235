package journal

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// awkwardHead returns a step and a head holding it (inline) with every
// field set and awkward text (markup, line and paragraph separators,
// control characters, invalid UTF-8, quotes and backslashes).
func awkwardHead() (Step, head) {
	odd := "a <b> & \u2028 \u2029 \x01\x1f \xff\xfe zoë 🙂 \"q\" \\ \t\n\r"
	at := time.Date(2026, 1, 2, 3, 4, 5, 6789, time.FixedZone("x", 3600))
	st := Step{At: at, Kind: StepLegacyRequest, Title: odd, Interaction: "PORX_IN020101UK31", Status: 202,
		Headers: map[string]string{"b": "2", "a": odd, "Content-Type": "text/xml"}, ContentType: "multipart/related",
		Body: "<PORX_IN020101UK31 xmlns=\"urn:hl7-org:v3\">" + odd + "</PORX_IN020101UK31>", TookMS: 12, Note: odd}
	var h head
	h.ID, h.Interaction, h.Transport, h.Party = "M1", "PORX_IN020101UK31", "ebxml", odd
	h.Started, h.Updated = at, at.Add(time.Second)
	h.IDs = IDs{MessageIDs: []string{"A", odd}, ConversationID: "C", RefToMessageIDs: []string{"R"}, PrescriptionIDs: []string{"P"},
		NHSNumbers: []string{"9449304130"}, ODSCodes: []string{"FH542"}, XRequestIDs: []string{"X"}}
	h.Signature = &Signature{Digest: "abc=", DigestAlgorithm: "sha1", Algorithm: "rsa"}
	h.Outcome = Outcome{Result: "rejected", Code: "5000", Text: odd}
	h.Comparison = &Comparison{Result: "differ", Primary: "fhir", Differences: []string{odd}, Error: odd}
	h.Steps = []Step{st, {Kind: StepFault}}
	h.ListSteps = 3
	return st, h
}

// TestMarshalAsEncodingJSON: marshal writes, for every type the journal
// stores, the bytes encoding/json's Encoder writes without HTML escaping,
// awkward text included (awkwardHead).
func TestMarshalAsEncodingJSON(t *testing.T) {
	st, h := awkwardHead()
	for _, v := range []any{&st, st, &h, h.summary(), &Step{}, &head{}, Summary{}} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		got, err := marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("marshal(%T):\n%s\nencoding/json:\n%s", v, got, want)
		}
	}
}

// TestUnmarshalHeadAsEncodingJSON: unmarshalHead reads heads as
// encoding/json does: one marshal wrote (awkward text included), one
// encoding/json wrote with HTML escaping, an older one with its steps
// inline, and one with nothing but its id.
func TestUnmarshalHeadAsEncodingJSON(t *testing.T) {
	_, h := awkwardHead()
	ours, err := marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	escaped, err := json.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{ours, escaped, []byte(`{"id":"M2"}`), []byte(`{"id":"M3","ids":{},"steps":[],"outcome":{"result":""}}`)} {
		var want, got head
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if err := unmarshalHead(b, &got); err != nil {
			t.Fatalf("unmarshalHead(%s): %v", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("unmarshalHead(%s):\n%+v\nencoding/json:\n%+v", b, got, want)
		}
	}
}
