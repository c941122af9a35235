package compare

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestLegacyKeepsItsPasswordToItself: a legacy route given with a user
// name and password (HTTP basic authentication) gets them as such, and
// nowhere else: not in the message's wsa:To, nor in an error (which goes
// to the journal, the log and the page), nor in Endpoint (the page's live
// state, which the viewer role sees).
func TestLegacyKeepsItsPasswordToItself(t *testing.T) {
	var gotAuth, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		gotAuth = u + ":" + p
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, "not what was hoped for")
	}))
	defer srv.Close()
	l := &Legacy{URL: strings.Replace(srv.URL, "http://", "http://mhs-user:s3cret-pw@", 1) + "/reliablemessaging"}
	_, err := l.Call(context.Background(), Request{Interaction: "PORX_IN020101SM31", MessageID: "A1", SOAP: true,
		Payload: []byte(`<PORX_IN020101SM31 xmlns="urn:hl7-org:v3"/>`)})
	if gotAuth != "mhs-user:s3cret-pw" {
		t.Errorf("the route got basic authentication %q", gotAuth)
	}
	if err == nil {
		t.Fatal("no error for a 500 without an answer")
	}
	for what, s := range map[string]string{"error": err.Error(), "message": gotBody, "Endpoint": l.Endpoint()} {
		if strings.Contains(s, "s3cret-pw") {
			t.Errorf("the %s shows the password: %s", what, s)
		}
	}
	if want := srv.URL + "/reliablemessaging"; l.Endpoint() != want || !strings.Contains(gotBody, want) {
		t.Errorf("Endpoint %q, want %q in the message's wsa:To", l.Endpoint(), want)
	}
}

// TestLegacyAnswerMustBeHL7: a route's answer whose root element is no
// interaction (a proxy's error page, a web server's 404) is an error, not
// an answer; an HL7 answer is one whatever the status.
func TestLegacyAnswerMustBeHL7(t *testing.T) {
	for _, tt := range []struct {
		status      int
		ct, body    string
		interaction string // "": an error
	}{
		{502, "text/html", "<!DOCTYPE html>\n<html><body><h1>Bad Gateway</h1></body></html>", ""},
		{200, "text/html", "<html><body>It works!</body></html>", ""},
		{404, "text/xml", "<error>not found</error>", ""},
		{200, "text/xml", `<?xml version="1.0"?><hl7:MCCI_IN010000UK13 xmlns:hl7="urn:hl7-org:v3"/>`, "MCCI_IN010000UK13"},
		{500, "text/xml", `<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"><acknowledgement typeCode="AE"/></MCCI_IN010000UK13>`, "MCCI_IN010000UK13"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", tt.ct)
			w.WriteHeader(tt.status)
			_, _ = io.WriteString(w, tt.body)
		}))
		a, err := (&Legacy{URL: srv.URL}).Call(context.Background(), Request{Interaction: "PORX_IN020101UK31", MessageID: "A1",
			Payload: []byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"/>`)})
		srv.Close()
		switch {
		case tt.interaction == "" && err == nil:
			t.Errorf("%d %s: taken for an answer (%s)", tt.status, tt.body, a.Interaction)
		case tt.interaction != "" && (err != nil || a.Interaction != tt.interaction):
			t.Errorf("%d %s: %q, %v; want the answer %s", tt.status, tt.body, a.Interaction, err, tt.interaction)
		}
	}
}
