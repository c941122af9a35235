package gateway

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestEbXMLReliabilityFlags: every combination of eb:SyncReply and
// eb:AckRequested a legacy MHS sends is taken with HTTP 202, the status
// an MHS reads as "accepted" (the NHS MHS adaptor's workflows count only
// 202 as acknowledged, any other status as a failure: async express and
// async reliable alike). With SyncReply and AckRequested the 202 carries
// the eb:Acknowledgment; without AckRequested it is empty (SyncReply
// alone asks for none); with AckRequested but not SyncReply it is empty
// and the acknowledgment goes to the sender's endpoint. Each
// message is processed once and answered once.
func TestEbXMLReliabilityFlags(t *testing.T) {
	tests := []struct {
		name                    string
		syncReply, ackRequested bool
		wantSyncAck, wantAsync  bool
	}{
		{"reliable: SyncReply and AckRequested", true, true, true, false},
		{"AckRequested without SyncReply", false, true, false, true},
		{"express: neither", false, false, false, false},
		// ebMS 2.0 §6.3.1: no Acknowledgment without AckRequested, on
		// the 202 or after it (before, the 202 carried one).
		{"SyncReply without AckRequested", true, false, false, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mhs := startMHS(t, "ack")
			proc := newFakeProcessor()
			g := startGateway(t, testConfig(), store.NewMemory(nil), false, WithProcessor(proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))
			req := newReq(newID(t, 700+i))
			req.syncReply, req.ackRequested = tt.syncReply, tt.ackRequested
			code, body := sendEb(t, g.base, req)
			if code != http.StatusAccepted {
				t.Fatalf("status %d, want 202 (an MHS takes any other status as a failure)\n%s", code, body)
			}
			if tt.wantSyncAck {
				checkAcknowledgment(t, body, req)
			} else if len(body) != 0 {
				t.Errorf("body %q, want none", body)
			}
			waitFor(t, "the answer", func() bool {
				for _, r := range mhs.messages() {
					if r.msg != nil && r.msg.RefToMessageID == req.messageID {
						return true
					}
				}
				return false
			})
			if tt.wantAsync {
				waitFor(t, "the asynchronous acknowledgment", func() bool {
					for _, r := range mhs.messages() {
						if r.ackRef == req.messageID {
							return true
						}
					}
					return false
				})
			} else {
				for _, r := range mhs.messages() {
					if r.ackRef != "" {
						t.Errorf("an asynchronous acknowledgment of %s was sent, none asked for", r.ackRef)
					}
				}
			}
			if n := proc.callsFor(req.messageID); n != 1 {
				t.Errorf("processed %d times, want 1", n)
			}
		})
	}
}

// TestEbXMLAcknowledgmentActor: the eb:Acknowledgment's SOAP actor is
// the one the sender's eb:AckRequested named (ebMS 2.0 §6.3.2: it SHALL
// correspond to the AckRequested element; toPartyMSH by default), on
// the HTTP 202 (SyncReply) and when delivered asynchronously alike. The
// NHS MHS adaptor asks nextMSH on its forward-reliable messages, and
// legacy senders do on theirs; before, every acknowledgment named
// toPartyMSH.
func TestEbXMLAcknowledgmentActor(t *testing.T) {
	const nextMSH = ebxml.ActorNextMSH
	actorOf := func(t *testing.T, body []byte) string {
		t.Helper()
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(body); err != nil {
			t.Fatalf("acknowledgment unreadable: %v\n%s", err, body)
		}
		ack := doc.FindElement("//Acknowledgment")
		if ack == nil {
			t.Fatalf("no eb:Acknowledgment in\n%s", body)
		}
		for _, a := range ack.Attr {
			if a.Key == "actor" && a.NamespaceURI() == ebxml.NSSOAP {
				return a.Value
			}
		}
		return ""
	}
	tests := []struct {
		name, asked, want string
		syncReply         bool
	}{
		{"nextMSH, SyncReply", nextMSH, nextMSH, true},
		{"toPartyMSH, SyncReply", ebxml.ActorToPartyMSH, ebxml.ActorToPartyMSH, true},
		{"nextMSH, acknowledged asynchronously", nextMSH, nextMSH, false},
		{"toPartyMSH, acknowledged asynchronously", ebxml.ActorToPartyMSH, ebxml.ActorToPartyMSH, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mhs := startMHS(t, "ack")
			g := startGateway(t, testConfig(), store.NewMemory(nil), false, WithProcessor(newFakeProcessor()), WithRoutes(routesTo(t, mhs.srv.URL, "")))
			req := newReq(newID(t, 760+i))
			req.syncReply, req.ackActor = tt.syncReply, tt.asked
			code, body := sendEb(t, g.base, req)
			if code != http.StatusAccepted {
				t.Fatalf("status %d, want 202\n%s", code, body)
			}
			if !tt.syncReply {
				waitFor(t, "the asynchronous acknowledgment", func() bool {
					for _, r := range mhs.messages() {
						if r.ackRef == req.messageID {
							body = r.body
							return true
						}
					}
					return false
				})
			}
			checkAcknowledgment(t, body, req)
			if got := actorOf(t, body); got != tt.want {
				t.Errorf("eb:Acknowledgment SOAP:actor %q, want %q (eb:AckRequested asked %q)", got, tt.want, tt.asked)
			}
		})
	}
}

