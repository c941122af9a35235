package core

import (
	"strings"

	v3 "github.com/porxgate/porxgate/v3"
)

// ExpectModel is ExpectChildren with the model's repetition: each name in
// model is a child element the MIM allows at most once (0..1 or 1..1), a
// name ending in "*" one it allows many times (0..* or 1..*). A child not in
// the model, or a second occurrence of a once-only child, is recorded on n's
// Reader (the second at its indexed path, e.g. …/replacementOf[2]), so that
// a reader taking the first of an element never drops a repeated one unsaid:
// the XML schema, and Spine with it, refuses such a message.
func ExpectModel(n v3.Node, model ...string) {
	if !n.Exists() {
		return
	}
	names := make([]string, len(model))
	for i, m := range model {
		names[i] = strings.TrimSuffix(m, "*")
	}
	ExpectChildren(n, names...)
	for i, m := range model {
		if strings.HasSuffix(m, "*") {
			continue
		}
		if all := n.All(names[i]); len(all) > 1 && n.Reader() != nil {
			n.Reader().FailRule(all[1].Path, v3.RuleCardinality, "element repeated (the model allows one)")
		}
	}
}
