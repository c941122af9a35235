package outbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseRoutes(t *testing.T) {
	def := DefaultPolicy()
	tests := []struct {
		name    string
		in      string
		check   func(t *testing.T, r *Routes)
		wantErr string
	}{
		{name: "full and defaulted", in: `{
			"FQ2KM-807341": {"url": "https://mhs.example/reliablemessaging", "cpaId": "S1", "acceptCpaIds": ["S2"],
			                 "retries": 0, "retryInterval": "PT30S", "persistDuration": "PT1H"},
			"AB123-000001": {"url": "http://10.0.0.1:8080/"}}`,
			check: func(t *testing.T, r *Routes) {
				a, ok := r.Lookup("FQ2KM-807341")
				if !ok || a.URL != "https://mhs.example/reliablemessaging" || a.CPAID != "S1" || a.Retries != 0 ||
					a.RetryInterval != 30*time.Second || a.PersistDuration != time.Hour || a.Party != "FQ2KM-807341" {
					t.Errorf("route = %+v", a)
				}
				b, _ := r.Lookup("AB123-000001")
				if b.Policy != def {
					t.Errorf("defaulted policy = %+v, want %+v", b.Policy, def)
				}
				if r.Len() != 2 || !r.Configured() {
					t.Errorf("Len %d", r.Len())
				}
			}},
		{name: "empty table", in: `{}`, check: func(t *testing.T, r *Routes) {
			if !r.Configured() || r.Len() != 0 {
				t.Error("empty table not configured")
			}
		}},
		{name: "not an object", in: `[1,2]`, wantErr: "want a JSON object"},
		{name: "null", in: `null`, wantErr: "got null"},
		{name: "bad url", in: `{"P": {"url": "ftp://x"}}`, wantErr: `party "P": url "ftp://x"`},
		{name: "missing url", in: `{"P": {}}`, wantErr: `url ""`},
		{name: "typo field", in: `{"P": {"url": "http://x", "retry": 3}}`, wantErr: `unknown field "retry"`},
		{name: "bad duration", in: `{"P": {"url": "http://x", "retryInterval": "soon"}}`, wantErr: "retryInterval"},
		{name: "negative retries", in: `{"P": {"url": "http://x", "retries": -1}}`, wantErr: "retries -1"},
		{name: "zero persist", in: `{"P": {"url": "http://x", "persistDuration": "0s"}}`, wantErr: "persist duration 0s"},
		{name: "blank party", in: `{" ": {"url": "http://x"}}`, wantErr: "party key"},
		{name: "every problem reported", in: `{"A": {"url": "x"}, "B": {"url": "y"}}`, wantErr: `party "B"`},
		// JSON keeps the last of two routes of one party: a table pasted
		// together from two MHSs lost the first in silence.
		{name: "party twice", in: `{"P": {"url": "http://old.example/"}, "Q": {"url": "http://q/"}, "P": {"url": "http://new.example/"}}`,
			wantErr: `party "P" given more than once`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRoutes([]byte(tt.in), def)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
		})
	}
}

func TestLoadRoutes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "routes.json")
	if err := os.WriteFile(p, []byte(`{"P": {"url": "http://x"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if r, err := LoadRoutes(p, DefaultPolicy()); err != nil || r.Len() != 1 {
		t.Fatalf("LoadRoutes = %v, %v", r, err)
	}
	if _, err := LoadRoutes(p+".missing", DefaultPolicy()); err == nil || !strings.Contains(err.Error(), "routes file") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestCheckSender(t *testing.T) {
	r, err := ParseRoutes([]byte(`{"A": {"url": "http://a", "cpaId": "S1", "acceptCpaIds": ["S2"]}, "B": {"url": "http://b"}}`), DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	var none *Routes
	tests := []struct {
		routes     *Routes
		party, cpa string
		want       error
	}{
		{r, "A", "S1", nil}, {r, "A", "S2", nil}, {r, "A", "S3", ErrUnknownCPAID},
		{r, "B", "anything", nil}, {r, "C", "S1", ErrUnknownParty}, {none, "C", "S1", nil},
	}
	for _, tt := range tests {
		if err := tt.routes.CheckSender(tt.party, tt.cpa, nil); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("CheckSender(%s, %s, nil) = %v, want %v", tt.party, tt.cpa, err, tt.want)
		}
	}
	if _, ok := none.Lookup("A"); ok || none.Configured() || none.Len() != 0 {
		t.Error("nil routes not empty")
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"90s", 90 * time.Second, false}, {"1m30s", 90 * time.Second, false}, {"PT1M", time.Minute, false},
		{"PT4M", 4 * time.Minute, false}, {"PT2S", 2 * time.Second, false}, {"P1DT2H", 26 * time.Hour, false},
		{"pt0.5s", 500 * time.Millisecond, false}, {"PT1H30M", 90 * time.Minute, false},
		{"", 0, true}, {"P", 0, true}, {"PT", 0, true}, {"P1M", 0, true}, {"PT1X", 0, true}, {"PTT1S", 0, true},
		{"PT-1S", 0, true}, {"P1D1H", 0, true}, {"soon", 0, true}, {"PT1.2.3S", 0, true}, {"PT99999999999999999H", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// FuzzParseRoutes checks that no input makes ParseRoutes panic, and that
// every route it accepts is usable.
func FuzzParseRoutes(f *testing.F) {
	f.Add([]byte(`{"FQ2KM-807341": {"url": "https://mhs.example/", "cpaId": "S1", "retries": 2, "retryInterval": "PT1M", "persistDuration": "PT5M"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRoutes(b, DefaultPolicy())
		if err != nil {
			return
		}
		for _, rt := range r.byParty {
			if rt.URL == "" || rt.Policy.Validate() != nil {
				t.Fatalf("accepted an unusable route %+v", rt)
			}
		}
	})
}

// TestRouteCertNames: certNames are read, a blank one is refused, a party
// bound to certificates refuses a message that came without TLS, and
// CertBound names such a party.
func TestRouteCertNames(t *testing.T) {
	if _, err := ParseRoutes([]byte(`{"A": {"url": "http://a", "certNames": [" "]}}`), DefaultPolicy()); err == nil || !strings.Contains(err.Error(), "certNames") {
		t.Fatalf("blank certificate name: %v", err)
	}
	r, err := ParseRoutes([]byte(`{"A": {"url": "http://a", "certNames": ["mhs.a.example"]}, "B": {"url": "http://b"}}`), DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if rt, _ := r.Lookup("A"); len(rt.CertNames) != 1 || rt.CertNames[0] != "mhs.a.example" {
		t.Fatalf("route %+v", rt)
	}
	if err := r.CheckSender("A", "", nil); !errors.Is(err, ErrSenderCertificate) {
		t.Fatalf("A without TLS: %v", err)
	}
	if err := r.CheckSender("B", "", nil); err != nil {
		t.Fatalf("B without TLS: %v", err)
	}
	var none *Routes
	if r.CertBound() != "A" || none.CertBound() != "" {
		t.Fatalf("CertBound %q", r.CertBound())
	}
}
