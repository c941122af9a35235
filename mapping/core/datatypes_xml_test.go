package core

import (
	"bytes"
	"testing"

	v3 "github.com/porxgate/porxgate/v3"
)

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
