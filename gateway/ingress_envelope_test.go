package gateway

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/ebxml"
	v3 "github.com/porxgate/porxgate/v3"
)

// envelopeSeeds are ebXML requests to read both ways: the ebxml package's
// sample request, intact and with its SOAP envelope broken or unusual,
// and its fuzz seed corpus.
func envelopeSeeds(t testing.TB) (cts, actions []string, bodies [][]byte) {
	t.Helper()
	const ct = "multipart/related; boundary=MIME_boundary_4f1c7e2a; type=text/xml; start=ebXMLHeader@spine.nhs.uk"
	const action = "urn:nhs:names:services:mm/PORX_IN020101UK31"
	req, err := os.ReadFile("../ebxml/testdata/requests/porx_request.msg")
	if err != nil {
		t.Fatal(err)
	}
	add := func(ct, action string, body []byte) {
		cts, actions, bodies = append(cts, ct), append(actions, action), append(bodies, body)
	}
	add(ct, action, req)
	add(ct, action, bytes.ReplaceAll(req, []byte("\n"), []byte("\r\n")))
	for _, edit := range []struct{ old, new string }{
		{"<eb:CPAId>", "<eb:CPAId><![CDATA[x]]>"},                       // CDATA section
		{"<SOAP:Header>", "<!-- a comment --><SOAP:Header>"},            // comment
		{"<eb:Action>", "<eb:Action>&#x50;"},                            // character reference
		{"<eb:Action>", "<eb:Action>&nbsp;"},                            // undeclared entity
		{"</SOAP:Envelope>", ""},                                        // unclosed
		{"<SOAP:Header>", "<SOAP:Header><eb:x a='1' a='2'/>"},           // duplicate attribute
		{"<eb:MessageHeader", "<eb:MessageHeader x=\"<\""},              // '<' in an attribute
		{"<SOAP:Envelope", "<!DOCTYPE e><SOAP:Envelope"},                // DOCTYPE
		{"<eb:Service>", "<eb:Service>\xff"},                            // not UTF-8
		{"<eb:MessageId>", "<eb:MessageId>  "},                          // spaces kept as they are
		{"<SOAP:Envelope", "<?xml-stylesheet href='x'?><SOAP:Envelope"}, // processing instruction
	} {
		add(ct, action, []byte(strings.Replace(string(req), edit.old, edit.new, 1)))
	}
	files, _ := filepath.Glob("../ebxml/testdata/fuzz/FuzzParseRequest/*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var vals []string
		for _, line := range strings.Split(string(b), "\n")[1:] {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			i := strings.IndexByte(line, '(')
			s, err := strconv.Unquote(strings.TrimSuffix(line[i+1:], ")"))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			vals = append(vals, s)
		}
		if len(vals) == 3 {
			add(vals[0], vals[1], []byte(vals[2]))
		}
	}
	return cts, actions, bodies
}

// sameParse fails when the front door's envelope reader (v3.ReadXML) reads
// a request otherwise than etree's reader does.
func sameParse(t *testing.T, ct, action string, body []byte) {
	t.Helper()
	want, werr := ebxml.ParseRequest(ct, action, bytes.Clone(body))
	got, gerr := ebxml.ParseRequestWith(v3.ReadXML, ct, action, bytes.Clone(body))
	if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
		t.Fatalf("errors differ: etree %v, front door %v", werr, gerr)
	}
	if (want == nil) != (got == nil) {
		t.Fatalf("messages differ: etree %+v, front door %+v", want, got)
	}
	if want != nil && !reflect.DeepEqual(*want, *got) {
		t.Fatalf("messages differ:\netree      %+v\nfront door %+v", *want, *got)
	}
}

// TestFrontDoorEnvelopeReader: the front door reads SOAP envelopes with
// v3's fast reader; every request, well-formed or not, reads exactly as
// with etree's reader (the same Message, the same MessageError).
func TestFrontDoorEnvelopeReader(t *testing.T) {
	cts, actions, bodies := envelopeSeeds(t)
	for i := range bodies {
		t.Run(strconv.Itoa(i), func(t *testing.T) { sameParse(t, cts[i], actions[i], bodies[i]) })
	}
}

// FuzzFrontDoorEnvelopeReader checks the same on any input.
func FuzzFrontDoorEnvelopeReader(f *testing.F) {
	cts, actions, bodies := envelopeSeeds(f)
	for i := range bodies {
		f.Add(cts[i], actions[i], bodies[i])
	}
	f.Fuzz(func(t *testing.T, ct, action string, body []byte) { sameParse(t, ct, action, body) })
}
