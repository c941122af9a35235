package v3

import (
	"fmt"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// AlgorithmExcC14N is the Exclusive XML Canonicalization 1.0 (without
// comments) algorithm URI, the canonicalisation and transform of every
// prescription signature.
const AlgorithmExcC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"

// CanonicalFragments returns the Exclusive C14N form of fragments (as built
// by SignatureFragments): the exact bytes that are digested. The element is
// not modified.
func CanonicalFragments(fragments *etree.Element) ([]byte, error) {
	if fragments == nil {
		return nil, fmt.Errorf("canonicalising signature fragments: no element")
	}
	return canonicalize(fragments)
}

// canonicalize applies Exclusive C14N (no inclusive prefixes, no comments)
// to a copy of el. An element inside a larger tree is first detached from
// its ancestors' namespace context (goxmldsig's NSDetatch puts the
// declarations in scope on the copy), so that it is canonicalised as the
// standalone element it stands for; NSDetatch refuses subtrees of more than
// 1000 elements, which is why a parentless element (as SignatureFragments
// and SignedInfo build them: there is nothing to detach from) is only
// copied. goxmldsig's canonicaliser modifies its input, hence the copy.
func canonicalize(el *etree.Element) ([]byte, error) {
	var src *etree.Element
	if p := el.Parent(); p != nil && p.Tag != "" {
		ctx, err := etreeutils.NSBuildParentContext(el)
		if err != nil {
			return nil, fmt.Errorf("exclusive c14n of <%s>: namespace context: %w", el.Tag, err)
		}
		if src, err = etreeutils.NSDetatch(ctx, el); err != nil {
			return nil, fmt.Errorf("exclusive c14n of <%s>: detaching: %w", el.Tag, err)
		}
	} else {
		src = el.Copy()
	}
	out, err := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("").Canonicalize(src)
	if err != nil {
		return nil, fmt.Errorf("exclusive c14n of <%s>: %w", el.Tag, err)
	}
	return out, nil
}
