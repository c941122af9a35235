package ebxml

import (
	"bytes"
	"maps"
	"strings"
	"testing"
)

func TestParseMediaType(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		typ    string
		params map[string]string
	}{
		{"unquoted legacy", "multipart/related; boundary=----=_MIME-Boundary; type=text/xml; start=ebXMLHeader@spine.nhs.uk",
			"multipart/related", map[string]string{"boundary": "----=_MIME-Boundary", "type": "text/xml", "start": "ebXMLHeader@spine.nhs.uk"}},
		{"quoted", `Multipart/Related; boundary="--=_MIME-Boundary"; type="text/xml"; start="<ebXMLHeader@spine.nhs.uk>"`,
			"multipart/related", map[string]string{"boundary": "--=_MIME-Boundary", "type": "text/xml", "start": "<ebXMLHeader@spine.nhs.uk>"}},
		{"unquoted angle start", "multipart/related;boundary=abc;start=<ebXMLHeader@spine.nhs.uk>",
			"multipart/related", map[string]string{"boundary": "abc", "start": "<ebXMLHeader@spine.nhs.uk>"}},
		{"spaces and stray semicolons", "  multipart/related ;; BOUNDARY = abc ; ; type =text/xml ;",
			"multipart/related", map[string]string{"boundary": "abc", "type": "text/xml"}},
		{"escaped quote", `multipart/related; boundary="a\"b"; charset=utf-8`,
			"multipart/related", map[string]string{"boundary": `a"b`, "charset": "utf-8"}},
		{"unterminated quote", `multipart/related; boundary="abc`,
			"multipart/related", map[string]string{"boundary": "abc"}},
		{"first of repeated wins", "multipart/related; boundary=a; boundary=b",
			"multipart/related", map[string]string{"boundary": "a"}},
		{"valueless token", "multipart/related; foo; boundary=x",
			"multipart/related", map[string]string{"boundary": "x"}},
		{"folded header", "multipart/related;\r\n\tboundary=x;\r\n\ttype=text/xml",
			"multipart/related", map[string]string{"boundary": "x", "type": "text/xml"}},
		{"empty", "", "", map[string]string{}},
		{"no params", "text/xml", "text/xml", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseMediaType(tt.in)
			if got.typ != tt.typ || !maps.Equal(got.params, tt.params) {
				t.Errorf("parseMediaType(%q) = %q %v, want %q %v", tt.in, got.typ, got.params, tt.typ, tt.params)
			}
		})
	}
}

func TestSplitMultipart(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		bodies []string
		ids    []string
		err    error
	}{
		{"lf", "--b\nContent-Id: <a>\n\nA\n--b\nContent-Id: <b>\n\nB\n--b--\n", []string{"A", "B"}, []string{"<a>", "<b>"}, nil},
		{"crlf", "--b\r\nContent-Id: <a>\r\n\r\nA\r\n--b\r\nContent-Id: <b>\r\n\r\nB\r\n--b--", []string{"A", "B"}, []string{"<a>", "<b>"}, nil},
		{"mixed and indented", "pre\r\n  --b  \nContent-Id: <a>\r\n\r\nA\r\n\n\t--b\n  Content-Id: <b>\n\nB\n  --b--  \r\nepilogue", []string{"A\r\n", "B"}, []string{"<a>", "<b>"}, nil},
		{"body keeps inner line ends", "--b\n\nx\r\ny\n\n--b--", []string{"x\r\ny\n"}, []string{""}, nil},
		{"no headers", "--b\n<x/>\n--b--", []string{"<x/>"}, []string{""}, nil},
		{"folded part header", "--b\nContent-Type: text/xml;\n charset=UTF-8\nContent-Id: <a>\n\nA\n--b--", []string{"A"}, []string{"<a>"}, nil},
		{"white space before the colon (RFC 5322 obs-field)", "--b\nContent-Type : text/xml\nContent-Id\t: <a>\n\nA\n--b--", []string{"A"}, []string{"<a>"}, nil},
		{"header names in odd case, first of a repeated one wins", "--b\nCONTENT-ID: <a>\ncontent-id: <z>\n\nA\n--b--", []string{"A"}, []string{"<a>"}, nil},
		{"no blank line after the headers: the first line that is no header starts the body", "--b\nContent-Id: <a>\nContent-Type: text/xml\n<?xml version=\"1.0\"?>\n<x:y xmlns:x=\"urn:x\"/>\n--b--", []string{"<?xml version=\"1.0\"?>\n<x:y xmlns:x=\"urn:x\"/>"}, []string{"<a>"}, nil},
		{"no blank line, CRLF, body line looking like a header after an XML line", "--b\r\nContent-Id: <a>\r\n<x>\r\nNote: kept</x>\r\n--b--", []string{"<x>\r\nNote: kept</x>"}, []string{"<a>"}, nil},
		{"a name with inner space is body", "--b\nContent Id: <a>\n\nA\n--b--", []string{"Content Id: <a>\n\nA"}, []string{""}, nil},
		{"boundary inside a line is not a delimiter", "--b\n\nx --b y\n--bb\n--b--", []string{"x --b y\n--bb"}, []string{""}, nil},
		{"junk before first delimiter", "\"--b\n\nA\n--b--", []string{"A"}, []string{""}, nil},
		{"no delimiter", "hello", nil, nil, errNoDelimiter},
		{"only close", "--b--\n", nil, nil, errNoParts},
		{"last delimiter without its closing dashes", "--b\n\nA\n--b\r\n \n", []string{"A"}, []string{""}, nil},
		{"a delimiter alone", "--b\n", nil, nil, errNoParts},
		{"no closing delimiter: the last part runs to the end", "--b\n\nA\n--b\nContent-Id: <b>\n\nB\r\n", []string{"A", "B"}, []string{"", "<b>"}, errTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, err := splitMultipart([]byte(tt.body), "b")
			if err != tt.err {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil && err != errTruncated {
				return
			}
			if len(parts) != len(tt.bodies) {
				t.Fatalf("got %d parts, want %d", len(parts), len(tt.bodies))
			}
			for i, p := range parts {
				if string(p.body) != tt.bodies[i] || p.header["content-id"] != tt.ids[i] {
					t.Errorf("part %d = %q id %q, want %q id %q", i, p.body, p.header["content-id"], tt.bodies[i], tt.ids[i])
				}
			}
		})
	}
}

// TestMaxParts: a message of MaxParts parts is read; one more is refused
// as MimeProblem saying so, before any part is read.
func TestMaxParts(t *testing.T) {
	body := requestLF(t)
	const extra = "--" + testBoundary + "\nContent-Id: <more>\n\nx\n"
	closing := "--" + testBoundary + "--"
	for _, tc := range []struct {
		parts int
		ok    bool
	}{{MaxParts, true}, {MaxParts + 1, false}} {
		b := bytes.Replace(body, []byte(closing), []byte(strings.Repeat(extra, tc.parts-2)+closing), 1)
		m, err := ParseRequest(testContentType, testSOAPAction, b)
		if tc.ok {
			if err != nil || len(m.Parts) != MaxParts-1 {
				t.Fatalf("%d parts: err %v", tc.parts, err)
			}
			continue
		}
		me := asMessageError(t, err)
		if me.Code != CodeMimeProblem || me.Number != NumMultipart || !strings.Contains(me.Description(), "more than 100 parts") {
			t.Fatalf("%d parts: %s %s", tc.parts, me.Code, me.Description())
		}
	}
}
