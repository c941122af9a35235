package mapping

import (
	"bytes"
	"testing"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/v3"
)

// sameTree reports whether the fast parser's document is the one etree's
// reader makes of the same bytes.
func sameTree(t *testing.T, data []byte) {
	t.Helper()
	fast, ok := fastParseXML(data)
	full := etree.NewDocument()
	fullErr := full.ReadFromBytes(data)
	if !ok {
		return // the full parser reads it (or refuses it) on its own
	}
	if fullErr != nil {
		t.Fatalf("fast parser accepted what etree refuses (%v): %q", fullErr, data)
	}
	if (fast.Root() == nil) != (full.Root() == nil) {
		t.Fatalf("root differs for %q", data)
	}
	var a, b bytes.Buffer
	fast.Root().WriteTo(&a, &etree.WriteSettings{})
	full.Root().WriteTo(&b, &etree.WriteSettings{})
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatalf("trees differ for %q:\nfast %s\nfull %s", data, a.Bytes(), b.Bytes())
	}
}

func TestFastParseXML(t *testing.T) {
	tests := []struct {
		in     string
		wantOK bool
	}{
		{`<a/>`, true},
		{`<?xml version="1.0" encoding="UTF-8"?>` + "\n<a x='1' y=\"2\"><b>t &amp; &lt;u&gt; &#65;&#x42; é</b><!-- c --><?pi x?></a>\n", true},
		{"<a>line\r\nend\rx</a>", true},
		{`<hl7:a xmlns:hl7="urn:hl7-org:v3"><hl7:b hl7:c="1"/></hl7:a>`, true},
		{`<a><b></a>`, false},
		{`<a></b>`, false},
		{`<a x="1" x="2"/>`, false},
		{`<a x=1/>`, false},
		{`<a>&nbsp;</a>`, false},
		{`<a>&#0;</a>`, false},
		{`<a><![CDATA[x]]></a>`, false},
		{`<!DOCTYPE a><a/>`, false},
		{`<a/><b/>`, false},
		{`text<a/>`, false},
		{`<a>]]></a>`, false},
		{"<a>\x01</a>", false},
		{"<a>\xff</a>", false},
		{`<?xml version="1.1"?><a/>`, false},
		{`<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, false},
		{`<a`, false},
		{``, false},
		{`<1a/>`, false},
		{`<a:b:c/>`, false},
		{`<a><!-- x -- y --></a>`, false},
	}
	for _, tt := range tests {
		_, ok := fastParseXML([]byte(tt.in))
		if ok != tt.wantOK {
			t.Errorf("fastParseXML(%q) ok = %v, want %v", tt.in, ok, tt.wantOK)
		}
		sameTree(t, []byte(tt.in))
	}
}

func TestParseV3MatchesV3Parse(t *testing.T) {
	msg, err := PrescribeToV3(fixture(t, "repeat-dispensing-pharmacist-endorsed.json"), Meta{}, testEnv())
	if err != nil {
		t.Fatal(err)
	}
	sameTree(t, msg)
	r, n, err := ParseV3(msg)
	if err != nil || r.Interaction() != v3.ParentPrescription || n.Path != "/PORX_IN020101UK31" {
		t.Fatalf("ParseV3 = %v, %v, %v", r, n.Path, err)
	}
	for _, bad := range []string{`<a xmlns="urn:other"/>`, `<a`} {
		if _, _, err := ParseV3([]byte(bad)); err == nil {
			t.Errorf("ParseV3(%q) accepted", bad)
		}
	}
}

// FuzzParseV3 checks the fast XML parser against etree's reader: whatever
// the fast one accepts, etree must read into the same tree.
func FuzzParseV3(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0" encoding="UTF-8"?><a xmlns="urn:hl7-org:v3" x="1"><b>t &amp; u</b><!--c--></a>`))
	f.Add([]byte("<a>\r\n<b y='&#x41;'/></a>"))
	f.Add([]byte(`<hl7:a xmlns:hl7="urn:hl7-org:v3"><hl7:b/></hl7:a>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sameTree(t, data)
	})
}

// TestWriteIndentedMatchesEtree checks WriteIndented writes what etree's
// Indent(2) and WriteToBytes write.
func TestWriteIndentedMatchesEtree(t *testing.T) {
	doc, root := v3.NewDocument("PORX_IN020101UK31")
	v3.AddII(root, "id", "X", "")
	a := v3.Add(root, "a", "q", `say "hi" & 'bye' <now>`+"\t\n\r")
	v3.AddText(a, "value", "text & <more> 'quoted' \"too\"\r \x01 \xff é")
	v3.Add(v3.Add(a, "b"), "c", "k", "v")
	a.CreateComment("note")
	v3.Add(root, "empty")
	v3.Add(root, "commented").CreateComment("alone")
	want := bytes.Replace(v3.Bytes(doc.Copy()), []byte("<commented>\n    <!--alone-->\n  </commented>"), []byte("<commented><!--alone--></commented>"), 1)
	if got := WriteIndented(doc); !bytes.Equal(got, want) {
		t.Errorf("WriteIndented:\n%s\nwant (etree):\n%s", got, want)
	}
}
