package faults

import (
	"net/http"
	"testing"
)

// TestOutcome: how the suite's legacy sender reads each answer, as the NHS
// MHS adaptor does: 202 acknowledges (ebXML), 200 answers (SOAP), an
// eb:MessageError or a SOAP fault with a code other than 200/206/208 is
// final, everything else is retried.
func TestOutcome(t *testing.T) {
	fault := func(codes ...string) []byte {
		b := `<SOAP:Envelope><SOAP:Body><SOAP:Fault><detail><nasp:errorList>`
		for _, c := range codes {
			b += `<nasp:error><nasp:errorCode>` + c + `</nasp:errorCode></nasp:error>`
		}
		return []byte(b + `</nasp:errorList></detail></SOAP:Fault></SOAP:Body></SOAP:Envelope>`)
	}
	msgErr := []byte(`<SOAP:Envelope><SOAP:Header><eb:ErrorList><eb:Error eb:errorCode="OtherXml"/></eb:ErrorList></SOAP:Header></SOAP:Envelope>`)
	tests := []struct {
		name          string
		status        int
		body          []byte
		soap          bool
		acked, refuse bool
	}{
		{"ebXML acknowledged", http.StatusAccepted, nil, false, true, false},
		{"SOAP reply", http.StatusOK, []byte("<x/>"), true, true, false},
		{"MessageError is final", 500, msgErr, false, false, true},
		{"fault 200 retried", 500, fault("200"), false, false, false},
		{"faults 206 and 208 retried", 500, fault("206", "208"), true, false, false},
		{"fault 300 final", 500, fault("300"), true, false, true},
		{"fault 200 and 201 final", 500, fault("200", "201"), false, false, true},
		{"bare 503 retried", 503, []byte("busy"), false, false, false},
		{"JSON 413 retried", 413, []byte(`{"error":"too large"}`), false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acked, refused := outcome(tt.status, tt.body, tt.soap)
			if acked != tt.acked || refused != tt.refuse {
				t.Errorf("outcome = acked %v refused %v, want %v %v", acked, refused, tt.acked, tt.refuse)
			}
		})
	}
}

// TestResultOK: a scenario fails on any loss, false rejection,
// acknowledged-but-unanswered message or harness error.
func TestResultOK(t *testing.T) {
	for _, r := range []Result{{Lost: 1}, {FalseRejections: 1}, {AckUnanswered: 1}, {Err: http.ErrServerClosed}} {
		if r.OK() {
			t.Errorf("%+v passed", r)
		}
	}
	if !(Result{Sent: 5, Acknowledged: 5, Answered: 5, AnsweredTwice: 1, Refused: 2}).OK() {
		t.Error("a clean result failed")
	}
}
