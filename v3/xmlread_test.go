package v3

import (
	"bytes"
	"fmt"
	"math/bits"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/internal/corpustest"
)

// sameTree checks that whatever the fast scanner accepts, etree's reader
// reads into the same tree; it reports whether the scanner accepted.
func sameTree(t *testing.T, data []byte) bool {
	t.Helper()
	fast, ok := scanXML(data)
	if !ok {
		return false // ReadXML hands it to etree's reader
	}
	full := etree.NewDocument()
	if err := full.ReadFromBytes(data); err != nil {
		t.Fatalf("fast scanner accepted what etree refuses (%v): %q", err, data)
	}
	if (fast.Root() == nil) != (full.Root() == nil) {
		t.Fatalf("root differs for %q", data)
	}
	var a, b bytes.Buffer
	if _, err := fast.WriteTo(&a); err != nil {
		t.Fatal(err)
	}
	if _, err := full.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatalf("trees differ for %q:\nfast %s\nfull %s", data, a.Bytes(), b.Bytes())
	}
	sameTextFlags(t, data, &fast.Element, &full.Element)
	if _, err := writeTree(&fast.Element); err != nil {
		t.Fatalf("tree of %q linked wrong: %v", data, err)
	}
	return true
}

// sameTextFlags checks that the text tokens of two trees of the same shape
// are flagged alike (white space only, CDATA), as SameElement and the
// signature fragments read them.
func sameTextFlags(t *testing.T, data []byte, a, b *etree.Element) {
	t.Helper()
	if len(a.Child) != len(b.Child) {
		t.Fatalf("<%s> has %d tokens, etree's %d, for %q", a.Tag, len(a.Child), len(b.Child), data)
	}
	for i := range a.Child {
		switch x := a.Child[i].(type) {
		case *etree.CharData:
			y, ok := b.Child[i].(*etree.CharData)
			if !ok || x.IsWhitespace() != y.IsWhitespace() || x.IsCData() != y.IsCData() {
				t.Fatalf("text %q of <%s> flagged %v/%v, etree's %#v, for %q", x.Data, a.Tag, x.IsWhitespace(), x.IsCData(), b.Child[i], data)
			}
		case *etree.Element:
			if y, ok := b.Child[i].(*etree.Element); ok {
				sameTextFlags(t, data, x, y)
			}
		}
	}
}

