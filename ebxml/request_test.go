package ebxml

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"
)

func TestParseRequestFields(t *testing.T) {
	m := mustParse(t, testContentType, testSOAPAction, requestLF(t))
	want := Message{
		FromPartyID: "FQ2KM-807341", ToPartyID: "YES-0000806", CPAID: "S3024519A3110234",
		ConversationID: testMessageID, Service: ServiceMM, Action: "PORX_IN020101UK31",
		MessageID: testMessageID, TimestampRaw: "2024-03-07T14:22:05Z",
		Timestamp:            time.Date(2024, 3, 7, 14, 22, 5, 0, time.UTC),
		DuplicateElimination: true, AckRequested: true, AckRequestedActor: ActorToPartyMSH, SyncReply: true, SOAPAction: testSOAPAction,
	}
	got := *m
	got.Manifest, got.Envelope, got.Parts, got.Payload = nil, nil, nil, nil
	if !got.Timestamp.Equal(want.Timestamp) {
		t.Errorf("Timestamp = %v, want %v", got.Timestamp, want.Timestamp)
	}
	got.Timestamp = want.Timestamp
	if !reflect.DeepEqual(got, want) {
		t.Errorf("header fields:\n got %+v\nwant %+v", got, want)
	}
	if len(m.Manifest) != 1 {
		t.Fatalf("manifest has %d references, want 1", len(m.Manifest))
	}
	ref := m.Manifest[0]
	wantRef := Reference{
		Href: "cid:" + testMessageID + "@porx.example.nhs.uk", ContentID: testMessageID + "@porx.example.nhs.uk",
		Description: "HL7 payload", SchemaLocation: "urn:hl7-org:v3_PORX_IN020101UK31.xsd", SchemaVersion: "31", HL7Payload: true,
	}
	if ref != wantRef {
		t.Errorf("reference:\n got %+v\nwant %+v", ref, wantRef)
	}
	if len(m.Parts) != 1 || m.Payload != &m.Parts[0] {
		t.Fatalf("parts = %d, payload %p, want 1 part and payload = &Parts[0]", len(m.Parts), m.Payload)
	}
	if m.Payload.ContentID != ref.ContentID || m.Payload.ContentType != "application/xml; charset=UTF-8" {
		t.Errorf("payload part id %q type %q", m.Payload.ContentID, m.Payload.ContentType)
	}
	if !bytes.HasPrefix(m.Envelope, []byte("<?xml")) || !bytes.HasSuffix(m.Envelope, []byte("</SOAP-ENV:Envelope>\n")) {
		t.Errorf("Envelope not the header part body: %.60q...", m.Envelope)
	}
}

