package ebxml

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/internal/racetest"
)

// update rewrites testdata/golden from the builders' output:
// go test ./ebxml/ -run Golden -update
var update = flag.Bool("update", false, "rewrite testdata/golden files")

// goldenNow is the fixed time every golden build uses.
var goldenNow = time.Date(2024, 3, 7, 14, 22, 6, 0, time.FixedZone("BST", 3600))

// checkGolden compares got with testdata/golden/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("write golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden:\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

// wellFormed fails the test unless b parses as one XML document.
func wellFormed(t *testing.T, b []byte) *etree.Element {
	t.Helper()
	root, err := parseXML(b, nil)
	if err != nil {
		t.Fatalf("output is not well-formed XML: %v\n%s", err, b)
	}
	return root
}

// goldenOutbound is the outbound message of the golden and round-trip tests.
func goldenOutbound(t testing.TB) OutboundMessage {
	t.Helper()
	return OutboundMessage{
		FromPartyID: "YES-0000806", ToPartyID: "FQ2KM-807341", CPAID: "S3024519A3110234",
		ConversationID: testMessageID, Action: "MCCI_IN010000UK13",
		MessageID: "0f4e2d6c-8b1a-4c3e-9d7f-2a5b6c8d0e1f", Timestamp: goldenNow,
		RefToMessageID: testMessageID, AckRequested: true, DuplicateElimination: true,
		Payload: []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
			`<hl7:MCCI_IN010000UK13 xmlns:hl7="urn:hl7-org:v3"><hl7:id root="0F4E2D6C-8B1A-4C3E-9D7F-2A5B6C8D0E1F"/>` +
			`<hl7:note>Zoë — £4·50</hl7:note></hl7:MCCI_IN010000UK13>`),
	}
}

func TestGoldenAcknowledgment(t *testing.T) {
	received := mustParse(t, testContentType, testSOAPAction, requestLF(t))
	got, err := BuildAcknowledgment(received, "a3c5e7f9-1b2d-4f6a-8c0e-2d4f6a8c0e1b", goldenNow)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "acknowledgment.xml", got)
	env := wellFormed(t, got)
	mh := child(child(env, NSSOAP, "Header"), NSEb, "MessageHeader")
	if childText(child(mh, NSEb, "From"), NSEb, "PartyId") != received.ToPartyID ||
		childText(child(mh, NSEb, "To"), NSEb, "PartyId") != received.FromPartyID {
		t.Error("From and To not swapped")
	}
	ref, err := ParseAcknowledgment(got)
	if err != nil || ref != received.MessageID {
		t.Errorf("ParseAcknowledgment = %q, %v; want %q", ref, err, received.MessageID)
	}
}

func TestGoldenMessageError(t *testing.T) {
	received := mustParse(t, testContentType, testSOAPAction, requestLF(t))
	unknown := NewMessageError(CodeValueNotRecognized, NumUnknownCPAID, "Unknown eb:CPAId")
	got, err := BuildMessageError(received, "b4d6f8a0-2c3e-4a5b-9d1f-3e5a7c9e1f2a", goldenNow, unknown)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "message_error.xml", got)
	wellFormed(t, got)
	ref, err := ParseAcknowledgment(got)
	var list *ErrorListError
	if !asErrorList(err, &list) || ref != received.MessageID || len(list.Errors) != 1 {
		t.Fatalf("ParseAcknowledgment = %q, %v", ref, err)
	}
	if e := list.Errors[0]; e.Code != CodeValueNotRecognized || e.Number != NumUnknownCPAID || e.Text != "Unknown eb:CPAId" || e.Severity != SeverityError {
		t.Errorf("read back %+v", e)
	}
}

func TestGoldenMessageErrorUnaddressed(t *testing.T) {
	_, perr := ParseRequest("text/xml", "", []byte("<x/>"))
	warn := &MessageError{Code: CodeInconsistent, Severity: SeverityWarning, Number: 900099, Text: `a "quoted" <warning> & more`, Location: "cid:ebXMLHeader@spine.nhs.uk"}
	got, err := BuildMessageError(nil, "", goldenNow, asMessageError(t, perr), warn)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "message_error_unaddressed.xml", got)
	env := wellFormed(t, got)
	if child(child(env, NSSOAP, "Header"), NSEb, "MessageHeader") != nil {
		t.Error("unaddressed error has an eb:MessageHeader")
	}
	list := readErrorList(child(child(env, NSSOAP, "Header"), NSEb, "ErrorList"))
	if len(list) != 2 || list[1].Text != warn.Text || list[1].Location != warn.Location || list[1].Severity != SeverityWarning {
		t.Errorf("read back %+v", list)
	}
}

