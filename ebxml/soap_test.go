package ebxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseSOAPRequestInheritedNamespaces(t *testing.T) {
	body := readTestdata(t, "soap/inherited_ns.xml")
	m, err := ParseSOAPRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	want := SOAPMessage{
		MessageID: "uuid:9D3C2B1A-0F9E-4D8C-B7A6-5E4D3C2B1A09", Action: "urn:nhs:names:services:mm/PORX_IN132004UK30",
		To: "https://porxgate.example.nhs.uk/sync", FromAddress: "https://pharmacy.example.nhs.uk/mhs",
		ReplyToAddress: "https://pharmacy.example.nhs.uk/mhs/reply", ReceiverASID: "990101234567", SenderASID: "200000004321",
		PayloadName: xml.Name{Space: NSHL7, Local: "nominatedPrescriptionReleaseRequest"},
	}
	got := *m
	got.Payload, got.PayloadVerbatim = nil, false
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields:\n got %+v\nwant %+v", got, want)
	}
	if m.MessageUUID() != "9D3C2B1A-0F9E-4D8C-B7A6-5E4D3C2B1A09" || m.Interaction() != "PORX_IN132004UK30" {
		t.Errorf("MessageUUID %q Interaction %q", m.MessageUUID(), m.Interaction())
	}
	// The payload relies on the envelope's default namespace and on the
	// hl7 and xsi prefixes (xsi:type="hl7:II"): those are declared on it;
	// SOAP-ENV and wsa, which it does not use, are not.
	if m.PayloadVerbatim {
		t.Error("PayloadVerbatim = true, want false (declarations added)")
	}
	wantStart := `<nominatedPrescriptionReleaseRequest xmlns="urn:hl7-org:v3" xmlns:hl7="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`
	if !bytes.HasPrefix(m.Payload, []byte(wantStart)) {
		t.Errorf("payload start tag:\n got %.200s\nwant %s", m.Payload, wantStart)
	}
	// Everything after the start tag is the request's bytes.
	i := bytes.Index(body, []byte("<nominatedPrescriptionReleaseRequest>"))
	j := bytes.Index(body, []byte("</nominatedPrescriptionReleaseRequest>"))
	orig := body[i+len("<nominatedPrescriptionReleaseRequest>") : j+len("</nominatedPrescriptionReleaseRequest>")]
	if !bytes.HasSuffix(m.Payload, orig) || len(m.Payload) != len(wantStart)+len(orig) {
		t.Error("payload content differs from the request bytes")
	}
	root, err := parseXML(m.Payload, nil)
	if err != nil || root.NamespaceURI() != NSHL7 {
		t.Fatalf("payload not standalone: %v", err)
	}
	if v := root.FindElement("PORX_IN132004UK30/value"); v == nil || v.SelectAttrValue("xsi:type", "") != "hl7:II" {
		t.Error("payload lost its content")
	}
}

func TestParseSOAPRequestVerbatim(t *testing.T) {
	body := readTestdata(t, "soap/own_ns_signed.xml")
	m, err := ParseSOAPRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(body, []byte("<PORX_IN020101SM31"))
	j := bytes.Index(body, []byte("</PORX_IN020101SM31>")) + len("</PORX_IN020101SM31>")
	if !m.PayloadVerbatim || !bytes.Equal(m.Payload, body[i:j]) {
		t.Errorf("payload not verbatim (verbatim=%v):\n%s", m.PayloadVerbatim, m.Payload)
	}
	if m.MessageID != "uuid:1a2b3c4d-5e6f-4a0b-8c9d-0e1f2a3b4c5d" || m.To != "" || m.FromAddress != "" ||
		m.ReceiverASID != "990101234567" || m.SenderASID != "200000001111" || m.Interaction() != "PORX_IN020101SM31" {
		t.Errorf("fields %+v", m)
	}
	for k := range body {
		body[k] = 0
	}
	if !bytes.Contains(m.Payload, []byte("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=")) {
		t.Error("payload aliases the caller's buffer")
	}
}

func TestParseSOAPRequestMalformed(t *testing.T) {
	good := string(readTestdata(t, "soap/own_ns_signed.xml"))
	rep := func(old, new string) []byte {
		t.Helper()
		if !strings.Contains(good, old) {
			t.Fatalf("sample lacks %q", old)
		}
		return []byte(strings.ReplaceAll(good, old, new))
	}
	tests := []struct {
		name     string
		body     []byte
		location string
		partial  bool
	}{
		{"empty", nil, "", false},
		{"blank", []byte("\n  \n"), "", false},
		{"not XML", []byte("hello"), "", false},
		{"truncated", []byte(good[:len(good)/2]), "", false},
		{"mismatched tags", rep("</SOAP:Header>", "</SOAP:Headers>"), "", false},
		{"not an envelope", rep("SOAP:Envelope", "SOAP:Letter"), "", false},
		{"SOAP 1.2", rep("http://schemas.xmlsoap.org/soap/envelope/", NSSOAP12), "", false},
		{"two envelopes", append(bytes.Clone([]byte(good)), good...), "", false},
		{"no body", rep("SOAP:Body", "SOAP:Corpse"), "SOAP:Body", false},
		{"empty body", []byte(good[:strings.Index(good, "<SOAP:Body>")] + "<SOAP:Body> </SOAP:Body></SOAP:Envelope>"), "SOAP:Body", false},
		{"no MessageID", rep("wsa:MessageID", "wsa:MessageId"), "wsa:MessageID", true},
		{"no Action", rep("<wsa:Action>urn:nhs:names:services:mm/PORX_IN020101SM31</wsa:Action>", "<wsa:Action/>"), "wsa:Action", true},
		{"bad XML in payload", rep("</author>", "</auth>"), "SOAP:Body", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseSOAPRequest(tt.body)
			var f *SOAPFault
			if !errors.As(err, &f) {
				t.Fatalf("err = %v (%T), want *SOAPFault", err, err)
			}
			if len(f.Errors) != 1 || f.Errors[0].Code != TMSCodeMalformed || f.Errors[0].CodeContext != TMSCodeContext ||
				f.Errors[0].Location != tt.location || f.Retryable() {
				t.Errorf("fault %+v", f)
			}
			if (m != nil) != tt.partial {
				t.Errorf("partial = %v, want %v", m != nil, tt.partial)
			}
			if _, err := BuildSOAPFault(*f); err != nil {
				t.Errorf("fault does not build: %v", err)
			}
		})
	}
}

