package loadgen

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/v3"
)

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		target string
		ok     bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.3.4.5:80", true},
		{"http://localhost:8080", true},
		{"http://[::1]:8080", true},
		{"http://10.0.0.1:8080", false},
		{"http://192.168.1.2", false},
		{"https://int.api.service.nhs.uk", false},
		{"not a url", false},
	}
	for _, tt := range tests {
		if err := CheckLoopback(tt.target); (err == nil) != tt.ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok %v", tt.target, err, tt.ok)
		}
	}
}

const template = `<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"><id root="11111111-2222-4333-8444-555555555555"/><ControlActEvent><subject><ParentPrescription><pertinentInformation1><pertinentPrescription><id root="AAAAAAAA-2222-4333-8444-555555555555"/><id root="2.16.840.1.113883.2.1.3.2.4.18.8" extension="C1D2E3-A99968-00A1BM"/></pertinentPrescription></pertinentInformation1></ParentPrescription></subject></ControlActEvent></PORX_IN020101UK31>`

// TestRunSendsDistinctValidPrescriptions runs a small load against a fake
// gateway on a real socket and checks every message is a well-formed ebXML
// prescription with its own message id and a valid, unique short-form id.
func TestRunSendsDistinctValidPrescriptions(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	msgIDs := map[string]bool{}
	shortRE := regexp.MustCompile(`extension="([0-9A-F]{6}-A99968-[0-9A-F]{5}.)"`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/admin/queues" {
			_, _ = io.WriteString(w, `{"inbox":0}`)
			return
		}
		body, _ := io.ReadAll(r.Body)
		m, err := ebxml.ParseRequest(r.Header.Get("Content-Type"), r.Header.Get("SOAPAction"), body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		sm := shortRE.FindSubmatch(m.Payload.Body)
		mu.Lock()
		defer mu.Unlock()
		if sm == nil || v3.ValidateShortFormID(string(sm[1])) != nil || seen[string(sm[1])] || msgIDs[m.MessageID] {
			http.Error(w, "bad or repeated id", 500)
			return
		}
		seen[string(sm[1])], msgIDs[m.MessageID] = true, true
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Options{Target: srv.URL, Messages: 50, Concurrency: 4, Timeout: 10 * time.Second, Template: []byte(template)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 50 || res.Refused != 0 || !res.Drained {
		t.Fatalf("result %+v", res)
	}
	if len(seen) != 50 {
		t.Fatalf("%d distinct short-form ids, want 50", len(seen))
	}
}

func TestRunRefusesRemoteTarget(t *testing.T) {
	if _, err := Run(context.Background(), Options{Target: "http://10.1.2.3:8080", Messages: 1, Concurrency: 1, Timeout: time.Second, Template: []byte(template)}); err == nil {
		t.Fatal("a non-loopback target was accepted")
	}
}