// TestParseRequestLeniency covers the shapes legacy MHSs send: line ends,
// Content-Type quoting, SOAPAction quoting; the payload must come back byte
// for byte, multi-byte UTF-8 included.
func TestParseRequestLeniency(t *testing.T) {
	lf := requestLF(t)
	crlf := toCRLF(lf)
	mixed := bytes.Replace(lf, []byte("Content-Transfer-Encoding: 8bit\n\n<?xml"), []byte("Content-Transfer-Encoding: 8bit\r\n\r\n<?xml"), 1)
	quoted := `multipart/related; boundary="MIME_boundary_4f1c7e2a"; type="text/xml"; start="<ebXMLHeader@spine.nhs.uk>"`
	tests := []struct {
		name, ct, action string
		body             []byte
	}{
		{"LF unquoted params", testContentType, testSOAPAction, lf},
		{"CRLF unquoted params", testContentType, testSOAPAction, crlf},
		{"LF quoted params", quoted, testSOAPAction, lf},
		{"CRLF quoted params", quoted, testSOAPAction, crlf},
		{"mixed line ends", testContentType, testSOAPAction, mixed},
		{"quoted SOAPAction", testContentType, `"` + testSOAPAction + `"`, lf},
		{"quoted SOAPAction with spaces", testContentType, ` "` + testSOAPAction + `" `, crlf},
		{"bare action SOAPAction", testContentType, "PORX_IN020101UK31", lf},
		{"ebMS SOAPAction", testContentType, `"ebXML"`, lf},
		{"no SOAPAction", testContentType, "", lf},
		{"start in angle brackets unquoted", "multipart/related; boundary=MIME_boundary_4f1c7e2a; type=text/xml; start=<ebXMLHeader@spine.nhs.uk>", testSOAPAction, lf},
		{"no start parameter", "multipart/related; boundary=MIME_boundary_4f1c7e2a", testSOAPAction, lf},
		{"upper-case media type", "Multipart/Related; Boundary=MIME_boundary_4f1c7e2a; Type=text/xml", testSOAPAction, crlf},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, tt.ct, tt.action, tt.body)
			want := expectedPayload(t, tt.body)
			if m.Payload == nil || !bytes.Equal(m.Payload.Body, want) {
				t.Fatalf("payload differs from the bytes sent:\n got %q\nwant %q", m.Payload.Body, want)
			}
			if !utf8.Valid(m.Payload.Body) || !bytes.Contains(m.Payload.Body, []byte("Łukasiewicz-Ó Briain")) ||
				!bytes.Contains(m.Payload.Body, []byte("250 µg — twice daily; cost £4·50 ✓ 🙂")) {
				t.Error("multi-byte UTF-8 not preserved")
			}
			if m.MessageID != testMessageID || m.Action != "PORX_IN020101UK31" {
				t.Errorf("MessageID %q Action %q", m.MessageID, m.Action)
			}
		})
	}
}

// TestParseRequestOwnsBytes checks that the result does not alias the
// caller's buffer (Fiber reuses it after the handler returns).
func TestParseRequestOwnsBytes(t *testing.T) {
	body := requestLF(t)
	m := mustParse(t, testContentType, testSOAPAction, body)
	want := bytes.Clone(m.Payload.Body)
	for i := range body {
		body[i] = 'x'
	}
	if !bytes.Equal(m.Payload.Body, want) {
		t.Error("payload changed when the caller's buffer was overwritten")
	}
}

func TestParseRequestPayloadSelection(t *testing.T) {
	lf := string(requestLF(t))
	cid := testMessageID + "@porx.example.nhs.uk"
	extra := "--MIME_boundary_4f1c7e2a\nContent-Id: <attachment-1@porx>\nContent-Type: text/plain\n\nnot the payload\n"
	tests := []struct {
		name    string
		body    string
		ct      string
		wantCID string
		parts   int
	}{
		{"attachment before payload", strings.Replace(lf, "--MIME_boundary_4f1c7e2a\nContent-Id: <"+cid, extra+"--MIME_boundary_4f1c7e2a\nContent-Id: <"+cid, 1), testContentType, cid, 2},
		{"payload Content-Id in other case", strings.Replace(lf, "Content-Id: <"+cid, "Content-ID: <"+strings.ToLower(cid), 1), testContentType, strings.ToLower(cid), 1},
		{"no manifest: second part", strings.ReplaceAll(lf, "eb:Reference", "eb:NotAReference"), testContentType, cid, 1},
		{"payload part without Content-Id", strings.Replace(lf, "Content-Id: <"+cid+">\n", "", 1), testContentType, "", 1},
		{"header part not first", moveHeaderLast(t, lf), testContentType, cid, 1},
		{"start names a header part sent without Content-Id", strings.Replace(lf, "Content-Id: <ebXMLHeader@spine.nhs.uk>\n", "", 1), testContentType, cid, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, tt.ct, testSOAPAction, []byte(tt.body))
			if len(m.Parts) != tt.parts || m.Payload == nil || m.Payload.ContentID != tt.wantCID {
				t.Fatalf("parts %d payload %+v, want %d parts, payload cid %q", len(m.Parts), m.Payload, tt.parts, tt.wantCID)
			}
			if !bytes.Equal(m.Payload.Body, expectedPayload(t, []byte(tt.body))) {
				t.Errorf("payload bytes differ")
			}
		})
	}
}

