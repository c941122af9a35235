package gateway

import (
	"net/http"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/store"
)

// TestParsePartyKeys reads --party-keys: comma separated, white space
// around each ignored, matched in any letter case; empty entries and keys
// holding white space refused.
func TestParsePartyKeys(t *testing.T) {
	tests := []struct {
		name, in string
		wantErr  string
		take     []string
		refuse   []string
	}{
		{name: "none: any", in: "  ", take: []string{"YES-0000806", "anything", ""}},
		{name: "one", in: "YES-0000806", take: []string{"YES-0000806", "yes-0000806", " YES-0000806 "}, refuse: []string{"YEA-0000806", "", "YES-0000806X"}},
		{name: "two, spaced", in: " YES-0000806 , yea-0000806", take: []string{"YES-0000806", "YEA-0000806"}, refuse: []string{"T141D-822234"}},
		{name: "empty entry", in: "YES-0000806,,YEA-0000806", wantErr: "an empty party key"},
		{name: "trailing comma", in: "YES-0000806,", wantErr: "an empty party key"},
		{name: "space inside", in: "YES 0000806", wantErr: `party key "YES 0000806" holds white space`},
		{name: "control character", in: "YES-0000806\x01", wantErr: "holds white space or a control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := parsePartyKeys(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, to := range tt.take {
				if !k.addressedTo(to) {
					t.Errorf("eb:To %q refused", to)
				}
			}
			for _, to := range tt.refuse {
				if k.addressedTo(to) {
					t.Errorf("eb:To %q taken", to)
				}
			}
		})
	}
}

// TestEbXMLToParty: with --party-keys, a message whose eb:To/eb:PartyId
// names another party is refused as Spine refuses it (the NHS MHS
// adaptor's answer: ValueNotRecognized "501314:Invalid To Party Type
// attribute"), before any acknowledgment, nothing queued or processed;
// one addressed to a listed key, in any letter case, is taken. Without
// --party-keys any eb:To is taken, as before session 19. A message
// without eb:To is refused by the parser (OtherXml 900013), keys or not:
// ebMS 2.0's schema requires it.
func TestEbXMLToParty(t *testing.T) {
	tests := []struct {
		name, keys, to string
		omitTo         bool
		taken          bool
		wantCode, desc string
	}{
		{name: "listed", keys: "YES-0000806,YEA-0000806", to: "YES-0000806", taken: true},
		{name: "listed, other letter case", keys: "YES-0000806", to: "yes-0000806", taken: true},
		{name: "second listed", keys: "YES-0000806, YEA-0000806", to: "YEA-0000806", taken: true},
		{name: "another party", keys: "YES-0000806", to: "T141D-822234",
			wantCode: string(ebxml.CodeValueNotRecognized), desc: "501314:Invalid To Party Type attribute"},
		{name: "no keys: any party", to: "T141D-822234", taken: true},
		{name: "no eb:To, keys", keys: "YES-0000806", omitTo: true, wantCode: string(ebxml.CodeOtherXML), desc: "900013:eb:To/eb:PartyId missing or empty"},
		{name: "no eb:To, no keys", omitTo: true, wantCode: string(ebxml.CodeOtherXML), desc: "900013:eb:To/eb:PartyId missing or empty"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.PartyKeys = tt.keys
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			st := store.NewMemory(nil)
			proc := newFakeProcessor()
			g := startGateway(t, cfg, st, true, WithProcessor(proc)) // no workers: a message taken stays queued
			req := newReq(newID(t, 960+i))
			req.to = tt.to
			ct, action, body := req.build()
			if tt.omitTo {
				body = []byte(strings.Replace(string(body), `<eb:To><eb:PartyId eb:type="urn:nhs:names:partyType:ocs+serviceInstance">`+spineParty+`</eb:PartyId></eb:To>`, "", 1))
			}
			code, answer := post(t, http.DefaultClient, g.base+PathEbXML, ct, action, body)
			queued, err := st.QueueLen(t.Context(), inboxQueue)
			if err != nil {
				t.Fatal(err)
			}
			if tt.taken {
				if code != http.StatusAccepted || queued != 1 {
					t.Fatalf("status %d, %d queued, want 202 and 1\n%s", code, queued, answer)
				}
				checkAcknowledgment(t, answer, req)
				return
			}
			if code != http.StatusInternalServerError || queued != 0 || proc.numCalls() != 0 {
				t.Fatalf("status %d, %d queued, %d processed, want 500 and none\n%s", code, queued, proc.numCalls(), answer)
			}
			if c, d := ebErrorOf(t, answer); c != tt.wantCode || d != tt.desc {
				t.Errorf("eb:Error %s %q, want %s %q", c, d, tt.wantCode, tt.desc)
			}
		})
	}
}

// FuzzParsePartyKeys feeds arbitrary lists to the --party-keys reader: no
// panics; every key it accepts is non-empty and free of white space, and
// is then addressed to as written, spaced, and (an ASCII key, as party
// keys are) in the other letter case.
// Seeds: testdata/fuzz/FuzzParsePartyKeys.
func FuzzParsePartyKeys(f *testing.F) {
	f.Add("YES-0000806, yea-0000806")
	f.Fuzz(func(t *testing.T, in string) {
		k, err := parsePartyKeys(in)
		if err != nil || k == nil {
			return
		}
		for _, key := range k {
			if key == "" || strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' }) {
				t.Fatalf("accepted key %q from %q", key, in)
			}
			if !k.addressedTo(key) || !k.addressedTo(" "+key+" ") {
				t.Fatalf("key %q not addressed to as written or spaced", key)
			}
			ascii := !strings.ContainsFunc(key, func(r rune) bool { return r >= 0x80 })
			if ascii && (!k.addressedTo(strings.ToLower(key)) || !k.addressedTo(strings.ToUpper(key))) {
				t.Fatalf("key %q not addressed to in another letter case", key)
			}
		}
	})
}