func TestGoldenMessage(t *testing.T) {
	o := goldenOutbound(t)
	ct, body, err := BuildMessage(o)
	if err != nil {
		t.Fatal(err)
	}
	wantCT := `multipart/related; boundary="--=_MIME-Boundary"; type="text/xml"; start="<ebXMLHeader@spine.nhs.uk>"`
	if ct != wantCT {
		t.Errorf("content type = %s, want %s", ct, wantCT)
	}
	checkGolden(t, "message.mime", body)
	m := mustParse(t, ct, o.SOAPAction(), body)
	checkGolden(t, "message_envelope.xml", m.Envelope)
	wellFormed(t, m.Envelope)
}

func TestGoldenSOAPResponse(t *testing.T) {
	req, err := ParseSOAPRequest(readTestdata(t, "soap/inherited_ns.xml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := BuildSOAPResponse(SOAPResponse{
		MessageID: "c5e7a9b1-3d4f-4b6c-8e2a-4f6b8d0a2c3e", Action: "urn:nhs:names:services:mm/MCCI_IN010000UK13",
		FromAddress: "https://porxgate.example.nhs.uk/sync", ReceiverASID: req.SenderASID, SenderASID: req.ReceiverASID,
		RelatesTo: req.MessageID,
		Payload: []byte("\ufeff<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MCCI_IN010000UK13 xmlns=\"urn:hl7-org:v3\">\n" +
			"  <acknowledgement typeCode=\"AA\"><messageRef><id root=\"9D3C2B1A-0F9E-4D8C-B7A6-5E4D3C2B1A09\"/></messageRef></acknowledgement>\n" +
			"</MCCI_IN010000UK13>\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "soap_response.xml", got)
	back, err := ParseSOAPRequest(got)
	if err != nil {
		t.Fatal(err)
	}
	if back.RelatesTo != req.MessageID || back.MessageID != "uuid:C5E7A9B1-3D4F-4B6C-8E2A-4F6B8D0A2C3E" ||
		back.ReceiverASID != req.SenderASID || back.SenderASID != req.ReceiverASID || !back.PayloadVerbatim ||
		back.PayloadName.Local != "MCCI_IN010000UK13" {
		t.Errorf("read back %+v", back)
	}
}

func TestGoldenSOAPFault(t *testing.T) {
	got, err := BuildSOAPFault(SOAPFault{
		FaultString: "Application Exception",
		Errors: []SOAPError{
			{Code: "206", Location: "Not Supported", Description: "Upstream EPS unavailable & retrying"},
			{Code: TMSCodeMalformed, Description: "wsa:Action missing"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "soap_fault.xml", got)
	env := wellFormed(t, got)
	fault := child(child(env, NSSOAP, "Body"), NSSOAP, "Fault")
	list := child(child(fault, "", "detail"), NSNASP, "errorList")
	if childText(fault, "", "faultcode") != FaultCodeServer || len(list.ChildElements()) != 2 {
		t.Errorf("fault shape wrong:\n%s", got)
	}
	if e := list.ChildElements()[0]; childText(e, NSNASP, "codeContext") != TMSCodeContext ||
		childText(e, NSNASP, "errorCode") != "206" || childText(e, NSNASP, "severity") != SeverityError {
		t.Errorf("first error wrong:\n%s", got)
	}
}

// TestBuildMessageOneBuffer checks that BuildMessage writes a message into
// buffers made the right size at once: small payload or a prescription's
// 20 KB, the message costs the same few allocations (it cost 17 with the
// small one when its buffers grew as they filled).
func TestBuildMessageOneBuffer(t *testing.T) {
	racetest.SkipAllocs(t)
	small := goldenOutbound(t)
	large := goldenOutbound(t)
	large.Payload = append(bytes.Clone(small.Payload), bytes.Repeat([]byte("<hl7:note>twenty kilobytes</hl7:note>"), 540)...)
	for name, o := range map[string]OutboundMessage{"small": small, "20 KB": large} {
		allocs := testing.AllocsPerRun(20, func() {
			if _, _, err := BuildMessage(o); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > 8 {
			t.Errorf("%s payload: %.0f allocations per message, want at most 8", name, allocs)
		}
	}
}