// moveHeaderLast reorders the sample so the header part comes second.
func moveHeaderLast(t *testing.T, lf string) string {
	t.Helper()
	const d = "--MIME_boundary_4f1c7e2a"
	segs := strings.Split(lf, d)
	// segs: preamble, header part, payload part, "--\nepilogue"
	if len(segs) != 4 {
		t.Fatalf("unexpected sample layout: %d segments", len(segs))
	}
	return segs[0] + d + segs[2] + d + segs[1] + d + segs[3]
}

// TestParseRequestBase64Part: a base64 part is decoded whatever else
// its text holds between the characters of the base64 alphabet: line
// breaks, white space and any other character, which RFC 2045 §6.8 says
// are to be ignored (as the NHS MHS adaptor's reader ignores them; its
// test message of a compressed attachment has a '"' in its base64).
// Before, any character but a line break or white space refused the
// whole message MimeProblem 900007.
func TestParseRequestBase64Part(t *testing.T) {
	lf := string(requestLF(t))
	payload := string(expectedPayload(t, []byte(lf)))
	const enc = "PD94bWwgdmVyc2lvbj0iMS4wIj8+PHg+wqM8L3g+" // <?xml version="1.0"?><x>£</x>
	tests := []struct{ name, text string }{
		{"one line", enc},
		{"LF line breaks", enc[:20] + "\n" + enc[20:]},
		{"CR LF line breaks, white space", enc[:20] + " \r\n\t" + enc[20:] + "\r\n"},
		{"characters outside the alphabet", `"` + enc[:10] + `!` + enc[10:20] + `"-_.` + enc[20:] + "\x00\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := strings.Replace(lf, "Content-Transfer-Encoding: 8bit\n\n"+payload, "Content-Transfer-Encoding: base64\n\n"+tt.text, 1)
			m := mustParse(t, testContentType, testSOAPAction, []byte(body))
			if got := string(m.Payload.Body); got != `<?xml version="1.0"?><x>£</x>` {
				t.Errorf("decoded payload = %q", got)
			}
		})
	}
}

