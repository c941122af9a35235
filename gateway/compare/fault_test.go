package compare

import (
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/ebxml"
)

// spineFault is a SOAP fault as Spine answers one: two nasp errors.
const spineFault = `<?xml version="1.0" encoding="UTF-8"?>
<SOAP:Envelope xmlns:SOAP="http://schemas.xmlsoap.org/soap/envelope/" xmlns:nasp="http://national.carerecords.nhs.uk/schema/">
<SOAP:Body><SOAP:Fault><faultcode>SOAP:Server</faultcode><faultstring>Application Exception</faultstring>
<detail><nasp:errorList>
<nasp:error><nasp:codeContext>urn:nhs:names:error:tms</nasp:codeContext><nasp:errorCode>201</nasp:errorCode><nasp:severity>Error</nasp:severity><nasp:location>Not Supported</nasp:location><nasp:description>The message is not well formed</nasp:description></nasp:error>
<nasp:error><nasp:errorCode> 202 </nasp:errorCode><nasp:description>second</nasp:description></nasp:error>
</nasp:errorList></detail></SOAP:Fault></SOAP:Body></SOAP:Envelope>`

func TestReadFault(t *testing.T) {
	f, ok := readFault([]byte(spineFault))
	if !ok || f.FaultCode != "SOAP:Server" || f.FaultString != "Application Exception" || len(f.Errors) != 2 {
		t.Fatalf("readFault = %+v, %v", f, ok)
	}
	if e := f.Errors[0]; e.Code != "201" || e.CodeContext != "urn:nhs:names:error:tms" || e.Severity != "Error" ||
		e.Location != "Not Supported" || e.Description != "The message is not well formed" {
		t.Errorf("first error %+v", e)
	}
	if e := f.Errors[1]; e.Code != "202" || e.Description != "second" {
		t.Errorf("second error %+v", e)
	}
	for _, tt := range []struct {
		name, body string
		ok         bool
		errors     int
	}{
		// Read as the delivery worker reads a fault (ebxml.ParseSOAPFaultWith):
		// a SOAP 1.1 envelope, the Fault anywhere in its Body, the errors
		// of every nasp:errorList.
		{"no SOAP 1.1 namespace", `<Envelope><Body><Fault><faultcode>Server</faultcode></Fault></Body></Envelope>`, false, 0},
		{"no detail", `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><S:Fault><faultcode>S:Server</faultcode></S:Fault></S:Body></S:Envelope>`, true, 0},
		{"fault after another body entry", `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><x/><S:Fault/></S:Body></S:Envelope>`, true, 0},
		{"two error lists", `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:nasp="http://national.carerecords.nhs.uk/schema/"><S:Body><S:Fault><detail>` +
			`<nasp:errorList><nasp:error><nasp:errorCode>200</nasp:errorCode></nasp:error></nasp:errorList>` +
			`<nasp:errorList><nasp:error><nasp:errorCode>300</nasp:errorCode></nasp:error></nasp:errorList></detail></S:Fault></S:Body></S:Envelope>`, true, 2},
		{"errors outside nasp", `<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><S:Fault><detail><errorList><error><errorCode>300</errorCode></error></errorList></detail></S:Fault></S:Body></S:Envelope>`, true, 0},
		{"HL7 answer in the body", `<SOAP:Envelope xmlns:SOAP="s"><SOAP:Body><MCCI_IN010000UK13/></SOAP:Body></SOAP:Envelope>`, false, 0},
		{"an HL7 answer naming a fault", `<MCCI_IN010000UK13><text>Fault</text></MCCI_IN010000UK13>`, false, 0},
		{"fault not first in the body", `<Envelope><Body><x/><Fault/></Body></Envelope>`, false, 0},
		{"empty body", `<Envelope><Header/><Body/></Envelope><!-- Fault -->`, false, 0},
		{"not XML", `Fault <<`, false, 0},
		{"unclosed", `<Envelope><Body><Fault>`, false, 0},
		{"empty", ``, false, 0},
	} {
		f, ok := readFault([]byte(tt.body))
		if ok != tt.ok || (ok && len(f.Errors) != tt.errors) {
			t.Errorf("%s: readFault = %+v, %v; want ok %v", tt.name, f, ok, tt.ok)
		}
	}
}

func FuzzReadFault(f *testing.F) {
	f.Add(spineFault)
	f.Add(`<Envelope><Body><Fault/></Body></Envelope>`)
	f.Fuzz(func(t *testing.T, body string) {
		if f, ok := readFault([]byte(body)); ok && f == nil {
			t.Fatal("ok without a fault")
		}
	})
}

// TestReadMessageError: an eb:ErrorList the legacy route answers with is
// Spine's refusal when one of its errors of severity Error does not clear
// up; warnings only, or only errors that may clear up (DeliveryFailure,
// Unknown), are no refusal: the route is to be tried again.
func TestReadMessageError(t *testing.T) {
	me := func(code ebxml.ErrorCode, severity string) *ebxml.MessageError {
		e := ebxml.NewMessageError(code, 501319, "Unknown eb:CPAId")
		e.Severity = severity
		return e
	}
	tests := []struct {
		name string
		errs []*ebxml.MessageError
		want string // faultCodes of the refusal; "": none
	}{
		{"unknown CPA", []*ebxml.MessageError{me(ebxml.CodeValueNotRecognized, ebxml.SeverityError)}, "ValueNotRecognized"},
		{"delivery failure", []*ebxml.MessageError{me(ebxml.CodeDeliveryFailure, ebxml.SeverityError)}, ""},
		{"warnings only", []*ebxml.MessageError{me(ebxml.CodeInconsistent, ebxml.SeverityWarning)}, ""},
		{"one final beside one passing", []*ebxml.MessageError{me(ebxml.CodeDeliveryFailure, ""), me(ebxml.CodeInconsistent, ebxml.SeverityError),
			me(ebxml.CodeOtherXML, ebxml.SeverityWarning)}, "DeliveryFailure,Inconsistent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := ebxml.BuildMessageError(nil, "", time.Now(), tt.errs...)
			if err != nil {
				t.Fatal(err)
			}
			f, ok := readMessageError(body)
			switch {
			case tt.want == "" && ok:
				t.Fatalf("readMessageError = %+v, want no refusal", f)
			case tt.want != "" && (!ok || faultCodes(f) != tt.want || f.Retryable()):
				t.Fatalf("readMessageError = %+v, %v; want a final refusal %s", f, ok, tt.want)
			case ok && !strings.Contains(f.Errors[0].Description, "501319:Unknown eb:CPAId"):
				t.Errorf("description %q lacks Spine's number and text", f.Errors[0].Description)
			}
		})
	}
	if _, ok := readMessageError([]byte(spineFault)); ok {
		t.Error("a SOAP fault read as a MessageError")
	}
}
