package core

import (
	"testing"

	"github.com/beevik/etree"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestSetAsideByDatatype: setAside tells a coded value (a codeSystem, and
// no value unless it is a translation) and a PQ (a value and a unit) by
// their attributes as etree's SelectAttr finds them: a name without prefix
// matches the attribute whatever its prefix, and an empty value is still
// present. It pins what isCodedValue and isQuantity read now that they
// look the attributes up in place instead of through SelectAttr.
func TestSetAsideByDatatype(t *testing.T) {
	const dmd = `codeSystem="` + v3SNOMEDdmd + `"`
	for _, tc := range []struct {
		name, xml string
		want      []bool // for each child element, in order
	}{
		{"coded value", `<code codeSystem="s" code="c"><originalText/><translation/><qualifier><name/></qualifier><qualifier code="x"/><other/></code>`,
			[]bool{true, true, true, false, false}},
		{"coded value, empty code system", `<code codeSystem=""><originalText/></code>`, []bool{true}},
		{"coded value, prefixed code system", `<code xmlns:p="urn:p" p:codeSystem="s"><originalText/></code>`, []bool{true}},
		{"code system and value: not coded", `<value codeSystem="s" value="1"><originalText/></value>`, []bool{false}},
		{"translation with code system and value", `<translation codeSystem="s" value="1"><originalText/></translation>`, []bool{true}},
		{"no code system", `<code code="c"><originalText/><translation/></code>`, []bool{false, false}},
		{"quantity", `<quantity value="1" unit="1"><translation ` + dmd + `/><translation ` + dmd + `/><translation/></quantity>`,
			[]bool{false, true, true}},
		{"quantity, first dm+d translation second", `<quantity value="1" unit="1"><translation codeSystem="x"/><translation ` + dmd + `/></quantity>`,
			[]bool{true, false}},
		{"quantity, prefixed unit", `<quantity xmlns:p="urn:p" value="1" p:unit=""><translation/></quantity>`, []bool{true}},
		{"value without unit", `<quantity value="1"><translation/></quantity>`, []bool{false}},
		{"unit without value", `<quantity unit="1"><translation/></quantity>`, []bool{false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, root, err := v3.Parse([]byte(`<r xmlns="urn:hl7-org:v3">` + tc.xml + `</r>`))
			if err != nil {
				t.Fatal(err)
			}
			e := root.Elements()[0].El
			var got []bool
			for _, tok := range e.Child {
				if c, ok := tok.(*etree.Element); ok {
					got = append(got, setAside(e, c))
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d children, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("child %d: setAside %v, want %v", i+1, got[i], tc.want[i])
				}
			}
		})
	}
}
