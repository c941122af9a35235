package prescribe

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Prepare computes what EPS's $prepare answers for a prescription-order
// Bundle: the base64 SignedInfo over the signature fragments of the
// ParentPrescription the Bundle maps to, the author time hashed and the
// algorithm. A signed Bundle (a Provenance with a signature) keeps its
// signature.when as author time; for an unsigned one, as EPS does, the
// author time is now. As EPS's own $prepare answers in the corpus show, a
// wrong short-form check character does not stop $prepare (EPS rejects it
// at $process-message).
//
// The Bundle is decoded once and the fragments are taken from the v3 tree
// as built, which holds what its serialisation would read back as (see
// sameWhenReadBack); when it might not, or the fragments cannot be taken
// from it, the v3 is serialised and read back as the prescriber's system
// would send it.
func Prepare(bundle []byte, now time.Time, alg v3.DigestAlgorithm) (v3.PrepareResult, error) {
	return PrepareIn(nil, bundle, now, alg)
}

// PrepareIn is Prepare building its trees (the ParentPrescription and the
// signature fragments) in a Space of sc, given back before it returns:
// one Scratch for the Bundles prepared one after another keeps their
// memory from one to the next. A nil sc builds them in fresh memory.
func PrepareIn(sc *v3.Scratch, bundle []byte, now time.Time, alg v3.DigestAlgorithm) (v3.PrepareResult, error) {
	sp := sc.Get()
	defer sc.Put(sp)
	// The Bundle's structs are the Space's; its strings are views of a
	// copy of bundle, as fhir.ParseBundleRef's (the result may hold one).
	b, err := core.ParseBundleIn(sp, bytes.Clone(bundle))
	if err != nil {
		return v3.PrepareResult{}, fmt.Errorf("$prepare: %w", err)
	}
	signed := false
	for _, e := range b.Entry { // fhir.EntriesOf without its list
		if p, ok := e.Resource.(*fhir.Provenance); ok {
			for _, s := range p.Signature {
				if s.When != "" {
					signed = true
				}
			}
		}
	}
	meta := core.Meta{}
	env := core.Env{Now: now, NewID: func() string { return "00000000-0000-4000-8000-000000000000" }}
	var opts []v3.FragmentsOption
	if !signed {
		opts = append(opts, v3.WithAuthorTime(now))
	}
	interaction := prescribeInteraction(meta, env)
	if tree, err := buildParentPrescription(sp, b, interaction, env); err == nil {
		if res, ok := prepareFromTree(tree, alg, append(opts, v3.InSpace(sp))); ok {
			return res, nil
		}
	}
	// The whole message, refused as PrescribeToV3 refuses it or serialised
	// and read back.
	built, err := buildPrescription(sp, b, interaction, meta, env)
	if err != nil {
		return v3.PrepareResult{}, fmt.Errorf("$prepare: %w", err)
	}
	res, err := prepareReadBack(built, alg, opts)
	if err != nil {
		return v3.PrepareResult{}, fmt.Errorf("$prepare: %w", err)
	}
	return res, nil
}

// prepareFromTree computes the $prepare parameters from the v3 tree as
// built; ok is false when the tree might not be what its serialisation
// reads back as, or the fragments cannot be taken from it.
func prepareFromTree(built builtPrescription, alg v3.DigestAlgorithm, opts []v3.FragmentsOption) (v3.PrepareResult, bool) {
	var skip *etree.Element
	if built.sig != nil {
		skip = built.sig.El
	}
	if built.pp == nil || !sameWhenReadBack(built.pp, skip) {
		return v3.PrepareResult{}, false
	}
	res, err := v3.PrepareParameters(built.pp, alg, opts...)
	return res, err == nil
}

// prepareReadBack computes the $prepare parameters from the serialised v3
// read back.
func prepareReadBack(built builtPrescription, alg v3.DigestAlgorithm, opts []v3.FragmentsOption) (v3.PrepareResult, error) {
	payload, err := built.bytes()
	if err != nil {
		return v3.PrepareResult{}, err
	}
	_, root, err := v3.Parse(payload)
	if err != nil {
		return v3.PrepareResult{}, err
	}
	return v3.PrepareParameters(root, alg, opts...)
}

// sameWhenReadBack reports whether the signature fragments of the tree
// under el, as built, are those of its serialisation read back: no
// comments, no text beside child elements (the writer's indentation goes
// there), no control characters that reading changes (CR in text, which
// reading turns into LF; any in attribute values, which reading normalises
// to spaces) and no characters the writer replaces (invalid UTF-8,
// characters XML does not allow). skip (the signatureText a signature is spliced into,
// never part of the fragments) is not looked into.
func sameWhenReadBack(el, skip *etree.Element) bool {
	if el == skip {
		return true
	}
	for _, a := range el.Attr {
		if !plainXMLText(a.Value, false) {
			return false
		}
	}
	hasElements := false
	for _, t := range el.Child {
		if _, ok := t.(*etree.Element); ok {
			hasElements = true
			break
		}
	}
	for _, t := range el.Child {
		switch t := t.(type) {
		case *etree.Element:
			if !sameWhenReadBack(t, skip) {
				return false
			}
		case *etree.CharData:
			if hasElements || t.IsCData() || !plainXMLText(t.Data, true) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// plainXMLText reports whether s is written and read back unchanged: valid
// UTF-8 of characters XML allows, with no control characters but, in text
// (not attribute values), tab and LF.
func plainXMLText(s string, text bool) bool {
	// Printable ASCII, the usual bytes, eight at a time: no byte below
	// 0x20 (which alone borrows in x - 0x20 in every byte) and none from
	// 0x80 (its top bit). The last eight bytes of a string of eight or
	// more are one load too (they overlap the printable bytes before
	// them, so they start a character); the bytes of a shorter one are
	// looked at one at a time. Anything else is for plainXMLTextFrom,
	// from the first word or byte that is not printable ASCII.
	if len(s) < 8 {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= utf8.RuneSelf {
				return plainXMLTextFrom(s, i, text)
			}
		}
		return true
	}
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if !printableASCII8(s, i) {
			return plainXMLTextFrom(s, i, text)
		}
	}
	if i < len(s) && !printableASCII8(s, len(s)-8) {
		return plainXMLTextFrom(s, len(s)-8, text)
	}
	return true
}

// printableASCII8 reports whether the eight bytes of s from i are all
// printable ASCII (0x20 to 0x7f), in one load.
func printableASCII8(s string, i int) bool {
	x := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
	return (x|(x-0x2020202020202020))&0x8080808080808080 == 0
}

// plainXMLTextFrom is plainXMLText of s from byte i on, a byte at a time.
func plainXMLTextFrom(s string, i int, text bool) bool {
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < 0x20 {
			if !text || (c != '\t' && c != '\n') {
				return false
			}
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && w == 1) || !core.IsXMLChar(r) {
			return false
		}
		i += w
	}
	return true
}