// TestEbXMLTransportShapes sends, over a real socket, the transport
// shapes legacy MHSs put on the wire, each a variation of one request:
// what Spine takes is taken (HTTP 202, the payload reaching the processor
// byte for byte), what it refuses gets HTTP 500 with the eb:ErrorList
// entry Spine would send, and nothing refused reaches the processor.
func TestEbXMLTransportShapes(t *testing.T) {
	type shape struct {
		ct, action string
		body       []byte
		payload    []byte // the payload the processor must get
	}
	edit := func(s shape, old, new string) shape {
		t.Helper()
		if !bytes.Contains(s.body, []byte(old)) {
			t.Fatalf("request lacks %q", old)
		}
		s.body = bytes.Replace(s.body, []byte(old), []byte(new), 1)
		return s
	}
	const (
		boundary = "MIME_boundary_test"
		closing  = "\n--" + boundary + "--\n"
		manifest = "</eb:Manifest>"
	)
	attachment := "\n--" + boundary + "\nContent-Id: <att 1@porx.example>\nContent-Type: text/plain\n\nattached text"
	attRef := `<eb:Reference xlink:href="cid:att%201%40porx.example"><eb:Description xml:lang="en">attachment</eb:Description></eb:Reference>` + manifest
	// inBase64 writes the payload in base64, its lines of 76 characters
	// ending in eol.
	inBase64 := func(s shape, eol string) shape {
		t.Helper()
		i := bytes.Index(s.body, []byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PORX_IN020101UK31"))
		j := bytes.Index(s.body, []byte("\n--"+boundary+"--"))
		enc := base64.StdEncoding.EncodeToString(s.body[i:j])
		var lines []string
		for len(enc) > 76 {
			lines, enc = append(lines, enc[:76]), enc[76:]
		}
		lines = append(lines, enc)
		s.body = append(append(bytes.Clone(s.body[:i]), strings.Join(lines, eol)...), s.body[j:]...)
		return edit(s, "Content-Type: application/xml; charset=UTF-8\n", "Content-Type: application/xml; charset=UTF-8\nContent-Transfer-Encoding: base64\n")
	}
	tests := []struct {
		name     string
		make     func(s shape, id string) shape
		wantCode ebxml.ErrorCode // "" when taken
		wantDesc string
	}{
		{"as built", func(s shape, _ string) shape { return s }, "", ""},
		{"the NHS MHS adaptor's Content-Type and boundary", func(s shape, _ string) shape {
			s.ct = `multipart/related; boundary="--=_MIME-Boundary"; type=text/xml; start=ebXMLHeader@spine.nhs.uk`
			s.body = bytes.ReplaceAll(s.body, []byte("--"+boundary), []byte("----=_MIME-Boundary"))
			return s
		}, "", ""},
		{"CRLF line ends, preamble and epilogue", func(s shape, _ string) shape {
			s.payload = bytes.ReplaceAll(s.payload, []byte("\n"), []byte("\r\n"))
			s.body = append([]byte("This is a multi-part message in MIME format.\r\n"), bytes.ReplaceAll(s.body, []byte("\n"), []byte("\r\n"))...)
			s.body = append(s.body, "trailing epilogue text\r\n"...)
			return s
		}, "", ""},
		{"parameters reordered, quoted, names in upper case", func(s shape, _ string) shape {
			s.ct = `Multipart/Related; START="<ebXMLHeader@spine.nhs.uk>"; Type="text/xml"; BOUNDARY="` + boundary + `"`
			return s
		}, "", ""},
		{"Content-Ids without angle brackets, header names in odd case", func(s shape, id string) shape {
			s = edit(s, "Content-Id: <ebXMLHeader@spine.nhs.uk>", "CONTENT-ID: ebXMLHeader@spine.nhs.uk")
			return edit(s, "Content-Id: <"+id+"@porx.example.nhs.uk>", "content-id: "+id+"@porx.example.nhs.uk")
		}, "", ""},
		{"payload in base64", func(s shape, _ string) shape { return inBase64(s, "\r\n") }, "", ""},
		// RFC 2045 §6.8: what is outside the base64 alphabet is ignored.
		{"payload in base64 with characters outside its alphabet", func(s shape, _ string) shape { return inBase64(s, "\"!\r\n") }, "", ""},
		{"payload marked binary, charset in upper case", func(s shape, _ string) shape {
			return edit(s, "Content-Type: application/xml; charset=UTF-8\n", "Content-Type: text/xml; CHARSET=\"UTF-8\"\nContent-Transfer-Encoding: binary\n")
		}, "", ""},
		{"percent-encoded cid reference", func(s shape, id string) shape {
			return edit(s, `xlink:href="cid:`+id+`@porx.example.nhs.uk"`, `xlink:href="cid:`+id+`%40porx.example.nhs.uk"`)
		}, "", ""},
		{"referenced attachment", func(s shape, _ string) shape {
			return edit(edit(s, closing, attachment+closing), manifest, attRef)
		}, "", ""},
		{"white space before a part header's colon", func(s shape, id string) shape {
			return edit(edit(s, "Content-Id: <"+id, "Content-Id : <"+id), "Content-Id: <ebXMLHeader", "Content-ID\t: <ebXMLHeader")
		}, "", ""},
		// As on the SOAP door: an unknown header, mustUnderstand or not,
		// does not stop a message Spine's senders already send.
		{"unknown SOAP header with mustUnderstand", func(s shape, _ string) shape {
			return edit(s, "<SOAP-ENV:Header>", `<SOAP-ENV:Header><x:Trace xmlns:x="urn:example:trace" SOAP-ENV:mustUnderstand="1">t-1</x:Trace>`)
		}, "", ""},
		{"no DuplicateElimination, a comment and a PI in the header", func(s shape, _ string) shape {
			return edit(s, "<eb:DuplicateElimination/>", "<!-- none --><?trace 1?>")
		}, "", ""},
		{"no blank line between part headers and content", func(s shape, _ string) shape {
			s = edit(s, "Content-Type: text/xml; charset=UTF-8\n\n", "Content-Type: text/xml; charset=UTF-8\n")
			return edit(s, "Content-Type: application/xml; charset=UTF-8\n\n", "Content-Type: application/xml; charset=UTF-8\n")
		}, "", ""},
		{"header part without the Content-Id start names", func(s shape, _ string) shape {
			return edit(s, "Content-Id: <ebXMLHeader@spine.nhs.uk>\n", "")
		}, "", ""},
		{"start naming a part that is not there", func(s shape, _ string) shape {
			s.ct = strings.Replace(s.ct, "start=ebXMLHeader@spine.nhs.uk", "start=<other@spine.nhs.uk>", 1)
			return s
		}, ebxml.CodeMimeProblem, "other@spine.nhs.uk"},
		{"eb:Timestamp with an offset other than Z", func(s shape, _ string) shape {
			return edit(s, "2026-03-01T12:00:00Z", "2026-03-01T13:00:00.250+01:00")
		}, "", ""},
		{"eb:Timestamp in RFC 3339's other spelling", func(s shape, _ string) shape {
			return edit(s, "2026-03-01T12:00:00Z", "2026-03-01 12:00:00z")
		}, "", ""},
		{"eb:Timestamp not a date-time", func(s shape, _ string) shape {
			return edit(s, "2026-03-01T12:00:00Z", "01/03/2026 12:00")
		}, ebxml.CodeValueNotRecognized, "eb:Timestamp"},
		{"referenced attachment missing", func(s shape, _ string) shape { return edit(s, manifest, attRef) },
			ebxml.CodeMimeProblem, "att 1@porx.example"},
		// The NHS MHS adaptor's reader (Python's email parser) takes a body
		// whose last part runs to its end without the closing delimiter;
		// the HL7 payload read whole as XML loses nothing.
		{"no closing delimiter after the payload", func(s shape, _ string) shape { return edit(s, closing, "") }, "", ""},
		{"no closing delimiter, a line end after the payload", func(s shape, _ string) shape { return edit(s, closing, "\r\n") }, "", ""},
		{"closing delimiter without its two dashes", func(s shape, _ string) shape { return edit(s, closing, "\n--"+boundary+"\n") }, "", ""},
		// But a last part that may have been cut short is refused: a
		// payload that is not whole XML, or an attachment, whose end
		// cannot be told.
		{"no closing delimiter, the payload cut short", func(s shape, _ string) shape {
			s.body = s.body[:bytes.LastIndex(s.body, []byte(closing))-30]
			return s
		}, ebxml.CodeMimeProblem, "closing boundary delimiter"},
		{"no closing delimiter after an attachment", func(s shape, _ string) shape {
			return edit(edit(s, closing, attachment), manifest, attRef)
		}, ebxml.CodeMimeProblem, "closing boundary delimiter"},
	}
	proc := newFakeProcessor()
	g := startGateway(t, testConfig(), store.NewMemory(nil), false, WithProcessor(proc))
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newReq(newID(t, 800+i))
			var s shape
			s.ct, s.action, s.body = req.build()
			s.payload = req.payload
			s = tt.make(s, req.messageID)
			code, body := post(t, http.DefaultClient, g.base+PathEbXML, s.ct, s.action, s.body)
			if tt.wantCode == "" {
				if code != http.StatusAccepted {
					t.Fatalf("status %d, want 202\n%s", code, body)
				}
				checkAcknowledgment(t, body, req)
				waitFor(t, "the processing", func() bool { return proc.callsFor(req.messageID) == 1 })
				if in := proc.lastCall(t); in.MessageID != req.messageID || !bytes.Equal(in.Payload, s.payload) {
					t.Errorf("processed %s with payload %q, want %s and the payload as sent", in.MessageID, in.Payload, req.messageID)
				}
				return
			}
			if code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500\n%s", code, body)
			}
			if c, d := ebErrorOf(t, body); c != string(tt.wantCode) || !strings.Contains(d, tt.wantDesc) {
				t.Errorf("eb:Error %s %q, want %s naming %q", c, d, tt.wantCode, tt.wantDesc)
			}
			if n := proc.callsFor(req.messageID); n != 0 {
				t.Errorf("a refused message was processed %d times", n)
			}
		})
	}
}