func TestReadXML(t *testing.T) {
	tests := []struct {
		in       string
		wantFast bool // read by the scanner, not etree's reader
		wantErr  bool // as etree's reader decides
	}{
		{`<a/>`, true, false},
		{`<?xml version="1.0" encoding="UTF-8"?>` + "\n<a x='1' y=\"2\"><b>t &amp; &lt;u&gt; &#65;&#x42; é</b><!-- c --><?pi x?></a>\n", true, false},
		{"<a>line\r\nend\rx</a>", true, false},
		{`<?xml version="1.0" encoding="UTF-8" ?>` + "\n<a/>", true, false},
		{`<?xml version='1.0'   ?><a/>`, true, false},
		{`<?xml version="1.0" encoding="UTF-8"` + "\t?><a/>", false, false},
		{`<hl7:a xmlns:hl7="urn:hl7-org:v3"><hl7:b hl7:c="1"/></hl7:a>`, true, false},
		{`<a><b/><c>t</c>` + "\n  " + `<d e="&quot;"></d></a>`, true, false},
		{`<a><b></a>`, false, true},
		// End tags read byte by byte (white space before '>') and
		// names that only start alike.
		{"<a><b></b \n>\n  <bc></bc\t></a>", true, false},
		{`<a><b></bc></a>`, false, true},
		{`<a><bc></b></a>`, false, true},
		{`<a><b></b c></a>`, false, true},
		{"<ab>\n  <a>\n  </ab>\n</a>", false, true},
		{`<a></b>`, false, true},
		{`<a x="1" x="2"/>`, false, false},
		{`<a p:x="1" x="2" xmlns:p="urn:p"/>`, false, false},
		{`<a x=1/>`, false, true},
		{`<a>&nbsp;</a>`, false, true},
		{`<a>&#0;</a>`, false, true},
		{`<a><![CDATA[x]]></a>`, true, false},
		{`<!DOCTYPE a><a/>`, false, false},
		{`<a/><b/>`, false, false},
		{`text<a/>`, false, false},
		{`<a>]]></a>`, false, true},
		{"<a>\x01</a>", false, true},
		{"<a>\xff</a>", false, true},
		{`<?xml version="1.1"?><a/>`, false, true},
		{`<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, false, false},
		{`<a`, false, true},
		{``, false, false},
		{`<1a/>`, false, true},
		{`<a:b:c/>`, false, true},
		{`<a><!-- x -- y --></a>`, false, true},
		// A UTF-8 byte order mark first, which etree's reader keeps as
		// text before the root; one anywhere else is text etree takes.
		{"\xef\xbb\xbf<a/>", true, false},
		{"\xef\xbb\xbf<?xml version='1.0' encoding='utf-8' standalone='yes'?>\r\n<a><b c='1'>x</b></a>", true, false},
		{"<a/>\xef\xbb\xbf", false, false},
		{"\xef\xbb\xbf\xef\xbb\xbf<a/>", false, false},
	}
	for _, tt := range tests {
		if fast := sameTree(t, []byte(tt.in)); fast != tt.wantFast {
			t.Errorf("scanXML(%q) ok = %v, want %v", tt.in, fast, tt.wantFast)
		}
		doc, err := ReadXML([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("ReadXML(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
		}
		if err == nil && doc == nil {
			t.Errorf("ReadXML(%q) returned no document", tt.in)
		}
	}
}

// TestReadXMLLeavesTreeEditable checks that the slab-built tree behaves as
// an ordinary etree tree when changed after reading.
func TestReadXMLLeavesTreeEditable(t *testing.T) {
	doc, err := ReadXML([]byte(`<a x="1"><b y="2"/><c>t</c></a>`))
	if err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	b := root.SelectElement("b")
	b.CreateAttr("z", "3")
	root.CreateElement("d").SetText("u")
	root.RemoveChild(root.SelectElement("c"))
	b.CreateElement("e")
	got, err := doc.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	if want := `<a x="1"><b y="2" z="3"><e/></b><d>u</d></a>`; got != want {
		t.Errorf("edited tree %s, want %s", got, want)
	}
	if b.Parent() != root || root.Parent() != &doc.Element || b.Index() != 0 {
		t.Errorf("parent links wrong: %v %v %d", b.Parent() == root, root.Parent() == &doc.Element, b.Index())
	}
}

// TestReadXMLCorpus checks the scanner against etree's reader on every
// XML file of the corpus, and that it reads the messages itself.
func TestReadXMLCorpus(t *testing.T) {
	files := corpustest.Walk(t, func(rel string) bool { return strings.HasSuffix(rel, ".xml") })
	fast := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if sameTree(t, data) {
			fast++
		}
	}
	if len(files) > 0 && fast == 0 {
		t.Errorf("the scanner read none of %d corpus files", len(files))
	}
	t.Logf("scanner read %d of %d corpus XML files", fast, len(files))
}

func TestParseNamespace(t *testing.T) {
	for _, bad := range []string{`<a xmlns="urn:other"/>`, `<a`, `<a/>`} {
		if _, _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	r, n, err := Parse([]byte(`<PORX_IN020101UK31 xmlns="urn:hl7-org:v3"><id root="X"/></PORX_IN020101UK31>`))
	if err != nil || r.Interaction() != "PORX_IN020101UK31" || n.Child("id").Attr("root") != "X" {
		t.Fatalf("Parse = %v, %v, %v", r, n.Path(), err)
	}
}

// TestScannerIndentation reads runs of white space between tags of every
// length around the eight bytes the scanner takes at a time, mixed with
// line feeds and tabs, and followed by text or the end of the document, into
// the tree etree's reader makes.
func TestScannerIndentation(t *testing.T) {
	var runs []string
	for n := 0; n <= 17; n++ {
		sp := strings.Repeat(" ", n)
		runs = append(runs, sp, "\n"+sp, sp+"\n", "\t"+sp+"\t", sp+"\n"+sp+"\t"+sp)
	}
	for _, run := range runs {
		for _, doc := range []string{
			"<a>" + run + "<b/>" + run + "</a>",
			"<a>" + run + "x" + run + "<b/></a>",
			"<a>" + run + "\r" + run + "</a>",
			"<a/>" + run,
			run + "<a>" + run + "</a>",
			// After each kind of tag (start, empty, end, one read
			// byte by byte), before and after a comment, processing
			// instruction and CDATA section, at every depth: each
			// text token told its own parent and index.
			"<a>" + run + "<b x='1'>" + run + "<c/>" + run + "</b>" + run + "<b/>" + run + "</a>" + run,
			"<a>" + run + "<b></b >" + run + "<!--c-->" + run + "<b\n>" + run + "</b\t>" + run + "</a>",
			"<a>" + run + "<?p?>" + run + "<b><![CDATA[x]]>" + run + "</b>" + run + "<c x='&amp;'>" + run + "</c>" + run + "</a>",
			"<a>" + run + "<a>" + run + "<a/>" + run + "</a>" + run + "</a>",
		} {
			if !sameTree(t, []byte(doc)) {
				t.Errorf("the scanner did not read %q", doc)
			}
		}
	}
}

// TestScannerWrappedText reads text and attribute values broken by line
// feeds and tabs every 0 to 17 bytes (base64 wrapped in lines), with a
// reference, a carriage return or a quote after them, as etree's reader
// does.
func TestScannerWrappedText(t *testing.T) {
	for n := 0; n <= 17; n++ {
		line := strings.Repeat("Ab0+/=", 3)[:n]
		for _, end := range []string{"", "&amp;x", "\r\nx", `"x'`, "é"} {
			text := strings.Repeat(line+"\n", 5) + line + "\t" + line + end
			for _, doc := range []string{
				"<a><b>" + text + "</b></a>",
				"<a><b>" + text + "<c/>" + text + "</b>" + text + "</a>",
				`<a b="` + strings.ReplaceAll(text, `"`, "") + `"/>`,
			} {
				if !sameTree(t, []byte(doc)) {
					t.Errorf("the scanner did not read %q", doc)
				}
			}
		}
	}
}

