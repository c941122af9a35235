package gateway

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// deep returns n nested <a> elements in the HL7 v3 namespace.
func deep(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3">`)
	for range n {
		b.WriteString("<a>")
	}
	for range n {
		b.WriteString("</a>")
	}
	b.WriteString(`</PORX_IN020101UK31>`)
	return b.Bytes()
}

// TestCheckHL7Payload: what can and cannot be read as an HL7 v3 payload.
func TestCheckHL7Payload(t *testing.T) {
	lol := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>` +
		`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3">&lol2;</PORX_IN020101UK31>`
	xxe := `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><PORX_IN020101UK31 xmlns="urn:hl7-org:v3">&x;</PORX_IN020101UK31>`
	tests := []struct {
		name    string
		payload []byte
		wantNum int // 0: readable
		want    string
	}{
		{"prescription", testPayload("A1"), 0, ""},
		{"BOM and declaration", []byte("\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MCCI_IN010000UK13 xmlns=\"urn:hl7-org:v3\"/>"), 0, ""},
		{"prefixed root", []byte(`<hl7:PORX_IN060102UK30 xmlns:hl7="urn:hl7-org:v3"><hl7:id/></hl7:PORX_IN060102UK30>`), 0, ""},
		{"SM family", []byte(`<PORX_IN020101SM31 xmlns="urn:hl7-org:v3"/>`), 0, ""},
		{"at the depth limit", deep(maxXMLDepth - 1), 0, ""},
		{"not well-formed", []byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"><id>`), NumPayloadUnreadable, "not well-formed"},
		{"mismatched tags", []byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"><id></x></PORX_IN020101UK31>`), NumPayloadUnreadable, "not well-formed"},
		{"entity expansion", []byte(lol), NumPayloadUnreadable, "DTD"},
		{"external entity", []byte(xxe), NumPayloadUnreadable, "DTD"},
		{"undeclared entity", []byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3">&x;</PORX_IN020101UK31>`), NumPayloadUnreadable, "not well-formed"},
		{"too deep", deep(maxXMLDepth), NumPayloadUnreadable, "deeper than 256"},
		{"100000 deep", deep(100000), NumPayloadUnreadable, "deeper than 256"},
		{"invalid UTF-8", []byte("<PORX_IN020101UK31 xmlns=\"urn:hl7-org:v3\">\xff\xfe</PORX_IN020101UK31>"), NumPayloadUnreadable, "UTF-8"},
		{"other encoding declared on UTF-8 bytes", []byte(`<?xml version="1.0" encoding="us-ascii"?><PORX_IN020101UK31 xmlns="urn:hl7-org:v3"/>`), 0, ""},
		{"Latin-1 bytes", []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><PORX_IN020101UK31 xmlns=\"urn:hl7-org:v3\">Zo\xeb</PORX_IN020101UK31>"), NumPayloadUnreadable, "not valid UTF-8"},
		{"empty", nil, NumPayloadUnreadable, "no root element"},
		{"text only", []byte("hello"), NumPayloadUnreadable, "text outside"},
		{"two roots", []byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"/><x/>`), NumPayloadUnreadable, "more than one root"},
		{"not HL7", []byte(`<hello>world</hello>`), NumPayloadNotHL7, "not in the HL7 v3 namespace"},
		{"HL7 namespace, not an interaction", []byte(`<ClinicalDocument xmlns="urn:hl7-org:v3"/>`), NumPayloadNotHL7, "not an HL7 v3 interaction"},
		{"JSON", []byte(`{"resourceType":"Bundle"}`), NumPayloadUnreadable, ""},
		{"unclosed inner element", []byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"><id><x/></PORX_IN020101UK31>`), NumPayloadUnreadable, "not well-formed"},
		{"end tag of another prefix", []byte(`<hl7:PORX_IN020101UK31 xmlns:hl7="urn:hl7-org:v3" xmlns:b="urn:hl7-org:v3"><hl7:id></b:id></hl7:PORX_IN020101UK31>`), NumPayloadUnreadable, "not well-formed"},
		{"stray end tag", []byte(`</PORX_IN020101UK31>`), NumPayloadUnreadable, "not well-formed"},
		{"prefix declared for another namespace", []byte(`<hl7:PORX_IN020101UK31 xmlns="urn:hl7-org:v3" xmlns:hl7="urn:example"/>`), NumPayloadNotHL7, "not in the HL7 v3 namespace"},
		{"undeclared prefix", []byte(`<hl7:PORX_IN020101UK31/>`), NumPayloadNotHL7, "not in the HL7 v3 namespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := checkHL7Payload(tt.payload)
			if tt.wantNum == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var pe *payloadError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a payloadError", err)
			}
			if pe.Num != tt.wantNum || !strings.Contains(pe.Error(), tt.want) {
				t.Errorf("got %d %q, want %d containing %q", pe.Num, pe.Error(), tt.wantNum, tt.want)
			}
		})
	}
}

// FuzzCheckHL7Payload: the check never panics, and what it accepts is one
// shallow, DTD-free UTF-8 document rooted in the HL7 v3 namespace.
func FuzzCheckHL7Payload(f *testing.F) {
	f.Add(testPayload("F1"))
	f.Add([]byte(`<hello>world</hello>`))
	f.Add([]byte(`<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>`))
	f.Add(deep(300))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := checkHL7Payload(b); err == nil {
			if bytes.Contains(b, []byte("<!")) && !bytes.Contains(b, []byte("<!--")) && !bytes.Contains(b, []byte("<![CDATA[")) {
				t.Errorf("accepted a document with markup declarations: %q", b)
			}
		}
		// The fast path may accept only what the strict decoder accepts, with
		// the same root.
		fast, ferr := checkXMLDocument(b)
		if ferr == nil {
			slow, serr := checkXMLDecoded(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
			if serr != nil || slow != fast {
				t.Errorf("fast path accepted %q as %v; the decoder says %v, %v", b, fast, slow, serr)
			}
		}
	})
}