// TestEbXMLAttachmentsKept: parts beyond the HL7 payload (attachments the
// manifest references, as MHSs send them: text, and binary in base64)
// cannot go to EPS, whose FHIR messages have no place for them; an
// acknowledged message must lose nothing, so they stay with the message
// (the inbox entry, byte for byte) and the journal records each of them
// beside the legacy request, binary ones in base64.
func TestEbXMLAttachmentsKept(t *testing.T) {
	const boundary = "MIME_boundary_test"
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff")
	j := newTestJournal(t)
	proc := newFakeProcessor()
	g := startGateway(t, testConfig(), newMemoryStore(), false, WithProcessor(proc), WithJournal(j))
	req := newReq(newID(t, 850))
	ct, action, body := req.build()
	parts := "\n--" + boundary + "\nContent-Id: <note-1@porx.example>\nContent-Type: text/plain; charset=UTF-8\n\nPlease call the surgery — Zoë ✓" +
		"\n--" + boundary + "\nContent-Id: <scan-1@porx.example>\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\n" + base64.StdEncoding.EncodeToString(png)
	refs := `<eb:Reference xlink:href="cid:note-1@porx.example"><eb:Description xml:lang="en">note</eb:Description></eb:Reference>` +
		`<eb:Reference xlink:href="cid:scan-1@porx.example"><eb:Description xml:lang="en">scan</eb:Description></eb:Reference></eb:Manifest>`
	body = bytes.Replace(body, []byte("\n--"+boundary+"--\n"), []byte(parts+"\n--"+boundary+"--\n"), 1)
	body = bytes.Replace(body, []byte("</eb:Manifest>"), []byte(refs), 1)
	if code, b := post(t, http.DefaultClient, g.base+PathEbXML, ct, action, body); code != http.StatusAccepted {
		t.Fatalf("status %d, want 202\n%s", code, b)
	}
	waitFor(t, "the processing", func() bool { return proc.callsFor(req.messageID) == 1 })
	in := proc.lastCall(t)
	want := []Attachment{
		{ContentID: "note-1@porx.example", ContentType: "text/plain; charset=UTF-8", Body: []byte("Please call the surgery — Zoë ✓")},
		{ContentID: "scan-1@porx.example", ContentType: "image/png", Body: png},
	}
	if !reflect.DeepEqual(in.Attachments, want) || !bytes.Equal(in.Payload, req.payload) {
		t.Fatalf("attachments %+v payload %q, want %+v and the payload", in.Attachments, in.Payload, want)
	}
	x := exchangeOf(t, j, req.messageID, journal.StepLegacyRequest, journal.StepV3Answer)
	var text, bin bool
	for _, s := range x.Steps {
		if s.Kind != journal.StepLegacyRequest {
			continue
		}
		text = text || strings.Contains(s.Title, "note-1@porx.example") && s.Body == "Please call the surgery — Zoë ✓" && s.ContentType == "text/plain; charset=UTF-8"
		bin = bin || strings.Contains(s.Title, "scan-1@porx.example") && s.Body == base64.StdEncoding.EncodeToString(png) && s.Headers["Content-Transfer-Encoding"] == "base64"
	}
	if !text || !bin {
		t.Errorf("journal: text attachment %v, binary attachment %v in %+v", text, bin, x.Steps)
	}
}