// TestScannerNames reads element and attribute names with and without a
// prefix, of every length around the scanner's loops, as etree's reader
// does, and leaves to etree's reader the names outside its subset (two
// colons, a colon first or last, a digit first).
func TestScannerNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		read bool // the scanner reads it (else etree's reader must)
	}{
		{"a", true}, {"abcdefghijklmnopq", true}, {"_a.b-c9", true}, {"hl7:a", true},
		{"x:abcdefghijklmnop", true}, {"a:b:c", false}, {":a", false}, {"a:", false},
		{"9a", false}, {"-a", false},
	} {
		for _, doc := range []string{
			"<" + tc.name + "/>",
			`<r ` + tc.name + `="v"/>`,
		} {
			if got := sameTree(t, []byte(doc)); got != tc.read {
				t.Errorf("scanner read %q: %v, want %v", doc, got, tc.read)
			}
		}
	}
}

// TestScannerCDATA reads CDATA sections as etree's reader does (each a
// text token of its own, its markup characters and references as they
// stand, line ends normalised, white space flagged, not marked CDATA) and
// leaves malformed ones, and sections outside the root, to etree's
// reader, which refuses the malformed ones.
func TestScannerCDATA(t *testing.T) {
	tests := []struct {
		name, in string
		wantFast bool   // read by the scanner
		wantErr  bool   // as etree's reader decides
		text     string // the root's Text, when read
	}{
		{"one section", `<a><![CDATA[x]]></a>`, true, false, "x"},
		{"empty", `<a><![CDATA[]]></a>`, true, false, ""},
		{"white space only", "<a><![CDATA[ \n\t]]></a>", true, false, " \n\t"},
		{"markup and references kept", `<a><![CDATA[<b c="1">&amp;&#65;</b> & <]]></a>`, true, false, `<b c="1">&amp;&#65;</b> & <`},
		{"between text", `<a>Two <![CDATA[tablets & <one> ]]>daily</a>`, true, false, "Two tablets & <one> daily"},
		{"brackets before the end", `<a><![CDATA[x]]]]></a>`, true, false, "x]]"},
		{"]]> split over two sections", `<a><![CDATA[]]]]><![CDATA[>]]></a>`, true, false, "]]>"},
		{"a lone ] and >", `<a><![CDATA[a]b>c]>]]></a>`, true, false, "a]b>c]>"},
		{"line ends", "<a><![CDATA[1\r\n2\r3\r\r\n4\n\r]]></a>", true, false, "1\n2\n3\n\n4\n\n"},
		{"multi-byte UTF-8", "<a><![CDATA[é ✓ 𝄞]]></a>", true, false, "é ✓ 𝄞"},
		{"among elements", "<a>\n  <![CDATA[x]]><b><![CDATA[y]]></b><![CDATA[z]]>\n</a>", true, false, "\n  x"},
		{"after a comment", `<a><!--c--><![CDATA[x]]></a>`, true, false, "x"},
		{"nested start kept as text", `<a><![CDATA[<![CDATA[x]]></a>`, true, false, "<![CDATA[x"},
		{"unterminated", `<a><![CDATA[x</a>`, false, true, ""},
		{"unterminated at the end", `<a><![CDATA[x]]`, false, true, ""},
		{"one bracket short", `<a><![CDATA[x]></a>`, false, true, ""},
		{"cut in the keyword", `<a><![CDAT`, false, true, ""},
		{"keyword in lower case", `<a><![cdata[x]]></a>`, false, true, ""},
		{"no bracket after the keyword", `<a><![CDATA x]]></a>`, false, true, ""},
		{"control character", "<a><![CDATA[\x01]]></a>", false, true, ""},
		{"NUL", "<a><![CDATA[x\x00]]></a>", false, true, ""},
		{"invalid UTF-8", "<a><![CDATA[\xff]]></a>", false, true, ""},
		{"UTF-8 cut short", "<a><![CDATA[\xe2\x9c]]></a>", false, true, ""},
		{"U+FFFE", "<a><![CDATA[\xef\xbf\xbe]]></a>", false, true, ""},
		{"element not closed", `<a><![CDATA[x]]>`, false, true, ""},
		{"before the root", `<![CDATA[x]]><a/>`, false, false, ""},
		{"after the root", `<a/><![CDATA[x]]>`, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if fast := sameTree(t, []byte(tt.in)); fast != tt.wantFast {
				t.Errorf("scanXML(%q) ok = %v, want %v", tt.in, fast, tt.wantFast)
			}
			doc, err := ReadXML([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ReadXML(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if tt.wantFast {
				if got := doc.Root().Text(); got != tt.text {
					t.Errorf("text %q, want %q", got, tt.text)
				}
			}
		})
	}
}

// FuzzReadXML checks the fast scanner against etree's reader: whatever the
// scanner accepts, etree must read into the same tree.
func FuzzReadXML(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0" encoding="UTF-8"?><a xmlns="urn:hl7-org:v3" x="1"><b>t &amp; u</b><!--c--></a>`))
	f.Add([]byte("<a>\r\n<b y='&#x41;'/></a>"))
	f.Add([]byte(`<hl7:a xmlns:hl7="urn:hl7-org:v3"><hl7:b/></hl7:a>`))
	f.Add([]byte("<a>\n          \t         <b/>          x</a>         "))
	f.Add([]byte("<a>t<![CDATA[<b>&amp;\r\n]]]]><![CDATA[>]]>u</a>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sameTree(t, data)
		_, _ = ReadXML(data) // must not panic, whatever it is given
	})
}

// TestUnplainMarksFirst checks unplain, with which chars passes eight
// bytes at a time, against what chars must stop at, byte by byte: its
// first mark is the first byte that is not printable ASCII other than '&',
// '<' and the run's third byte, for every byte value at every place before
// another such byte, among each printable filler.
func TestUnplainMarksFirst(t *testing.T) {
	for _, third := range []byte{'>', '"', '\''} {
		stops := func(c byte) bool { return c < 0x20 || c >= 0x80 || c == '&' || c == '<' || c == third }
		for fill := byte(0x20); fill < 0x80; fill++ {
			if stops(fill) {
				continue
			}
			for at := 0; at < 8; at++ {
				for c := 0; c < 256; c++ {
					for _, later := range []int{-1, 0, 0x1f, 0x80, '&', 0xff} {
						w := bytes.Repeat([]byte{fill}, 8)
						w[at] = byte(c)
						if later >= 0 && at < 7 {
							w[7] = byte(later)
						}
						want := 8
						for i, b := range w {
							if stops(b) {
								want = i
								break
							}
						}
						got := 8
						if m := unplain(load8(string(w)), third); m != 0 {
							got = bits.TrailingZeros64(m) >> 3
						}
						if got != want {
							t.Fatalf("unplain(%q, %q) marks byte %d first, want %d", w, third, got, want)
						}
					}
				}
			}
		}
	}
}

// TestNonLettersMarksExactly checks nonLetters, with which names are
// passed eight bytes at a time, byte by byte: every byte value at every
// place among letters is marked exactly when it is not an ASCII letter.
func TestNonLettersMarksExactly(t *testing.T) {
	isLetter := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	for _, fill := range []byte{'a', 'Z', 'q'} {
		for at := 0; at < 8; at++ {
			for c := 0; c < 256; c++ {
				w := bytes.Repeat([]byte{fill}, 8)
				w[at] = byte(c)
				m := nonLetters(load8(string(w)))
				for i, b := range w {
					marked := m>>(8*i+7)&1 == 1
					if marked == isLetter(b) {
						t.Fatalf("nonLetters(%q): byte %d (%q) marked %v", w, i, b, marked)
					}
				}
			}
		}
	}
}

// TestPlainTagAsAnyTag checks plainTag, the one-loop reading of the usual
// start tag, against anyTag, which reads any: for start tags of every shape
// around its loops (names with and without prefix and digits, white space
// of each kind, values of every length up to 17 with tabs, line feeds, the
// other quote, '>', DEL, a reference, a carriage return, a control
// character, a multi-byte character, a repeated or unterminated
// attribute), whatever plainTag reads anyTag reads to the same end, with
// the same name, prefix, attributes and notes; and each document is read
// as etree's reader reads it.
func TestPlainTagAsAnyTag(t *testing.T) {
	names := []string{"a", "code", "pertinentInformation1", "hl7:value", "x:a9", "PORX_IN020101UK31", "a-b.c_d"}
	values := []string{"", "x"}
	for n := 1; n <= 17; n++ {
		values = append(values, strings.Repeat("2.16.840.1.113883", 2)[:n])
	}
	values = append(values, "a\tb\nc", `it's`, "a>b", "\x7f", "a&amp;b", "a\rb", "a\x01b", "é", "a<b")
	var tags []string
	for _, name := range names {
		tags = append(tags, name, name+"/", name+" ", name+" /", name+"\n\t/")
		for _, key := range []string{"root", "codeSystem", "xsi:type", "a1"} {
			for _, v := range values {
				for _, q := range []string{`"`, `'`} {
					if strings.Contains(v, q) {
						continue
					}
					attr := key + "=" + q + v + q
					tags = append(tags,
						name+" "+attr, name+" "+attr+"/", name+"\n  "+attr+" ", name+attr,
						name+" "+key+" = "+q+v+q, name+" "+attr+" b="+q+q, name+" "+attr+" "+attr,
						name+" "+key+"="+q+v)
				}
			}
		}
	}
	for _, tag := range tags {
		for _, doc := range []string{"<r><" + tag + "></r>", "<r><" + tag + ">x</" + tag + "></r>"} {
			src := doc[len("<r><"):]
			plain := xmlScanner{src: src}
			room := make([]etree.Attr, 0, maxScannedAttrs)
			pn, pname, pspace, pempty, pok := plain.plainTag(room, nil)
			pa := room[:pn]
			if !pok {
				if plain.i != 0 || plain.notes.prefixed || plain.notes.emptyAttr || plain.notes.marked != nil {
					t.Fatalf("plainTag(%q) refused but moved to %d, notes %+v", src, plain.i, plain.notes)
				}
				continue
			}
			general := xmlScanner{src: src}
			ga, gname, gspace, gempty, gok := general.anyTag(false, nil)
			if !gok || plain.i != general.i || pname != gname || pspace != gspace || pempty != gempty ||
				plain.notes.prefixed != general.notes.prefixed || plain.notes.emptyAttr != general.notes.emptyAttr || !slices.Equal(pa, ga) {
				t.Fatalf("plainTag(%q) = %v %q %q %v at %d %+v; anyTag = %v %q %q %v %v at %d %+v",
					src, pa, pname, pspace, pempty, plain.i, plain.notes, ga, gname, gspace, gempty, gok, general.i, general.notes)
			}
			sameTree(t, []byte(doc))
		}
	}
}

// TestScannerTagEdges reads documents around what the one-loop start tag,
// the elements linked as they are read and the indentation runs could get
// wrong, each as etree's reader reads it (sameTree), as WalkXML and
// CheckXML read it, and by the reader the scanner should use (wantFast).
func TestScannerTagEdges(t *testing.T) {
	many := func(n int) string {
		var b strings.Builder
		b.WriteString("<r><a")
		for i := range n {
			fmt.Fprintf(&b, " k%d=\"%d\"", i, i)
		}
		b.WriteString("/></r>")
		return b.String()
	}
	tests := []struct {
		name, in string
		wantFast bool
	}{
		{"entities", `<r><a x="a&amp;b" y='&#x41;&lt;'/></r>`, true},
		{"entity after a plain attribute", `<r><a x="1" y="&quot;" z="2"/></r>`, true},
		{"entity in a value longer than a word", `<r><a x="1234567890&amp;1234567890"/></r>`, true},
		{"unknown entity", `<r><a x="&nbsp;"/></r>`, false},
		{"CR LF in a value", "<r><a x=\"a\r\nb\" y=\"c\rd\"/></r>", true},
		{"CR LF between attributes", "<r><a\r\nx=\"1\"\r\n\ty=\"2\"\r\n/></r>", true},
		{"tabs and line feeds in values", "<r><a x=\"a\tb\" y=\"c\nd\" z=\"\t\t\t\t\t\t\t\t\t\"/></r>", true},
		{"prefixes", `<hl7:r xmlns:hl7="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><hl7:a xsi:type="CV" hl7:x="1"/><b xmlns="urn:x" c:d="e"/></hl7:r>`, true},
		{"prefixed and plain key", `<r><a x="1" p:x="2"/></r>`, true},
		{"plain after prefixed key", `<r><a p:x="1" x="2"/></r>`, false},
		{"repeated key", `<r><a code="1" root="2" code="3"/></r>`, false},
		{"empty prefix", `<r><a :x="1"/></r>`, false},
		{"empty local name", `<r><a x:="1"/></r>`, false},
		{"two colons", `<r><a x:y:z="1"/></r>`, false},
		{"CDATA", `<r><a x="1"><![CDATA[<b x="2">&amp;]]></a></r>`, true},
		{"comments everywhere", "<!--c-->\n<r><!--d--><a/>t<!--e-->u<b x='1'/></r><!--f-->", true},
		{"processing instructions", `<?xml version="1.0"?><?pi x?><r><?q y?><a k="v"/>t<?z?></r>`, true},
		{"'>' in a value", `<r><a x="a>b" y='>'/></r>`, true},
		{"other quote in a value", `<r><a x="it's" y='say "hi"'/></r>`, true},
		{"non-ASCII value", `<r><a x="é" y="1"/></r>`, true},
		{"DEL in a value", "<r><a x=\"\x7f\"/></r>", true},
		{"control character in a value", "<r><a x=\"\x01\"/></r>", false},
		{"'<' in a value", `<r><a x="a<b"/></r>`, false},
		{"no space between attributes", `<r><a x="1"y="2"/></r>`, false},
		{"key without value", `<r><a x/></r>`, false},
		{"unquoted value", `<r><a x=1/></r>`, false},
		{"quotes mismatched", `<r><a x="1'/></r>`, false},
		{"spaces around =", `<r><a x = "1"	y	=	'2' /></r>`, true},
		{"end in a value", `<r><a x="1`, false},
		{"end in a long value", `<r><a x="1234567890123`, false},
		{"end after =", `<r><a x=`, false},
		{"end in a key", `<r><a xy`, false},
		{"end after a value", `<r><a x="1"`, false},
		{"end after white space", `<r><a `, false},
		{"end in />", `<r><a/`, false},
		{"end in a name", `<r><ab`, false},
		{"64 attributes", many(64), true},
		{"65 attributes", many(65), false},
		{"17 attributes (more than WalkXML's room)", many(17), true},
		{"indentation with tabs and CR LF", "<r>\r\n\t<a/>\n \n  <b/>\t\n</r>", true},
		{"long indentation", "<r>\n" + strings.Repeat(" ", 40) + "<a/>\n" + strings.Repeat(" ", 7) + "x</r>", true},
		{"indentation to the end", "<r/>\n        ", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if fast := sameTree(t, []byte(tt.in)); fast != tt.wantFast {
				t.Errorf("scanXML(%q) ok = %v, want %v", tt.in, fast, tt.wantFast)
			}
			sameWalk(t, tt.in)
			sameCheck(t, []byte(tt.in))
			doc, err := ReadXML([]byte(tt.in))
			want := etree.NewDocument()
			if wantErr := want.ReadFromBytes([]byte(tt.in)); (err != nil) != (wantErr != nil) {
				t.Fatalf("ReadXML(%q) error %v, etree's %v", tt.in, err, wantErr)
			}
			if err == nil {
				if _, err := writeTree(&doc.Element); err != nil {
					t.Fatalf("ReadXML(%q): %v", tt.in, err)
				}
			}
		})
	}
}

// TestPlainTagRoom checks that plainTag reads no more attributes than its
// room holds (refusing the tag, as anyTag then reads it) and tells each
// attribute its element.
func TestPlainTagRoom(t *testing.T) {
	const tag = `a x="1" y="2">`
	const src = tag + "</a>"
	for _, room := range []int{0, 1, 2, 3} {
		s := xmlScanner{src: src}
		el := new(etree.Element)
		into := make([]etree.Attr, 0, room)
		n, name, _, _, ok := s.plainTag(into, el)
		if ok != (room >= 2) {
			t.Fatalf("room %d: plainTag ok = %v", room, ok)
		}
		if !ok {
			if s.i != 0 {
				t.Fatalf("room %d: refused but moved to %d", room, s.i)
			}
			continue
		}
		if name != "a" || n != 2 || s.i != len(tag) {
			t.Fatalf("room %d: name %q, %d attributes, at %d", room, name, n, s.i)
		}
		for _, a := range into[:n] {
			if a.Element() != el {
				t.Fatalf("room %d: attribute %s not told its element", room, a.Key)
			}
		}
	}
}