func TestParseRequestMalformed(t *testing.T) {
	lf := string(requestLF(t))
	rep := func(old, new string) []byte {
		t.Helper()
		if !strings.Contains(lf, old) {
			t.Fatalf("sample lacks %q", old)
		}
		return []byte(strings.Replace(lf, old, new, 1))
	}
	headerOnly := lf[:strings.Index(lf, "\n--MIME_boundary_4f1c7e2a\nContent-Id: <5B0E")] + "\n--MIME_boundary_4f1c7e2a--\n"
	tests := []struct {
		name        string
		ct, action  string
		body        []byte
		code        ErrorCode
		num         int
		wantPartial bool
	}{
		{"empty body", testContentType, testSOAPAction, nil, CodeMimeProblem, NumEmptyBody, false},
		{"blank body", testContentType, testSOAPAction, []byte(" \r\n\n"), CodeMimeProblem, NumEmptyBody, false},
		{"wrong content type", "text/xml; charset=UTF-8", testSOAPAction, []byte(lf), CodeMimeProblem, NumContentType, false},
		{"no content type", "", testSOAPAction, []byte(lf), CodeMimeProblem, NumContentType, false},
		{"multipart/mixed", "multipart/mixed; boundary=MIME_boundary_4f1c7e2a", testSOAPAction, []byte(lf), CodeMimeProblem, NumContentType, false},
		{"no boundary", "multipart/related; type=text/xml; start=ebXMLHeader@spine.nhs.uk", testSOAPAction, []byte(lf), CodeMimeProblem, NumNoBoundary, false},
		{"empty boundary", `multipart/related; boundary=""`, testSOAPAction, []byte(lf), CodeMimeProblem, NumNoBoundary, false},
		{"boundary not in body", "multipart/related; boundary=other", testSOAPAction, []byte(lf), CodeMimeProblem, NumMultipart, false},
		{"truncated multipart", testContentType, testSOAPAction, []byte(lf[:len(lf)-200]), CodeMimeProblem, NumMultipart, true},
		{"truncated in the header part", testContentType, testSOAPAction, []byte(lf[:strings.Index(lf, "</eb:Manifest>")]), CodeMimeProblem, NumMultipart, false},
		{"no parts", testContentType, testSOAPAction, []byte("--MIME_boundary_4f1c7e2a--\n"), CodeMimeProblem, NumMultipart, false},
		{"missing start part", "multipart/related; boundary=MIME_boundary_4f1c7e2a; start=<nothere@spine.nhs.uk>", testSOAPAction, []byte(lf), CodeMimeProblem, NumStartPart, false},
		{"bad XML in header", testContentType, testSOAPAction, rep("</eb:CPAId>", "</eb:CPAID>"), CodeOtherXML, NumHeaderXML, false},
		{"header part is not XML", testContentType, testSOAPAction, rep(`<?xml version="1.0" encoding="UTF-8"?>`+"\n<SOAP-ENV:Envelope", "hello <SOAP-ENV:Envelope"), CodeOtherXML, NumHeaderXML, false},
		{"unclosed wrapper", testContentType, testSOAPAction, rep("<SOAP-ENV:Envelope ", "<SOAP-ENV:Wrapper><SOAP-ENV:Envelope "), CodeOtherXML, NumHeaderXML, false},
		{"not an envelope", testContentType, testSOAPAction, []byte(strings.ReplaceAll(lf, "SOAP-ENV:Envelope", "SOAP-ENV:Wrapper")), CodeOtherXML, NumEnvelope, false},
		{"two root elements", testContentType, testSOAPAction, rep("</SOAP-ENV:Envelope>", "</SOAP-ENV:Envelope><x/>"), CodeOtherXML, NumHeaderXML, false},
		{"envelope in wrong namespace", testContentType, testSOAPAction, rep(`xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"`, `xmlns:SOAP-ENV="urn:example:soap"`), CodeOtherXML, NumEnvelope, false},
		{"SOAP 1.2 envelope", testContentType, testSOAPAction, rep(`xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"`, `xmlns:SOAP-ENV="`+NSSOAP12+`"`), CodeNotSupported, NumEnvelope, false},
		{"no SOAP header", testContentType, testSOAPAction, []byte(strings.ReplaceAll(lf, "SOAP-ENV:Header", "SOAP-ENV:Heeder")), CodeOtherXML, NumNoMessageHeader, true},
		{"no eb:MessageHeader", testContentType, testSOAPAction, []byte(strings.ReplaceAll(lf, "eb:MessageHeader", "eb:MessageHead")), CodeOtherXML, NumNoMessageHeader, true},
		{"MessageHeader in ebMS 1.0 namespace", testContentType, testSOAPAction, []byte(strings.NewReplacer("<eb:MessageHeader SOAP-ENV:mustUnderstand=\"1\" eb:version=\"2.0\">", `<eb1:MessageHeader xmlns:eb1="http://www.ebxml.org/namespaces/messageHeader">`, "</eb:MessageHeader>", "</eb1:MessageHeader>").Replace(lf)), CodeNotSupported, NumVersion, true},
		{"missing MessageId", testContentType, testSOAPAction, rep("<eb:MessageId>"+testMessageID+"</eb:MessageId>", ""), CodeOtherXML, NumMissingElement, true},
		{"blank MessageId", testContentType, testSOAPAction, rep("<eb:MessageId>"+testMessageID+"</eb:MessageId>", "<eb:MessageId> </eb:MessageId>"), CodeOtherXML, NumMissingElement, true},
		{"missing CPAId", testContentType, testSOAPAction, rep("<eb:CPAId>S3024519A3110234</eb:CPAId>", ""), CodeOtherXML, NumMissingElement, true},
		{"missing Action", testContentType, testSOAPAction, rep("<eb:Action>PORX_IN020101UK31</eb:Action>", ""), CodeOtherXML, NumMissingElement, true},
		{"missing From PartyId", testContentType, testSOAPAction, rep(`<eb:From><eb:PartyId eb:type="urn:nhs:names:partyType:ocs+serviceInstance">FQ2KM-807341</eb:PartyId></eb:From>`, ""), CodeOtherXML, NumMissingElement, true},
		{"missing Timestamp", testContentType, testSOAPAction, rep("<eb:Timestamp>2024-03-07T14:22:05Z</eb:Timestamp>", ""), CodeOtherXML, NumMissingElement, true},
		{"bad Timestamp", testContentType, testSOAPAction, rep("2024-03-07T14:22:05Z", "07/03/2024 14:22"), CodeValueNotRecognized, NumBadValue, true},
		{"eb:version 1.0", testContentType, testSOAPAction, rep(`SOAP-ENV:mustUnderstand="1" eb:version="2.0">`, `SOAP-ENV:mustUnderstand="1" eb:version="1.0">`), CodeNotSupported, NumVersion, true},
		{"SOAPAction disagrees", testContentType, "urn:nhs:names:services:mm/PORX_IN080101UK31", []byte(lf), CodeInconsistent, NumSOAPAction, true},
		{"manifest cid not found", testContentType, testSOAPAction, rep("Content-Id: <5B0E6C1D-7A3F-4E2B-9C8D-1F2E3A4B5C6D@porx", "Content-Id: <other@porx"), CodeMimeProblem, NumPayloadPart, true},
		{"manifest cid but no payload part", testContentType, testSOAPAction, []byte(headerOnly), CodeMimeProblem, NumPayloadPart, true},
		{"quoted-printable payload", testContentType, testSOAPAction, rep("Content-Transfer-Encoding: 8bit\n\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PORX", "Content-Transfer-Encoding: quoted-printable\n\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PORX"), CodeNotSupported, NumTransferEncoding, true},
		{"bad base64 payload", testContentType, testSOAPAction, rep("Content-Transfer-Encoding: 8bit\n\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PORX", "Content-Transfer-Encoding: base64\n\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PORX"), CodeMimeProblem, NumTransferEncoding, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseRequest(tt.ct, tt.action, tt.body)
			if err == nil {
				t.Fatal("ParseRequest succeeded, want an error")
			}
			me := asMessageError(t, err)
			if me.Code != tt.code || me.Number != tt.num {
				t.Errorf("got %s %d (%v), want %s %d", me.Code, me.Number, err, tt.code, tt.num)
			}
			if me.severity() != SeverityError || !strings.HasPrefix(me.Description(), strconv.Itoa(tt.num)+":") {
				t.Errorf("severity %q description %q", me.severity(), me.Description())
			}
			if (m != nil) != tt.wantPartial {
				t.Errorf("partial message returned = %v, want %v", m != nil, tt.wantPartial)
			}
		})
	}
}

