package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"strings"
	"testing"
)

// TestTrackerCallerCheck checks the header rules one by one, in the
// documented order.
func TestTrackerCallerCheck(t *testing.T) {
	ok := TrackerCaller{ASID: testTrackerASID, UserID: testTrackerUser, RoleProfileID: testTrackerRole}
	tests := []struct {
		name   string
		edit   func(*TrackerCaller)
		nhs111 bool
		want   string // status code, "" for accepted
	}{
		{"all present", func(*TrackerCaller) {}, false, ""},
		{"only the ASID", func(c *TrackerCaller) { c.UserID, c.RoleProfileID = "", "" }, false, ""},
		{"only the ASID on NHS111", func(c *TrackerCaller) { c.UserID, c.RoleProfileID = "", "" }, true, "55"},
		{"no role on NHS111", func(c *TrackerCaller) { c.RoleProfileID = "" }, true, "56"},
		{"trace id of 30", func(c *TrackerCaller) { c.TraceID = strings.Repeat("A-9", 10) }, false, ""},
		{"no ASID", func(c *TrackerCaller) { c.ASID = "" }, false, "52"},
		{"ASID of 13 digits", func(c *TrackerCaller) { c.ASID += "1" }, false, "52"},
		{"bad ASID before bad trace id", func(c *TrackerCaller) { c.ASID, c.TraceID = "x", "_" }, false, "52"},
		{"trace id of 31", func(c *TrackerCaller) { c.TraceID = strings.Repeat("a", 31) }, false, "54"},
		{"trace id with a space", func(c *TrackerCaller) { c.TraceID = "a b" }, false, "54"},
		{"user of 11 digits", func(c *TrackerCaller) { c.UserID = "31317581356" }, false, "55"},
		{"role with a letter", func(c *TrackerCaller) { c.RoleProfileID = "56292691310O" }, false, "56"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			te := c.check(tt.nhs111)
			switch {
			case tt.want == "" && te != nil:
				t.Errorf("refused: %v", te)
			case tt.want != "" && (te == nil || te.StatusCode != tt.want):
				t.Errorf("got %v, want status %s", te, tt.want)
			}
		})
	}
}

// TestParseTrackerASIDs checks the allowed-ASID list's syntax.
func TestParseTrackerASIDs(t *testing.T) {
	tests := []struct {
		in      string
		n       int
		wantErr string
	}{
		{"", 0, ""},
		{" , ", 0, ""},
		{"200000000946", 1, ""},
		{"200000000946, 200000000111=ward.example,200000000111=ward2.example", 2, ""},
		{"20000000094", 0, "an ASID is 12 digits"},
		{"200000000946=", 0, "no certificate name"},
		{"abc,200000000946", 0, `"abc"`},
	}
	for _, tt := range tests {
		a, err := ParseTrackerASIDs(tt.in)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%q: err %v, want one containing %q", tt.in, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || a.Len() != tt.n):
			t.Errorf("%q: %v, %d ASIDs, want %d", tt.in, err, a.Len(), tt.n)
		}
	}
	a, err := ParseTrackerASIDs("200000000946,200000000111=ward.example")
	if err != nil {
		t.Fatal(err)
	}
	cert := func(cn string, dns ...string) *tls.ConnectionState {
		return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{{Subject: pkix.Name{CommonName: cn}, DNSNames: dns}}}
	}
	for _, tt := range []struct {
		asid string
		cs   *tls.ConnectionState
		ok   bool
	}{
		{"200000000946", nil, true},
		{"200000000946", cert("anyone"), true},
		{"200000000999", nil, false},
		{"200000000111", nil, false},
		{"200000000111", cert("ward.example"), true},
		{"200000000111", cert("other", "ward.example"), true},
		{"200000000111", cert("other"), false},
	} {
		if err := a.Allow(tt.asid, tt.cs); (err == nil) != tt.ok {
			t.Errorf("Allow(%s): %v, want allowed %v", tt.asid, err, tt.ok)
		}
	}
	var none *TrackerASIDs
	if err := none.Allow("200000000999", nil); err != nil {
		t.Errorf("no list: %v", err)
	}
}

// TestTrackerASIDsConfig checks the flag and the environment variable.
func TestTrackerASIDsConfig(t *testing.T) {
	env := map[string]string{"PORXGATE_TRACKER_ASIDS": "200000000946"}
	cfg, err := LoadConfig(nil, func(k string) string { return env[k] })
	if err != nil || cfg.TrackerASIDs != "200000000946" {
		t.Errorf("env: %v %q", err, cfg.TrackerASIDs)
	}
	if _, err := LoadConfig([]string{"--tracker-asids", "12345"}, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "tracker-asids") {
		t.Errorf("bad flag accepted: %v", err)
	}
}

// FuzzParseTrackerASIDs feeds arbitrary lists to the allowed-ASID reader:
// no panics, and every ASID it accepts is 12 digits.
func FuzzParseTrackerASIDs(f *testing.F) {
	f.Add("200000000946,200000000111=ward.example")
	f.Add("=,==,200000000946==")
	f.Fuzz(func(t *testing.T, in string) {
		a, err := ParseTrackerASIDs(in)
		if err != nil || a == nil {
			return
		}
		for asid, names := range a.names {
			if !allDigits(asid, 12) {
				t.Fatalf("accepted ASID %q", asid)
			}
			for _, n := range names {
				if n == "" {
					t.Fatalf("accepted an empty certificate name for %s", asid)
				}
			}
		}
	})
}
