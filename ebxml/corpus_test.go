package ebxml

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// corpusDir returns the shared conformance corpus folder (env
// PORXGATE_CORPUS, default ../shared/corpus beside the repository). It
// skips the test when the folder is absent, unless CI is set.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PORXGATE_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus")
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus folder %s missing (CI set): %v", dir, err)
		}
		t.Skipf("corpus folder %s absent; set PORXGATE_CORPUS to run the Spine shape tests", dir)
	}
	return dir
}

// TestCorpusSpineEbXML parses Spine's own async answers (bodies only; the
// Content-Type is the one Spine sends with them). Two of them indent their
// boundary lines and part headers, one indents its XML declaration.
func TestCorpusSpineEbXML(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "spine-responses")
	const ct = `multipart/related; boundary="--=_MIME-Boundary"; type="text/xml"; start="<ebXMLHeader@spine.nhs.uk>"`
	interaction := regexp.MustCompile(`<hl7:(\w+_IN\d{6}UK\d{2}) `)
	for _, name := range []string{"async_success.xml", "async_error.xml", "async_multiple_error.xml", "cancel_success.xml", "cancel_error.xml", "cancel_error_dispensed.xml"} {
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			m, err := ParseRequest(ct, "", body)
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			if m.FromPartyID != "YES-0000806" || m.Service != ServiceMM || m.RefToMessageID == "" || !m.AckRequested || !m.SyncReply || !m.DuplicateElimination {
				t.Errorf("header %+v", m)
			}
			if m.Payload == nil || len(m.Manifest) != 1 || m.Payload.ContentID != m.Manifest[0].ContentID || !m.Manifest[0].HL7Payload {
				t.Fatalf("payload %+v manifest %+v", m.Payload, m.Manifest)
			}
			got := interaction.FindSubmatch(m.Payload.Body)
			if got == nil || string(got[1]) != m.Action {
				t.Errorf("payload interaction %q, eb:Action %q", got, m.Action)
			}
			// cancel_error_dispensed.xml has two blank lines after the part
			// headers: the second belongs to the payload and is kept.
			if !bytes.HasPrefix(bytes.TrimLeft(m.Payload.Body, "\n"), []byte("<?xml")) || !bytes.HasSuffix(m.Payload.Body, []byte("</hl7:"+m.Action+">")) {
				t.Errorf("payload bounds wrong: %.40q ... %q", m.Payload.Body, m.Payload.Body[max(0, len(m.Payload.Body)-40):])
			}
			if i := bytes.Index(body, m.Payload.Body); i < 0 {
				t.Error("payload is not a byte-for-byte slice of the body")
			}
		})
	}
}

// TestCorpusSpineSync reads Spine's sync answers with the SOAP parser: the
// payload relies on the default namespace declared on the envelope.
func TestCorpusSpineSync(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "spine-responses")
	for _, name := range []string{"sync_error.xml", "sync_multiple_error.xml"} {
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			m, err := ParseSOAPRequest(body)
			if err != nil {
				t.Fatal(err)
			}
			if m.MessageID != "uuid:055BDBF6-DC7C-11EA-9C8B-000C29F50CF9" || m.Interaction() != "MCCI_IN010000UK13" ||
				m.RelatesTo != "uuid:77495697-3E99-4982-B435-ED4A98F9BE56" || m.ReceiverASID != "200000001285" ||
				m.SenderASID != "None" || m.FromAddress != "https://mm.national.ncrs.nhs.uk/syncservice" {
				t.Errorf("fields %+v", m)
			}
			root, err := parseXML(m.Payload, nil)
			if err != nil {
				t.Fatalf("payload not standalone XML: %v", err)
			}
			if root.Tag != "PrescriptionsResponse" || root.NamespaceURI() != NSHL7 || m.PayloadName.Space != NSHL7 {
				t.Errorf("payload root %s in %q", root.Tag, root.NamespaceURI())
			}
			if ack := root.FindElement("MCCI_IN010000UK13/acknowledgement"); ack == nil || ack.SelectAttrValue("typeCode", "") != "AR" {
				t.Error("payload content lost")
			}
		})
	}
}