func TestMessageErrorFormatting(t *testing.T) {
	e := NewMessageError(CodeValueNotRecognized, NumUnknownCPAID, "Unknown eb:CPAId")
	if got := e.Description(); got != "501319:Unknown eb:CPAId" {
		t.Errorf("Description = %q", got)
	}
	if got := e.Error(); got != "ebxml ValueNotRecognized: 501319:Unknown eb:CPAId" {
		t.Errorf("Error = %q", got)
	}
	plain := &MessageError{Code: CodeUnknown, Text: "no number"}
	if plain.Description() != "no number" || plain.severity() != SeverityError {
		t.Errorf("plain description %q severity %q", plain.Description(), plain.severity())
	}
	for _, tt := range []struct {
		in   string
		n    int
		text string
	}{
		{"501319:Unknown eb:CPAId", 501319, "Unknown eb:CPAId"},
		{"Unknown eb:CPAId", 0, "Unknown eb:CPAId"},
		{"abc:def", 0, "abc:def"},
		{":x", 0, ":x"},
		{" 12:x ", 12, "x"},
	} {
		if n, text := parseDescription(tt.in); n != tt.n || text != tt.text {
			t.Errorf("parseDescription(%q) = %d %q, want %d %q", tt.in, n, text, tt.n, tt.text)
		}
	}
}

