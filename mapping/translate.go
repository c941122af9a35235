package mapping

import (
	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/v3"
)

// openV3 begins a v3 → FHIR translation: it parses the payload, checks that
// its root is one of the accepted interactions (given in the UK family;
// either family is read) and that env can make fresh ids. It returns the
// Reader, the root node and the root's UK-family interaction id; what names
// the expected message in the error ("not a <what>").
func openV3(payload []byte, env Env, what string, accepted ...string) (*v3.Reader, v3.Node, string, error) {
	r, root, err := v3.Parse(payload)
	if err != nil {
		return nil, v3.Node{}, "", err
	}
	canon, _, cerr := v3.Canonical(root.El.Tag)
	ok := false
	for _, a := range accepted {
		ok = ok || (cerr == nil && canon == a)
	}
	if !ok {
		return nil, v3.Node{}, "", &v3.Error{Interaction: root.El.Tag, Path: root.Path, Msg: "not a " + what}
	}
	if env.NewID == nil {
		return nil, v3.Node{}, "", &v3.Error{Interaction: root.El.Tag, Path: root.Path, Msg: "no id generator (Env.NewID)"}
	}
	return r, root, canon, nil
}

// newV3Message begins a FHIR → v3 translation: the transmission wrapper and
// ControlActEvent of interaction with transmission id id (written upper
// case) made now; it returns the document and the subject to write into.
func newV3Message(meta Meta, interaction, id string, env Env) (*etree.Document, *etree.Element) {
	return v3.BuildWrapper(meta.Wrapper(interaction, upperUUID(id), env.Now.UTC().Format(V3TimeLayout)))
}
