package gateway

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/store"
)

// TestSOAPTransportShapes sends, over a real socket, the shapes legacy
// SOAP senders put on the wire, each a variation of one release request:
// Content-Type and SOAPAction forms, a byte-order mark, XML declarations,
// WS-Addressing headers reordered, with extra attributes or
// mustUnderstand, comments and processing instructions around the
// payload. What Spine takes is answered (HTTP 200, the payload reaching
// the processor byte for byte); what it refuses gets HTTP 500 and a SOAP
// fault with Spine's nasp:errorList, and is not processed.
func TestSOAPTransportShapes(t *testing.T) {
	const decl = `<?xml version="1.0" encoding="UTF-8"?>`
	type shape struct{ ct, action, body string }
	tests := []struct {
		name      string
		make      func(s shape) shape
		faultCode string // "" when answered
		desc      string
	}{
		{"as built", func(s shape) shape { return s }, "", ""},
		{"byte-order mark", func(s shape) shape { s.body = "\xef\xbb\xbf" + s.body; return s }, "", ""},
		{"byte-order mark and a line end before the declaration", func(s shape) shape { s.body = "\xef\xbb\xbf\r\n" + s.body; return s }, "", ""},
		{"declaration in lower case utf-8", func(s shape) shape {
			s.body = strings.Replace(s.body, decl, `<?xml version='1.0' encoding='utf-8'?>`, 1)
			return s
		}, "", ""},
		{"no declaration", func(s shape) shape { s.body = strings.Replace(s.body, decl, "", 1); return s }, "", ""},
		{"Content-Type with a quoted charset", func(s shape) shape { s.ct = `text/xml; charset="utf-8"`; return s }, "", ""},
		{"Content-Type in upper case", func(s shape) shape { s.ct = "TEXT/XML; Charset=UTF-8"; return s }, "", ""},
		{"SOAPAction quoted", func(s shape) shape { s.action = "urn:nhs:names:services:mm/" + releaseReq; return s }, "", ""},
		{"action in the Content-Type", func(s shape) shape {
			s.ct = `text/xml; charset=utf-8; action="urn:nhs:names:services:mm/` + releaseReq + `"`
			return s
		}, "", ""},
		{"wsa:To first", func(s shape) shape {
			to := "<wsa:To>https://spine.example/syncservice-mm/mm</wsa:To>"
			s.body = strings.Replace(strings.Replace(s.body, to, "", 1), "<SOAP-ENV:Header>", "<SOAP-ENV:Header>"+to, 1)
			return s
		}, "", ""},
		{"wsa headers with mustUnderstand and extra attributes", func(s shape) shape {
			s.body = strings.Replace(s.body, "<wsa:Action>", `<wsa:Action SOAP-ENV:mustUnderstand="1" xmlns:x="urn:x" x:note="y">`, 1)
			s.body = strings.Replace(s.body, "<wsa:MessageID>", `<wsa:MessageID SOAP-ENV:mustUnderstand="true">`, 1)
			return s
		}, "", ""},
		// A header porxgate does not know, even with mustUnderstand, is
		// taken: senders in production already pass Spine with theirs, and
		// refusing them would break a drop-in migration.
		{"unknown header with mustUnderstand", func(s shape) shape {
			s.body = strings.Replace(s.body, "<SOAP-ENV:Header>", `<SOAP-ENV:Header><x:Trace xmlns:x="urn:example:trace" SOAP-ENV:mustUnderstand="1">t-1</x:Trace>`, 1)
			return s
		}, "", ""},
		{"comments and processing instructions around the payload", func(s shape) shape {
			s.body = strings.Replace(s.body, "<SOAP-ENV:Body>", "<SOAP-ENV:Body>\n  <!-- payload follows --><?sender-trace 42?>\n", 1)
			s.body = strings.Replace(s.body, "</SOAP-ENV:Body>", "\n<!-- end -->\n</SOAP-ENV:Body>", 1)
			return s
		}, "", ""},
		{"comment after the envelope", func(s shape) shape { s.body += "\r\n<!-- sent by a test -->\r\n"; return s }, "", ""},
		{"no wsa:To, wsa:From, wsa:ReplyTo", func(s shape) shape {
			for _, h := range []string{"<wsa:To>https://spine.example/syncservice-mm/mm</wsa:To>",
				"<wsa:From><wsa:Address>https://dispenser.example</wsa:Address></wsa:From>",
				"<wsa:ReplyTo><wsa:Address>https://dispenser.example</wsa:Address></wsa:ReplyTo>"} {
				s.body = strings.Replace(s.body, h, "", 1)
			}
			return s
		}, "", ""},
		{"wsa:MessageID without its uuid: scheme, padded", func(s shape) shape {
			s.body = strings.Replace(s.body, "<wsa:MessageID>uuid:", "<wsa:MessageID>\n  ", 1)
			return s
		}, "", ""},
		{"SOAP 1.2 envelope", func(s shape) shape {
			s.ct = `application/soap+xml; charset=utf-8; action="urn:nhs:names:services:mm/` + releaseReq + `"`
			s.body = strings.ReplaceAll(s.body, ebxml.NSSOAP, ebxml.NSSOAP12)
			return s
		}, ebxml.FaultCodeVersionMismatch, ebxml.NSSOAP12},
		{"W3C WS-Addressing namespace", func(s shape) shape {
			s.body = strings.ReplaceAll(s.body, ebxml.NSWSA, "http://www.w3.org/2005/08/addressing")
			return s
		}, ebxml.FaultCodeServer, "http://www.w3.org/2005/08/addressing"},
		{"no SOAP Header", func(s shape) shape {
			s.body = decl + `<s:Envelope xmlns:s="` + ebxml.NSSOAP + `"><s:Body>` + soapPayload + `</s:Body></s:Envelope>`
			return s
		}, ebxml.FaultCodeServer, "wsa:MessageID missing"},
	}
	proc := soapProcessor(nil)
	g := startGateway(t, testConfig(), store.NewMemory(nil), true, WithProcessor(proc))
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "6E2F1C2D-0000-4000-8000-0000000009" + string(rune('A'+i/10)) + string(rune('0'+i%10))
			s := tt.make(shape{ct: "text/xml", body: string(soapEnvelope(id, releaseReq, soapPayload))})
			code, body := post(t, http.DefaultClient, g.base+PathSOAP, s.ct, s.action, []byte(s.body))
			if tt.faultCode == "" {
				if code != http.StatusOK || !bytes.Contains(body, []byte("R-"+id)) || !bytes.Contains(body, []byte(id+"</wsa:RelatesTo>")) {
					t.Fatalf("status %d, want 200 with the reply relating to %s\n%s", code, id, body)
				}
				if in := proc.lastCall(t); in.MessageID != id || string(in.Payload) != soapPayload {
					t.Errorf("processed %s with payload %q, want %s and the payload as sent", in.MessageID, in.Payload, id)
				}
				return
			}
			if code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500\n%s", code, body)
			}
			c, d := faultCode(t, body)
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(body); err != nil {
				t.Fatal(err)
			}
			fc := ""
			if e := doc.FindElement("//Fault/faultcode"); e != nil {
				fc = e.Text()
			}
			if fc != tt.faultCode || c != ebxml.TMSCodeMalformed || !strings.Contains(d, tt.desc) {
				t.Errorf("fault %s %s %q, want faultcode %s, 300 naming %q", fc, c, d, tt.faultCode, tt.desc)
			}
			if n := proc.callsFor(id); n != 0 {
				t.Errorf("a refused request was processed %d times", n)
			}
		})
	}
}