// rawRequest writes an HTTP/1.1 POST by hand (headers exactly as given,
// malformed ones included) to base and returns the answer's status,
// Content-Type and body.
func rawRequest(t *testing.T, base, method, path, headers string, body []byte) (int, string, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: porxgate.test\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n%s", method, path, headers, len(body), body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// TestUnreadableHTTPHeaders: a request whose HTTP headers the server
// cannot read (white space before a colon, which RFC 9112 says to refuse;
// a Content-Type given twice; a control character in a header) is refused
// before any door runs. A front door's caller still gets its door's
// refusal (an eb:MessageError, a SOAP fault) saying what was wrong, and no
// answer echoes the request's bytes back (the payload holds patient data).
func TestUnreadableHTTPHeaders(t *testing.T) {
	proc := newFakeProcessor()
	proc.supports[releaseReq] = true
	g := startGateway(t, testConfig(), store.NewMemory(nil), true, WithProcessor(proc))
	req := newReq(newID(t, 870))
	ct, action, body := req.build()
	soap := soapEnvelope("6E2F1C2D-0000-4000-8000-000000000870", releaseReq, soapPayload)
	tests := []struct {
		name, path, headers string
		body                []byte
		want                string // "ebxml", "soap" or "json"
		reason              string
	}{
		{"ebXML, space before a colon", PathEbXML, "Content-Type : " + ct + "\r\nSOAPAction: " + action + "\r\n", body, "ebxml", "invalid header key"},
		{"ebXML, Content-Type twice", PathEbXML, "Content-Type: " + ct + "\r\nContent-Type: text/xml\r\nSOAPAction: " + action + "\r\n", body, "ebxml", "conflicting content-type"},
		{"SOAP, control character in a header", PathSOAP, "Content-Type: text/xml\r\nX-Sender\x01: a\r\n", soap, "soap", "malformed"},
		{"SOAP with a query, Content-Type twice", PathSOAP + "?x=1", "Content-Type: text/xml\r\nContent-Type: text/xml; charset=utf-8\r\n", soap, "soap", "conflicting content-type"},
		// Its bytes hold "timeout": Fiber took the error for a read
		// timeout, answered 408 with JSON (before session 19).
		{"ebXML with Keep-Alive timeout, space before a colon", PathEbXML, "Keep-Alive: timeout=5\r\nContent-Type : " + ct + "\r\nSOAPAction: " + action + "\r\n", body, "ebxml", "invalid header key"},
		{"another path", "/mm/prescriptions", "Content-Type : text/xml\r\n", soap, "json", "invalid header key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, ctype, answer := rawRequest(t, g.base, http.MethodPost, tt.path, tt.headers, tt.body)
			for _, leaked := range []string{"Zoë", "Łukasiewicz", "PORX_IN", "contents:"} {
				if strings.Contains(answer, leaked) {
					t.Errorf("answer echoes the request (%q):\n%.600s", leaked, answer)
				}
			}
			switch tt.want {
			case "ebxml":
				if code != http.StatusInternalServerError || ctype != xmlContentType {
					t.Fatalf("status %d %s, want 500 text/xml\n%.600s", code, ctype, answer)
				}
				if c, d := ebErrorOf(t, []byte(answer)); c != string(ebxml.CodeMimeProblem) || !strings.HasPrefix(d, "910022:") || !strings.Contains(d, tt.reason) {
					t.Errorf("eb:Error %s %q, want MimeProblem 910022 saying %q", c, d, tt.reason)
				}
			case "soap":
				if code != http.StatusInternalServerError || ctype != xmlContentType {
					t.Fatalf("status %d %s, want 500 text/xml\n%.600s", code, ctype, answer)
				}
				if c, d := faultCode(t, []byte(answer)); c != ebxml.TMSCodeMalformed || !strings.HasPrefix(d, "910022:") || !strings.Contains(d, tt.reason) {
					t.Errorf("fault %s %q, want 300 910022 saying %q", c, d, tt.reason)
				}
			default:
				if code != http.StatusBadRequest || !strings.Contains(answer, tt.reason) {
					t.Errorf("status %d, want 400 saying %q\n%.600s", code, tt.reason, answer)
				}
			}
		})
	}
	if n := proc.numCalls(); n != 0 {
		t.Errorf("%d refused requests processed", n)
	}
}