// TestParseRequestManifestReferences: a cid: URL in xlink:href is the
// Content-ID percent-encoded (RFC 2392), so "cid:abc%40x" names the part
// <abc@x>; a reference written unencoded, in angle brackets or with "CID:"
// finds its part as well. Further references (attachments beyond the HL7
// payload) must each name a part; one that names none is MimeProblem
// (ebMS 2.0 §3.2.2) unless a part without Content-Id is there to be it.
func TestParseRequestManifestReferences(t *testing.T) {
	lf := string(requestLF(t))
	cid := testMessageID + "@porx.example.nhs.uk"
	href := `xlink:href="cid:` + cid + `"`
	rep := func(s, old, new string) string {
		t.Helper()
		if !strings.Contains(s, old) {
			t.Fatalf("sample lacks %q", old)
		}
		return strings.Replace(s, old, new, 1)
	}
	const closing = "\n--MIME_boundary_4f1c7e2a--"
	attachment := func(id string) string {
		h := ""
		if id != "" {
			h = "Content-Id: <" + id + ">\n"
		}
		return "\n--MIME_boundary_4f1c7e2a\n" + h + "Content-Type: text/plain\n\nattached text"
	}
	withRef := func(s, ref string) string {
		return rep(s, "</eb:Manifest>", `<eb:Reference xlink:href="`+ref+`"><eb:Description xml:lang="en">attachment</eb:Description></eb:Reference></eb:Manifest>`)
	}
	tests := []struct {
		name  string
		body  string
		parts int
		code  ErrorCode // "" for accepted
	}{
		{"percent-encoded @", rep(lf, href, `xlink:href="cid:`+strings.Replace(cid, "@", "%40", 1)+`"`), 1, ""},
		{"percent-encoded lower-case hex", rep(lf, href, `xlink:href="cid:`+strings.Replace(strings.Replace(cid, "@", "%40", 1), "-", "%2d", 1)+`"`), 1, ""},
		{"percent-encoded angle brackets", rep(lf, href, `xlink:href="cid:%3C`+cid+`%3E"`), 1, ""},
		{"Content-Id holding a percent sign", rep(rep(lf, href, `xlink:href="cid:50%25`+cid+`"`), "Content-Id: <"+cid+">", "Content-Id: <50%"+cid+">"), 1, ""},
		{"Content-Id holding %40 sent unencoded", rep(rep(lf, href, `xlink:href="cid:a%40`+cid+`"`), "Content-Id: <"+cid+">", "Content-Id: <a%40"+cid+">"), 1, ""},
		{"invalid escape kept as written", rep(rep(lf, href, `xlink:href="cid:a%zz`+cid+`"`), "Content-Id: <"+cid+">", "Content-Id: <a%zz"+cid+">"), 1, ""},
		{"attachment referenced", withRef(rep(lf, closing, attachment("att-1@porx.example")+closing), "cid:att-1@porx.example"), 2, ""},
		{"attachment referenced percent-encoded", withRef(rep(lf, closing, attachment("att 1@porx.example")+closing), "cid:att%201%40porx.example"), 2, ""},
		{"attachment without Content-Id", withRef(rep(lf, closing, attachment("")+closing), "cid:att-1@porx.example"), 2, ""},
		{"non-cid reference", withRef(lf, "https://example.org/attachment.pdf"), 1, ""},
		{"attachment missing", withRef(lf, "cid:att-1@porx.example"), 1, CodeMimeProblem},
		{"attachment under another Content-Id", withRef(rep(lf, closing, attachment("att-2@porx.example")+closing), "cid:att-1@porx.example"), 2, CodeMimeProblem},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseRequest(testContentType, testSOAPAction, []byte(tt.body))
			if tt.code != "" {
				if err == nil {
					t.Fatal("ParseRequest succeeded, want a MimeProblem")
				}
				me := asMessageError(t, err)
				if me.Code != tt.code || me.Number != NumPayloadPart || !strings.Contains(me.Text, "att-1@porx.example") || m == nil {
					t.Errorf("got %v (message %v), want %s %d naming the reference", err, m != nil, tt.code, NumPayloadPart)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			if len(m.Parts) != tt.parts || m.Payload == nil || !bytes.Equal(m.Payload.Body, expectedPayload(t, []byte(tt.body))) {
				t.Fatalf("parts %d payload %+v, want %d parts and the HL7 payload", len(m.Parts), m.Payload, tt.parts)
			}
		})
	}
}

