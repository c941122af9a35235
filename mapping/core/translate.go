package core

import (
	"fmt"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// OpenV3 begins a v3 → FHIR translation: it parses the payload, checks that
// its root is one of the accepted interactions (given in the UK family;
// either family is read) and that env can make fresh ids. It returns the
// Reader, the root node and the root's UK-family interaction id; what names
// the expected message in the error ("not a <what>").
func OpenV3(payload []byte, env Env, what string, accepted ...string) (*v3.Reader, v3.Node, string, error) {
	return OpenV3In(nil, payload, env, what, accepted...)
}

// OpenV3In is OpenV3 reading the payload into sp (see v3.Space.Parse).
func OpenV3In(sp *v3.Space, payload []byte, env Env, what string, accepted ...string) (*v3.Reader, v3.Node, string, error) {
	r, root, err := sp.Parse(payload)
	if err != nil {
		return nil, v3.Node{}, "", err
	}
	RelaxNode(root)
	canon, _, cerr := v3.Canonical(root.El.Tag)
	ok := false
	for _, a := range accepted {
		ok = ok || (cerr == nil && canon == a)
	}
	// The Reader's interaction, not the tree's tag: a tree read in sp is
	// reused after the translation (the Reader's is a copy).
	if !ok {
		return nil, v3.Node{}, "", &v3.Error{Interaction: r.Interaction(), Path: root.Path(), Msg: "not a " + what}
	}
	if env.NewID == nil {
		return nil, v3.Node{}, "", &v3.Error{Interaction: r.Interaction(), Path: root.Path(), Msg: "no id generator (Env.NewID)"}
	}
	return r, root, canon, nil
}

// NewV3Message begins a FHIR → v3 translation: the transmission wrapper and
// ControlActEvent of interaction made now, with transmission id
// meta.MessageID when set, else ownID (the FHIR message's own id), written
// upper case. It returns the document and the subject to write into.
func NewV3Message(meta Meta, interaction, ownID string, env Env) (*etree.Document, *etree.Element) {
	return NewV3MessageIn(nil, meta, interaction, ownID, env)
}

// NewV3MessageIn is NewV3Message making the document in sp (see
// v3.Space.NewDocument; nil: fresh memory): the caller serialises it
// before giving sp back.
func NewV3MessageIn(sp *v3.Space, meta Meta, interaction, ownID string, env Env) (*etree.Document, *etree.Element) {
	id := meta.MessageID
	if id == "" {
		id = ownID
	}
	return v3.BuildWrapperIn(sp, meta.Wrapper(interaction, UpperUUID(id), env.Now.UTC().Format(V3TimeLayout)))
}

// PayloadToFHIR is the whole frame of a v3 → FHIR translation whose
// ControlActEvent subject holds one payload element: open the message
// (OpenV3), read the wrapper, check the subject holds only element, let read
// build the FHIR resource from it, and write it with the wrapper values
// that travel beside it.
func PayloadToFHIR[T fhir.Resource](data []byte, env Env, what, element string, read func(n v3.Node, env Env) T, accepted ...string) ([]byte, Meta, error) {
	r, root, _, err := OpenV3(data, env, what, accepted...)
	if err != nil {
		return nil, Meta{}, err
	}
	w, subject := v3.ReadWrapper(root)
	ExpectChildren(subject, element)
	res := read(subject.Child(element), env)
	RefuseEmptyAttrs(subject.Opt(element))
	if err := r.Err(); err != nil {
		return nil, Meta{}, err
	}
	out, err := fhir.Marshal(res)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("%s: writing FHIR: %w", root.El.Tag, err)
	}
	return out, MetaFromWrapper(w), nil
}
