package core

import (
	"testing"

	"github.com/beevik/etree"

	v3 "github.com/porxgate/porxgate/v3"
)

// FuzzSameParty holds SameParty to refSameParty, the rule as it was before
// it told each parent's set-aside rule once, on arbitrary parties: x and y
// are read as the contents of two sibling elements p and q of a root in
// the v3 namespace (ns picks a default namespace p or q declares, if any),
// and the first element of each is compared with the
// first of the other (their parents siblings), with the second of its own
// parent (one parent), and with a copy of the other standing alone (no
// parent), with and without prescribe's skip of agentPerson's id.
func FuzzSameParty(f *testing.F) {
	for _, s := range [][2]string{
		{`<AgentPerson><id root="1" extension="2"/><agentPerson><id extension="9"/><name><given>A</given><family>B</family></name></agentPerson></AgentPerson>`,
			`<AgentPerson><id root="1" extension="2"/><agentPerson><id extension="8"/><name><family>B</family><given>A</given></name></agentPerson></AgentPerson>`},
		{`<code code="1" codeSystem="2"><originalText>x</originalText><translation code="3"/></code>`, `<code code="1" codeSystem="2"/>`},
		{`<code code="1" codeSystem="2"><qualifier><name code="a"/></qualifier></code>`, `<code code="1" codeSystem="2"><qualifier code="s"/></code>`},
		{`<quantity value="1" unit="1"><translation value="1" codeSystem="2.16.840.1.113883.2.1.3.2.4.15" code="u"/><translation code="v" codeSystem="x"/></quantity>`,
			`<quantity value="1" unit="1"><translation value="1" codeSystem="2.16.840.1.113883.2.1.3.2.4.15" code="u"/></quantity>`},
		{`<translation codeSystem="2" value="1"><originalText/></translation>`, `<translation codeSystem="2" value="1"/>`},
		{`<o xmlns="urn:x"><n/></o>`, `<o><n/></o>`},
		{`<o xmlns:x="urn:x" x:codeSystem="1"><originalText/></o>`, `<o xmlns:x="urn:x" x:codeSystem="1"/>`},
		{`<o xmlns:codeSystem="urn:x"><originalText/></o>`, `<o/>`},
		{`<id root="1" assigningAuthorityName="SDS" determinerCode="INSTANCE"/><id root="1"/>`, `<id root="1"/>`},
		{`<name> A <given>B</given></name>`, `<name>A<given>B</given></name>`},
	} {
		f.Add(s[0], s[1], false, uint8(0))
		f.Add(s[0], s[1], true, uint8(1))
	}
	f.Fuzz(func(t *testing.T, x, y string, skipID bool, ns uint8) {
		decl := [...][2]string{{"", ""}, {"", ` xmlns="urn:other"`}, {` xmlns="` + v3.Namespace + `"`, ""}, {` xmlns="urn:other"`, ` xmlns=""`}}[ns%4]
		doc, err := v3.ReadXML([]byte(`<r xmlns="` + v3.Namespace + `"><p` + decl[0] + `>` + x + `</p><q` + decl[1] + `>` + y + `</q></r>`))
		if err != nil {
			return
		}
		ps := doc.Root().ChildElements()
		if len(ps) != 2 {
			return
		}
		xs, ys := ps[0].ChildElements(), ps[1].ChildElements()
		if len(xs) == 0 || len(ys) == 0 {
			return
		}
		var skip func(*etree.Element) bool
		if skipID {
			skip = skipAgentPersonID
		}
		pairs := [][2]*etree.Element{{xs[0], ys[0]}, {ys[0], xs[0]}, {xs[0], ys[0].Copy()}, {ys[0].Copy(), xs[0]}}
		if len(xs) > 1 {
			pairs = append(pairs, [2]*etree.Element{xs[0], xs[1]})
		}
		for _, p := range pairs {
			if got, want := SameParty(p[0], p[1], skip), refSameParty(p[0], p[1], skip); got != want {
				t.Fatalf("SameParty %t, the reference %t (%q, %q, skip %t, ns %d)", got, want, x, y, skipID, ns)
			}
		}
	})
}