func TestIsRetryableFaultCode(t *testing.T) {
	for code, want := range map[string]bool{
		"200": true, "206": true, "208": true, " 200 ": true,
		"201": false, "300": false, "101": false, "": false, "2000": false,
	} {
		if got := IsRetryableFaultCode(code); got != want {
			t.Errorf("IsRetryableFaultCode(%q) = %v, want %v", code, got, want)
		}
	}
	f := SOAPFault{Errors: []SOAPError{{Code: "200"}, {Code: "208"}}}
	if !f.Retryable() {
		t.Error("200+208 fault not retryable")
	}
	f.Errors = append(f.Errors, SOAPError{Code: "300"})
	if f.Retryable() || (&SOAPFault{}).Retryable() {
		t.Error("fault with a final code (or none) is retryable")
	}
}

func TestWithInheritedNS(t *testing.T) {
	anc := [][]xml.Attr{
		{{Name: xml.Name{Space: "xmlns", Local: "a"}, Value: "urn:a"}, {Name: xml.Name{Local: "xmlns"}, Value: "urn:default"}},
		{{Name: xml.Name{Space: "xmlns", Local: "b"}, Value: `urn:"b"`}},
	}
	tests := []struct {
		name, frag, want string
		own              []xml.Attr
	}{
		{"default used", `<x/>`, `<x xmlns="urn:default"/>`, nil},
		{"own default wins", `<x xmlns="urn:own"><y/></x>`, `<x xmlns="urn:own"><y/></x>`, []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: "urn:own"}}},
		{"prefix in attribute and value", `<a:x b:k="a:v">t</a:x>`, `<a:x xmlns:a="urn:a" xmlns:b="urn:&quot;b&quot;" b:k="a:v">t</a:x>`, nil},
		{"nested default only", "<a:x>\n<y/></a:x>", "<a:x xmlns=\"urn:default\" xmlns:a=\"urn:a\">\n<y/></a:x>", nil},
		{"nothing used", `<c:x xmlns:c="urn:c"/>`, `<c:x xmlns:c="urn:c"/>`, []xml.Attr{{Name: xml.Name{Space: "xmlns", Local: "c"}, Value: "urn:c"}}},
	}
	for _, tt := range tests {
		got, verbatim := withInheritedNS([]byte(tt.frag), anc, tt.own)
		if string(got) != tt.want || verbatim != (tt.frag == tt.want) {
			t.Errorf("%s: got %s (verbatim %v), want %s", tt.name, got, verbatim, tt.want)
		}
	}
}

// TestParseSOAPRequestVersionAndAddressing: a SOAP 1.2 envelope is
// answered as SOAP 1.1 says a node of its version answers another
// version's envelope (faultcode VersionMismatch; SOAP 1.2 Appendix A has
// a SOAP 1.1 node answer a SOAP 1.2 message so), still with Spine's
// nasp:errorList; WS-Addressing headers in the W3C 2005/08 namespace
// instead of the 2004/08 one Spine uses are named as such, not reported
// missing.
func TestParseSOAPRequestVersionAndAddressing(t *testing.T) {
	good := string(readTestdata(t, "soap/own_ns_signed.xml"))
	tests := []struct {
		name, old, new string
		faultCode      string
		desc           string
	}{
		{"SOAP 1.2", "http://schemas.xmlsoap.org/soap/envelope/", NSSOAP12, "SOAP:VersionMismatch", NSSOAP12},
		{"other envelope namespace", "http://schemas.xmlsoap.org/soap/envelope/", "urn:example:envelope", "SOAP:VersionMismatch", "urn:example:envelope"},
		{"not an envelope", "SOAP:Envelope", "SOAP:Letter", FaultCodeServer, "not a single SOAP 1.1 Envelope"},
		{"W3C WS-Addressing", NSWSA, "http://www.w3.org/2005/08/addressing", FaultCodeServer, "http://www.w3.org/2005/08/addressing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.old) {
				t.Fatalf("sample lacks %q", tt.old)
			}
			_, err := ParseSOAPRequest([]byte(strings.ReplaceAll(good, tt.old, tt.new)))
			var f *SOAPFault
			if !errors.As(err, &f) {
				t.Fatalf("err = %v (%T), want *SOAPFault", err, err)
			}
			if f.FaultCode != tt.faultCode || len(f.Errors) != 1 || f.Errors[0].Code != TMSCodeMalformed || !strings.Contains(f.Errors[0].Description, tt.desc) {
				t.Errorf("fault %s %+v, want %s with 300 naming %q", f.FaultCode, f.Errors, tt.faultCode, tt.desc)
			}
			if _, err := BuildSOAPFault(*f); err != nil {
				t.Errorf("fault does not build: %v", err)
			}
		})
	}
}
