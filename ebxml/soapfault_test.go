package ebxml

import (
	"strings"
	"testing"
)

// TestParseSOAPFault: the one reader of SOAP faults, as the delivery
// worker judges a receiver's and comparison mode reads Spine's. A fault
// whose detail holds two nasp:errorLists is read with the errors of
// both: before, only the first list's were, so a 200 in the first and a
// 300 in the second read as retryable, where comparison mode, reading
// both, took the same fault as final.
func TestParseSOAPFault(t *testing.T) {
	const (
		env  = `<SOAP:Envelope xmlns:SOAP="http://schemas.xmlsoap.org/soap/envelope/" xmlns:nasp="http://national.carerecords.nhs.uk/schema/">`
		list = `<nasp:errorList><nasp:error><nasp:errorCode>%s</nasp:errorCode></nasp:error></nasp:errorList>`
	)
	errList := func(codes ...string) string {
		var b strings.Builder
		for _, c := range codes {
			b.WriteString(strings.Replace(list, "%s", c, 1))
		}
		return b.String()
	}
	tests := []struct {
		name      string
		body      string
		ok        bool
		codes     string // the errors' codes, comma-separated
		retryable bool
	}{
		{"one list", env + `<SOAP:Body><SOAP:Fault><faultcode>SOAP:Server</faultcode><detail>` + errList("200") + `</detail></SOAP:Fault></SOAP:Body></SOAP:Envelope>`, true, "200", true},
		{"two lists, the second final", env + `<SOAP:Body><SOAP:Fault><faultcode>SOAP:Server</faultcode><detail>` + errList("200", "300") + `</detail></SOAP:Fault></SOAP:Body></SOAP:Envelope>`, true, "200,300", false},
		{"two lists, both retryable", env + `<SOAP:Body><SOAP:Fault><faultcode>SOAP:Server</faultcode><SOAP:detail>` + errList("206", "208") + `</SOAP:detail></SOAP:Fault></SOAP:Body></SOAP:Envelope>`, true, "206,208", true},
		{"fault after another body entry", env + `<SOAP:Body><x/><SOAP:Fault><faultcode>SOAP:Server</faultcode></SOAP:Fault></SOAP:Body></SOAP:Envelope>`, true, "", false},
		{"errors outside nasp", env + `<SOAP:Body><SOAP:Fault><faultcode>SOAP:Server</faultcode><detail><errorList><error><errorCode>300</errorCode></error></errorList></detail></SOAP:Fault></SOAP:Body></SOAP:Envelope>`, true, "", false},
		{"no SOAP 1.1 namespace", `<Envelope><Body><Fault><faultcode>Server</faultcode></Fault></Body></Envelope>`, false, "", false},
		{"not well formed after the envelope", env + `<SOAP:Body><SOAP:Fault/></SOAP:Body></SOAP:Envelope><x>`, false, "", false},
		{"an answer, no fault", env + `<SOAP:Body><MCCI_IN010000UK13/></SOAP:Body></SOAP:Envelope>`, false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := ParseSOAPFaultWith(nil, []byte(tt.body))
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (%+v)", ok, tt.ok, f)
			}
			if !ok {
				return
			}
			codes := make([]string, len(f.Errors))
			for i, e := range f.Errors {
				codes[i] = e.Code
			}
			if got := strings.Join(codes, ","); got != tt.codes {
				t.Errorf("codes %q, want %q", got, tt.codes)
			}
			if f.Retryable() != tt.retryable {
				t.Errorf("Retryable() = %v, want %v", f.Retryable(), tt.retryable)
			}
		})
	}
}
