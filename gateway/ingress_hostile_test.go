package gateway

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// hostileEbXML returns a prescription request from the test sender grown
// to about size bytes with refs further eb:Manifest references, each to
// a Content-Id no part has, and as many empty MIME parts without a
// Content-Id as fill the rest: the shape that costs a reader most per
// byte. It returns the Content-Type, the SOAPAction and the body.
func hostileEbXML(t *testing.T, id string, refs, size int) (string, string, []byte) {
	t.Helper()
	ct, action, body := newReq(id).build()
	// A boundary of one character makes each part 5 bytes.
	const boundary = "b"
	ct = strings.Replace(ct, "MIME_boundary_test", boundary, 1)
	body = bytes.ReplaceAll(body, []byte("--MIME_boundary_test"), []byte("--"+boundary))
	var m strings.Builder
	for i := range refs {
		fmt.Fprintf(&m, `<eb:Reference xlink:href="cid:r%d"/>`, i)
	}
	body = bytes.Replace(body, []byte("</eb:Manifest>"), []byte(m.String()+"</eb:Manifest>"), 1)
	closing := []byte("\n--" + boundary + "--\n")
	part := []byte("\n--" + boundary + "\n\n")
	n := (size - len(body)) / len(part)
	if n < 1 {
		t.Fatalf("%d references leave no room for parts in %d bytes", refs, size)
	}
	body = bytes.Replace(body, closing, append(bytes.Repeat(part, n), closing...), 1)
	return ct, action, body
}

// TestEbXMLManyManifestReferencesAndParts: a message within --max-body
// whose manifest names many Content-Ids no part has, beside many parts
// without a Content-Id, is answered within seconds, refused as a
// MimeProblem for its parts (ebxml.MaxParts). The door matched every
// reference against every part (twice: exactly, then ignoring case):
// with 20,000 references and 800,000 parts in 4 MiB a request held a CPU
// for about 90 s before its answer.
func TestEbXMLManyManifestReferencesAndParts(t *testing.T) {
	proc := newFakeProcessor()
	g := startGateway(t, testConfig(), newMemoryStore(), true, WithProcessor(proc))
	ct, action, body := hostileEbXML(t, newID(t, 930), 20000, 4<<20-1024)
	client := &http.Client{Timeout: 20 * time.Second}
	start := time.Now()
	code, b := post(t, client, g.base+PathEbXML, ct, action, body)
	t.Logf("%d bytes answered %d in %v", len(body), code, time.Since(start))
	if code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500\n%.500s", code, b)
	}
	if ec, desc := ebErrorOf(t, b); ec != "MimeProblem" || !strings.Contains(desc, "more than 100 parts") {
		t.Fatalf("MessageError %s %q, want MimeProblem for the parts", ec, desc)
	}
	if proc.numCalls() != 0 {
		t.Fatal("the message was processed")
	}
}

// manyAttributes returns a start tag of element name with attributes
// (plain, or namespace declarations with ns) filling about size bytes.
func manyAttributes(name string, ns bool, size int) string {
	var b strings.Builder
	b.WriteString("<" + name)
	for i := 0; b.Len() < size; i++ {
		if ns {
			fmt.Fprintf(&b, ` xmlns:n%d="urn:x"`, i)
		} else {
			fmt.Fprintf(&b, ` a%d=""`, i)
		}
	}
	b.WriteString("/>")
	return b.String()
}

// TestManyAttributesOnOneElement: an element with tens of thousands of
// attributes or namespace declarations, in an ebXML envelope, an ebXML
// payload or a SOAP envelope, is answered well within two minutes. The fast XML
// reader the doors use checked each attribute against every one before
// it: 400 KB of attributes held a CPU for 9 s, 4 MiB (within --max-body)
// for about a quarter of an hour.
func TestManyAttributesOnOneElement(t *testing.T) {
	const size = 4<<20 - 4096 // within the default --max-body
	tests := []struct {
		name string
		ns   bool
		// where: "envelope" (ebXML header part), "payload" (ebXML HL7
		// part) or "soap" (the SOAP door's envelope)
		where string
	}{
		{"ebXML envelope, attributes", false, "envelope"},
		{"ebXML envelope, namespace declarations", true, "envelope"},
		{"ebXML payload, attributes", false, "payload"},
		{"SOAP envelope, namespace declarations", true, "soap"},
	}
	proc := soapProcessor(nil)
	g := startGateway(t, testConfig(), newMemoryStore(), true, WithProcessor(proc))
	// The bound catches the quadratic reader (minutes a message), not a
	// slow machine: 20 s was passed on a machine shared by ten builds,
	// where the linear reader takes a few seconds.
	client := &http.Client{Timeout: 2 * time.Minute}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			attrs := manyAttributes("x", tc.ns, size)
			url, ct, action := g.base+PathEbXML, "", ""
			var body []byte
			switch tc.where {
			case "envelope", "payload":
				r := newReq(newID(t, 940+i))
				if tc.where == "payload" {
					r.payload = bytes.Replace(r.payload, []byte("</note>"), []byte("</note>"+attrs), 1)
				}
				ct, action, body = r.build()
				if tc.where == "envelope" {
					body = bytes.Replace(body, []byte("</SOAP-ENV:Header>"), []byte(attrs+"</SOAP-ENV:Header>"), 1)
				}
			case "soap":
				url, ct = g.base+PathSOAP, "text/xml"
				body = soapEnvelope(newID(t, 940+i), releaseReq, soapPayload)
				body = bytes.Replace(body, []byte("</SOAP-ENV:Header>"), []byte(attrs+"</SOAP-ENV:Header>"), 1)
			}
			start := time.Now()
			code, b := post(t, client, url, ct, action, body)
			t.Logf("%d bytes answered %d in %v", len(body), code, time.Since(start))
			if code != http.StatusAccepted && code != http.StatusOK && code != http.StatusInternalServerError {
				t.Fatalf("status %d\n%.500s", code, b)
			}
		})
	}
}