// TestEbXMLTimeToLive: a message whose eb:TimeToLive has passed when it
// arrives is not delivered (ebMS 2.0 §6.4.4): HTTP 500 with an
// eb:MessageError TimeToLiveExpired, nothing acknowledged, nothing
// queued; one still alive is taken as any other.
func TestEbXMLTimeToLive(t *testing.T) {
	st := store.NewMemory(nil)
	g := startGateway(t, testConfig(), st, true, WithProcessor(newFakeProcessor()))
	queued := 0
	for i, tt := range []struct {
		name, ttl string
		expired   bool
	}{
		{"passed", "2020-01-01T00:00:00Z", true},
		{"passed, with an offset", "2020-01-01T01:00:00+01:00", true},
		{"alive", "2099-01-01T00:00:00Z", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := newReq(newID(t, 880+i))
			ct, action, body := req.build()
			const ts = "<eb:Timestamp>2026-03-01T12:00:00Z</eb:Timestamp>"
			body = bytes.Replace(body, []byte(ts), []byte(ts+"<eb:TimeToLive>"+tt.ttl+"</eb:TimeToLive>"), 1)
			code, answer := post(t, http.DefaultClient, g.base+PathEbXML, ct, action, body)
			if !tt.expired {
				queued++
			}
			if n, err := st.QueueLen(t.Context(), inboxQueue); err != nil || n != queued {
				t.Errorf("inbox holds %d (%v), want %d", n, err, queued)
			}
			if !tt.expired {
				if code != http.StatusAccepted {
					t.Fatalf("status %d, want 202\n%s", code, answer)
				}
				return
			}
			if code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500\n%s", code, answer)
			}
			if c, d := ebErrorOf(t, answer); c != string(ebxml.CodeTimeToLiveExpired) || !strings.Contains(d, "910021:eb:TimeToLive 2020-01-01T00:00:00Z has passed") {
				t.Errorf("eb:Error %s %q, want TimeToLiveExpired naming it (in UTC)", c, d)
			}
		})
	}
}

