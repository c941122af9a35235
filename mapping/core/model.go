package core

import (
	"strings"

	"github.com/beevik/etree"
	v3 "github.com/porxgate/porxgate/v3"
)

// ExpectModel is ExpectChildren with the model's repetition: each name in
// model is a child element the MIM allows at most once (0..1 or 1..1), a
// name ending in "*" one it allows many times (0..* or 1..*). A child not in
// the model, or a second occurrence of a once-only child, is recorded on n's
// Reader (the second at its indexed path, e.g. …/replacementOf[2]), so that
// a reader taking the first of an element never drops a repeated one unsaid:
// the XML schema, and Spine with it, refuses such a message. One pass over
// the children; nothing is allocated unless there is a problem.
func ExpectModel(n v3.Node, model ...string) {
	if !n.Exists() {
		return
	}
	var small [16]uint8
	seen := small[:0]
	if len(model) <= len(small) {
		seen = small[:len(model)]
	} else {
		seen = make([]uint8, len(model))
	}
	for _, t := range n.El.Child {
		c, ok := t.(*etree.Element)
		if !ok {
			continue
		}
		i := modelIndex(model, c.Tag)
		if i < 0 {
			n.Opt(c.Tag).Fail("unexpected element")
			return
		}
		if seen[i] < 2 {
			seen[i]++
		}
	}
	for i, m := range model {
		if seen[i] > 1 && !strings.HasSuffix(m, "*") && n.Reader() != nil {
			n.Reader().FailRule(n.All(m)[1].Path, v3.RuleCardinality, "element repeated (the model allows one)")
		}
	}
}

// modelIndex returns the index of tag's entry in an ExpectModel model, or -1.
func modelIndex(model []string, tag string) int {
	for i, m := range model {
		if strings.TrimSuffix(m, "*") == tag {
			return i
		}
	}
	return -1
}
