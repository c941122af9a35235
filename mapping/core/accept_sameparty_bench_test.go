package core

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/internal/corpustest"
	v3 "github.com/porxgate/porxgate/v3"
)

// partyPair is one question prescribe's responsibleParty asks SameParty:
// a prescription's author and responsible party (AgentPerson, the person's
// id under agentPerson skipped), or their represented organisations.
type partyPair struct {
	a, b *etree.Element
	skip func(*etree.Element) bool
}

// skipAgentPersonID is prescribe's skipPersonID: the person's own id, which
// a responsible party who is the author may give differently.
func skipAgentPersonID(e *etree.Element) bool {
	return e.Tag == "id" && e.Parent() != nil && e.Parent().Tag == "agentPerson"
}

// prescriptionPartyPairs returns, for every element of the tree under root
// with an author and a responsibleParty each holding an AgentPerson (a
// prescription), the two AgentPersons and their represented organisations,
// as prescribe's responsibleParty compares them.
func prescriptionPartyPairs(root *etree.Element) []partyPair {
	var out []partyPair
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		au := e.FindElement("author/AgentPerson")
		rp := e.FindElement("responsibleParty/AgentPerson")
		if au != nil && rp != nil && au.Parent().Parent() == e && rp.Parent().Parent() == e {
			out = append(out, partyPair{au, rp, skipAgentPersonID})
			out = append(out, partyPair{au.SelectElement("representedOrganization"), rp.SelectElement("representedOrganization"), nil})
		}
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(root)
	return out
}

// benchPartyPairs reads the prescriptions' party pairs of the corpus's
// Send messages (the messages of BenchmarkPrescribeV3ToFHIR) or, without
// the corpus, of the project's release response.
func benchPartyPairs(tb testing.TB) []partyPair {
	tb.Helper()
	var msgs [][]byte
	if corpustest.Present() {
		msgs = corpustest.Files(tb, func(rel string) bool {
			return strings.HasSuffix(rel, "-Convert-Response-Send-200_OK.xml")
		})
	}
	if len(msgs) == 0 {
		x, err := os.ReadFile(filepath.Join("..", "..", "testdata", "release", "patient-release-response-070103.xml"))
		if err != nil {
			tb.Fatal(err)
		}
		msgs = append(msgs, x)
	}
	var pairs []partyPair
	for _, m := range msgs {
		doc, err := v3.ReadXML(m)
		if err != nil {
			tb.Fatal(err)
		}
		pairs = append(pairs, prescriptionPartyPairs(doc.Root())...)
	}
	if len(pairs) == 0 {
		tb.Fatal("no prescription party pairs")
	}
	return pairs
}

// BenchmarkSameParty asks SameParty prescribe's two questions (author and
// responsible party, their organisations) of every prescription of the
// benchmark messages, one pair an operation.
func BenchmarkSameParty(b *testing.B) {
	pairs := benchPartyPairs(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := pairs[i%len(pairs)]
		SameParty(p.a, p.b, p.skip)
	}
}