// TestEbXMLHTTPHeaderForms: HTTP header forms legacy senders write that a
// Go client never would, sent by hand: a Content-Type folded over lines
// (obsolete line folding), header names in lower or upper case, a
// SOAPAction in single quotes or empty. Each is taken.
func TestEbXMLHTTPHeaderForms(t *testing.T) {
	proc := newFakeProcessor()
	g := startGateway(t, testConfig(), store.NewMemory(nil), true, WithProcessor(proc))
	tests := []struct {
		name    string
		headers func(ct, action string) string
	}{
		{"folded Content-Type", func(ct, action string) string {
			return "Content-Type: " + strings.ReplaceAll(ct, "; ", ";\r\n\t") + "\r\nSOAPAction: " + action + "\r\n"
		}},
		{"lower-case names", func(ct, action string) string { return "content-type: " + ct + "\r\nsoapaction: " + action + "\r\n" }},
		{"upper-case names, quoted action", func(ct, action string) string {
			return "CONTENT-TYPE: " + ct + "\r\nSOAPACTION: \"" + action + "\"\r\n"
		}},
		{"SOAPAction in single quotes", func(ct, action string) string { return "Content-Type: " + ct + "\r\nSOAPAction: '" + action + "'\r\n" }},
		{"empty SOAPAction", func(ct, _ string) string { return "Content-Type: " + ct + "\r\nSOAPAction: \"\"\r\n" }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newReq(newID(t, 890+i))
			ct, action, body := req.build()
			code, _, answer := rawRequest(t, g.base, http.MethodPost, PathEbXML, tt.headers(ct, action), body)
			if code != http.StatusAccepted {
				t.Fatalf("status %d, want 202\n%s", code, answer)
			}
			checkAcknowledgment(t, []byte(answer), req)
		})
	}
}

