package release

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestReleasedFromWritten holds releasedFrom to what it stands in for: for
// every released prescription of the corpus's and the project's release
// responses, the ParentPrescription the prescribing mapper wrote back, with
// the release parts added, is the one writeReleasedPrescription writes
// from the finished Bundle. A signatureText that FHIR from outside could
// not carry (text, not a signature) takes the long way.
func TestReleasedFromWritten(t *testing.T) {
	msgs := releasedTestMessages(t)
	textSig := regexp.MustCompile(`(?s)<signatureText>.*?</signatureText>`).ReplaceAll(msgs["own"], []byte("<signatureText>signed on paper</signatureText>"))
	msgs["own, text signature"] = textSig
	shortcuts, longWays := 0, 0
	for name, msg := range msgs {
		eachReleasedComponent(t, name, msg, func(i int, interaction string, comp v3.Node) {
			env := core.FixedEnv()
			b, written, _ := readReleasedBundle(nil, nil, comp, interaction, nil, "", env, nil)
			if b == nil {
				t.Fatalf("%s component %d: not read", name, i)
			}
			if name == "own, text signature" && written != nil {
				t.Errorf("%s component %d: a text signature took the shortcut", name, i)
			}
			want := regenerateReleased(nil, b, env)
			got := releasedFrom(nil, b, written, env, nil, nil)
			if written == nil {
				longWays++
			} else {
				shortcuts++
			}
			if (got == nil) != (want == nil) || got != nil && !core.SameElement(want, got, nil) {
				t.Errorf("%s component %d: releasedFrom differs from writing the Bundle again:\n%s\nwant\n%s", name, i, xmlOf(got), xmlOf(want))
			}
		})
	}
	if shortcuts == 0 || longWays == 0 {
		t.Errorf("shortcuts %d, long ways %d: want both taken", shortcuts, longWays)
	}
}

// releasedTestMessages returns the project's release response ("own") and
// the corpus's successful ones ("corpus a", "corpus b", …).
func releasedTestMessages(t *testing.T) map[string][]byte {
	t.Helper()
	own, err := os.ReadFile(filepath.Join("..", "..", "testdata", "release", "patient-release-response-070103.xml"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := map[string][]byte{"own": own}
	for i, m := range corpustest.Files(t, func(rel string) bool {
		return strings.HasPrefix(rel, "release-responses/") && strings.Contains(rel, "success")
	}) {
		msgs["corpus "+string(rune('a'+i))] = m
	}
	return msgs
}

// eachReleasedComponent calls fn with each component of the release
// response msg (named name in failures), in order, and the message's
// interaction.
func eachReleasedComponent(t *testing.T, name string, msg []byte, fn func(i int, interaction string, comp v3.Node)) {
	t.Helper()
	_, root, err := v3.Parse(msg)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	prr := root.El.FindElement(".//PrescriptionReleaseResponse")
	if prr == nil {
		t.Fatalf("%s: no PrescriptionReleaseResponse", name)
	}
	_, node := v3.NewReader(root.El.Tag, prr)
	for i, comp := range node.All("component") {
		fn(i, root.El.Tag, comp)
	}
}

// xmlOf is el indented, for a failure message.
func xmlOf(el *etree.Element) string {
	if el == nil {
		return "<nil>"
	}
	d := etree.NewDocument()
	d.SetRoot(el.Copy())
	d.Indent(2)
	out, _ := d.WriteToString()
	return out
}