// TestParseTimestamp: eb:Timestamp is an xsd:dateTime; the spellings
// RFC 3339 and ISO 8601 also allow (lower-case t and z, a space for the T,
// 24:00:00 for the end of a day) are read too, since nothing of the
// message depends on the timestamp and a sender is not refused for its
// spelling. What is no date-time at all is still refused.
func TestParseTimestamp(t *testing.T) {
	utc := func(d, h, m, s, ns int) time.Time { return time.Date(2024, 3, d, h, m, s, ns, time.UTC) }
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2024-03-07T14:22:05Z", utc(7, 14, 22, 5, 0), true},
		{"2024-03-07T14:22:05.123Z", utc(7, 14, 22, 5, 123e6), true},
		{"2024-03-07T15:22:05+01:00", utc(7, 14, 22, 5, 0), true},
		{"2024-03-07T15:22:05+0100", utc(7, 14, 22, 5, 0), true},
		{"2024-03-07T09:22:05-05:00", utc(7, 14, 22, 5, 0), true},
		{"2024-03-07T14:22:05", utc(7, 14, 22, 5, 0), true},
		{"2024-03-07T14:22:05z", utc(7, 14, 22, 5, 0), true},
		{"2024-03-07t14:22:05Z", utc(7, 14, 22, 5, 0), true},
		{"2024-03-07 14:22:05Z", utc(7, 14, 22, 5, 0), true},
		{"2024-03-07 14:22:05.5+00:00", utc(7, 14, 22, 5, 5e8), true},
		{"2024-03-07T24:00:00Z", utc(8, 0, 0, 0, 0), true},
		{"2024-03-07T24:00:00.000+01:00", utc(7, 23, 0, 0, 0), true},
		{"2024-03-07T24:00:01Z", time.Time{}, false},
		{"07/03/2024 14:22", time.Time{}, false},
		{"2024-03-07", time.Time{}, false},
		{"", time.Time{}, false},
		{"2024-03-07T14:22:05Zjunk", time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := parseTimestamp(tt.in)
		if ok != tt.ok || ok && !got.Equal(tt.want) {
			t.Errorf("parseTimestamp(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestParseRequestTimeToLive: eb:MessageData/eb:TimeToLive is read when
// sent (the receiver must not deliver a message whose time to live has
// passed, ebMS 2.0 §6.4.4, and says so with TimeToLiveExpired); one that
// is no date-time is ValueNotRecognized, as for eb:Timestamp.
func TestParseRequestTimeToLive(t *testing.T) {
	lf := string(requestLF(t))
	const ts = "<eb:Timestamp>2024-03-07T14:22:05Z</eb:Timestamp>"
	withTTL := func(v string) []byte {
		return []byte(strings.Replace(lf, ts, ts+"\n<eb:TimeToLive>"+v+"</eb:TimeToLive>", 1))
	}
	m := mustParse(t, testContentType, testSOAPAction, []byte(lf))
	if !m.TimeToLive.IsZero() {
		t.Errorf("TimeToLive %v without eb:TimeToLive", m.TimeToLive)
	}
	m = mustParse(t, testContentType, testSOAPAction, withTTL("2024-03-07T15:22:05+01:00"))
	if want := time.Date(2024, 3, 7, 14, 22, 5, 0, time.UTC); !m.TimeToLive.Equal(want) {
		t.Errorf("TimeToLive %v, want %v", m.TimeToLive, want)
	}
	_, err := ParseRequest(testContentType, testSOAPAction, withTTL("soon"))
	if me := asMessageError(t, err); me.Code != CodeValueNotRecognized || me.Number != NumBadValue || !strings.Contains(me.Text, "eb:TimeToLive") {
		t.Errorf("unreadable TimeToLive: %v", err)
	}
}

// TestFoldKeyIsEqualFold: two Content-Ids share a foldKey exactly when
// strings.EqualFold calls them equal, so that the part index finds by
// case-blind key what a comparison with every part found.
func TestFoldKeyIsEqualFold(t *testing.T) {
	ids := []string{"", "a", "A", "abc@Spine.NHS.uk", "ABC@spine.nhs.uk", "abd@spine.nhs.uk", "k", "K", "\u212a",
		"s", "S", "\u017f", "ß", "ẞ", "σ", "Σ", "ς", "\xff", "\ufffd", "\xfe", "a\xff", "A\ufffd", "ǅ", "ǆ", "Ǆ", "µ", "μ", "Μ"}
	for _, a := range ids {
		for _, b := range ids {
			if got, want := foldKey(a) == foldKey(b), strings.EqualFold(a, b); got != want {
				t.Errorf("%q, %q: same key %v, EqualFold %v", a, b, got, want)
			}
		}
	}
}

// TestParseRequestInPlace: the in-place parse reads what ParseRequest
// reads, its payload a slice of the caller's body (no copy), and leaves
// the body as it was, over LF and CRLF messages and a base64 payload.
func TestParseRequestInPlace(t *testing.T) {
	lf := requestLF(t)
	b64 := bytes.Replace(lf, []byte("Content-Transfer-Encoding: 8bit\n\n"), []byte("Content-Transfer-Encoding: base64\n\n"), 1)
	if i := bytes.Index(b64, []byte("Content-Transfer-Encoding: base64\n\n")); i >= 0 {
		start := i + len("Content-Transfer-Encoding: base64\n\n")
		end := start + bytes.Index(b64[start:], []byte("\n--"))
		enc := base64.StdEncoding.EncodeToString(b64[start:end])
		b64 = append(append(append([]byte{}, b64[:start]...), enc...), b64[end:]...)
	}
	for name, body := range map[string][]byte{"LF": lf, "CRLF": toCRLF(lf), "base64 payload": b64} {
		t.Run(name, func(t *testing.T) {
			want, err := ParseRequest(testContentType, testSOAPAction, body)
			if err != nil {
				t.Fatal(err)
			}
			own := bytes.Clone(body)
			got, err := ParseRequestInPlace(nil, testContentType, testSOAPAction, own)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("ParseRequestInPlace = %+v, want %+v", got, want)
			}
			if !bytes.Equal(own, body) {
				t.Error("the body changed")
			}
			p := got.Payload.Body
			addr := func(b *byte) uintptr { return uintptr(unsafe.Pointer(b)) }
			inBody := len(p) > 0 && addr(&own[0]) <= addr(&p[0]) && addr(&p[len(p)-1]) <= addr(&own[len(own)-1])
			if name != "base64 payload" && !inBody {
				t.Error("the payload is a copy, not a slice of the body")
			}
		})
	}
}