// TestEbXMLPayloadNotTheAction: a message whose HL7 payload is another
// interaction than its eb:Action names (another interaction, or the same
// one of the other family) is refused before it is acknowledged, as the
// SOAP door refuses one (TestSOAPPayloadNotTheAction): MessageError
// Inconsistent 910025 naming both, nothing sent to EPS. Before, the door
// acknowledged it and the processor read the payload for what it was: a
// nominated release under the patient release's action had EPS release
// the pharmacy's nominated prescription.
func TestEbXMLPayloadNotTheAction(t *testing.T) {
	for _, tc := range []struct {
		name, action string
	}{
		{"nominated release under the patient release's action", v3.PatientReleaseRequest},
		{"nominated release under its other family's action", "PORX_IN060102SM30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, client := startSim(t)
			st, _ := redisStore(t)
			proc := NewEPSProcessor(mapping.NewRegistry(), client, nil, nil, quietLog()).WithOutcomeLog(st, time.Hour)
			submitNominated(t, proc, "F5000000-0000-4000-8000-00000000AD01")
			mhs := startMHS(t, "ack")
			g := startGateway(t, testConfig(), st, false, append(asRunWraps(t, proc), WithRoutes(routesTo(t, mhs.srv.URL, "")))...)

			req := newReq("F5000000-0000-4000-8000-00000000AD02")
			req.action, req.payload = tc.action, nominatedReleaseFCG71(t)
			code, body := sendEb(t, g.base, req)
			time.Sleep(300 * time.Millisecond) // a message wrongly taken would be processed now
			if rx, ok := s.State().Get(rxID); !ok || rx.Dispenser != "" {
				t.Errorf("EPS holds the prescription with dispenser %q (status %s): released under a message that should have been refused", rx.Dispenser, rx.Status)
			}
			if code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500\n%.800s", code, body)
			}
			if ec, desc := ebErrorOf(t, body); ec != string(ebxml.CodeInconsistent) || !strings.Contains(desc, "910025:") ||
				!strings.Contains(desc, tc.action) || !strings.Contains(desc, v3.NominatedReleaseRequest) {
				t.Fatalf("eb:Error %s %q; want Inconsistent 910025 naming %s and %s", ec, desc, tc.action, v3.NominatedReleaseRequest)
			}
		})
	}
}

// TestEbXMLTimeToLiveDuplicate: a message taken while alive and sent
// again after its eb:TimeToLive has passed (its sender never had the
// acknowledgment, and retried) is a duplicate: acknowledged again and not
// queued again. Before, the retry was refused TimeToLiveExpired, a final
// error telling the sender its message was not taken while it was
// taken and would be answered. One never taken is still refused.
func TestEbXMLTimeToLiveDuplicate(t *testing.T) {
	rs, _ := redisStore(t)
	for name, st := range map[string]store.Store{"memory": store.NewMemory(nil), "redis": rs} {
		t.Run(name, func(t *testing.T) {
			var clock atomic.Int64
			start := time.Now()
			clock.Store(start.UnixNano())
			g := startGateway(t, testConfig(), st, true, WithProcessor(newFakeProcessor()),
				WithClock(func() time.Time { return time.Unix(0, clock.Load()) }))
			withTTL := func(req ebReq, ttl time.Time) (string, string, []byte) {
				ct, action, body := req.build()
				const ts = "<eb:Timestamp>2026-03-01T12:00:00Z</eb:Timestamp>"
				return ct, action, bytes.Replace(body, []byte(ts), []byte(ts+"<eb:TimeToLive>"+ttl.UTC().Format(time.RFC3339)+"</eb:TimeToLive>"), 1)
			}
			taken, never := newReq(newID(t, 890)), newReq(newID(t, 891))
			ttl := start.Add(time.Minute)
			ct, action, body := withTTL(taken, ttl)
			if code, answer := post(t, http.DefaultClient, g.base+PathEbXML, ct, action, body); code != http.StatusAccepted {
				t.Fatalf("alive: status %d, want 202\n%s", code, answer)
			}
			clock.Store(start.Add(2 * time.Minute).UnixNano())
			code, answer := post(t, http.DefaultClient, g.base+PathEbXML, ct, action, body)
			if code != http.StatusAccepted {
				t.Fatalf("retry past its time to live of a message taken: status %d, want 202\n%s", code, answer)
			}
			checkAcknowledgment(t, answer, taken)
			if n, err := st.QueueLen(t.Context(), inboxQueue); err != nil || n != 1 {
				t.Errorf("inbox holds %d (%v), want the message once", n, err)
			}
			ct, action, body = withTTL(never, ttl)
			code, answer = post(t, http.DefaultClient, g.base+PathEbXML, ct, action, body)
			if code != http.StatusInternalServerError {
				t.Fatalf("a message never taken, past its time to live: status %d, want 500\n%s", code, answer)
			}
			if c, _ := ebErrorOf(t, answer); c != string(ebxml.CodeTimeToLiveExpired) {
				t.Errorf("eb:Error %s, want TimeToLiveExpired", c)
			}
		})
	}
}
