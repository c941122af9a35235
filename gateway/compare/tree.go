package compare

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/beevik/etree"
)

// elem is one element of an answer read for comparison: its own facts and
// its children, ordered by their digest, which stands for the whole
// subtree with sibling order left out.
type elem struct {
	tag  string
	path string
	own  []string // the element's own facts (ownFacts)
	kids []*elem
	// order is the tags of the children in document order, each once
	// (where it first occurs); nil for a name or an address, whose parts
	// of different kinds may come in any order (partPosition).
	order  []string
	digest [sha256.Size]byte
}

// readTree reads an answer into elems following the package rules; keep
// holds the request's UUIDs and timestamps (requestValues).
func readTree(answer []byte, keep map[string]bool) (*elem, error) {
	root, err := readRoot(answer)
	if err != nil {
		return nil, err
	}
	t := &elem{tag: root.Tag, path: "/" + root.Tag, own: []string{"interaction=" + root.Tag, rootNamespaceFact(root)}}
	for _, c := range comparedChildren(root) {
		if k := buildElem(c, "/"+root.Tag+"/"+c.Tag, keep, false); k != nil {
			t.kids = append(t.kids, k)
		}
	}
	t.order = tagOrder(t.kids)
	t.seal()
	return t, nil
}

// buildElem reads e (at path) and its children; nil when e is skipped.
// data says e is inside a released prescription (isData).
func buildElem(e *etree.Element, path string, keep map[string]bool, data bool) *elem {
	if skipped(e, path) {
		return nil
	}
	data = data || isData(e)
	x := &elem{tag: e.Tag, path: path, own: ownFacts(e, path, keep, data)}
	for _, c := range e.ChildElements() {
		if k := buildElem(c, path+"/"+c.Tag, keep, data); k != nil {
			x.kids = append(x.kids, k)
		}
	}
	if !sequenceTags[e.Tag] {
		x.order = tagOrder(x.kids)
	}
	x.seal()
	return x
}

// commonOrder is the tags of order that other has too, in order's order.
func commonOrder(order, other []string) []string {
	out := make([]string, 0, len(order))
	for _, t := range order {
		if slices.Contains(other, t) {
			out = append(out, t)
		}
	}
	return out
}

// tagOrder is the tags of kids (in document order), each where it first
// occurs.
func tagOrder(kids []*elem) []string {
	var out []string
	seen := map[string]bool{}
	for _, k := range kids {
		if !seen[k.tag] {
			seen[k.tag] = true
			out = append(out, k.tag)
		}
	}
	return out
}

// seal orders x's children by digest and computes x's digest over its tag,
// its own facts, the order of its children's tags and its children's
// digests (each length-prefixed).
func (x *elem) seal() {
	sort.Slice(x.kids, func(i, j int) bool { return string(x.kids[i].digest[:]) < string(x.kids[j].digest[:]) })
	h := sha256.New()
	var n [8]byte
	write := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	write(x.tag)
	for _, f := range x.own {
		write(f)
	}
	write(strings.Join(x.order, " "))
	for _, k := range x.kids {
		write(string(k.digest[:]))
	}
	h.Sum(x.digest[:0])
}

// facts returns every fact of x's subtree.
func (x *elem) facts(out []string) []string {
	out = append(out, x.own...)
	for _, k := range x.kids {
		out = k.facts(out)
	}
	return out
}

// compareTrees says how two answers read by readTree differ: empty when
// they are alike but for sibling order. Children are matched within their
// tag: alike ones first, the rest paired by the facts they share (weight),
// so that values moved from one element to another (a quantity from one
// line item to another) are differences, each said under its element's
// path.
func compareTrees(a, b *elem, nameA, nameB string) []string {
	var out []string
	diffElems(a, b, nameA, nameB, &out)
	sort.Strings(out)
	if len(out) > maxDifferences {
		out = append(out[:maxDifferences:maxDifferences], fmt.Sprintf("(%d more differences not listed)", len(out)-maxDifferences))
	}
	return out
}

// maxDifferences is how many differences a comparison lists; the rest are
// counted in a last line. An answer's differences are kept with its
// exchange in the journal and shown on its page: an answer unlike the
// other throughout (a route's broken answer of megabytes) would otherwise
// keep twenty times its size in difference lines.
const maxDifferences = 500

// maxPairing bounds the work of pairing unlike siblings by the facts they
// share (left × right); beyond it they are paired in digest order, in one
// pass.
const maxPairing = 4096

// diffElems adds the differences of a and b, elements at one path.
func diffElems(a, b *elem, nameA, nameB string, out *[]string) {
	if a.digest == b.digest {
		return
	}
	*out = append(*out, Diff(a.own, b.own, nameA, nameB)...)
	if oa, ob := commonOrder(a.order, b.order), commonOrder(b.order, a.order); !slices.Equal(oa, ob) {
		*out = append(*out, fmt.Sprintf("%s: order of the children: %s has %s, %s has %s", a.path,
			nameA, strings.Join(oa, " before "), nameB, strings.Join(ob, " before ")))
	}
	for _, g := range byTag(a.kids, b.kids) {
		la, lb := unlike(g[0], g[1])
		if len(la)*len(lb) > maxPairing {
			// Too many to weigh: paired in digest order, each once.
			n := min(len(la), len(lb))
			for i := range n {
				diffElems(la[i], lb[i], nameA, nameB, out)
			}
			la, lb = la[n:], lb[n:]
		}
		for len(la) > 0 && len(lb) > 0 {
			x := la[0]
			best := 0
			if len(lb) > 1 { // else there is no choice to weigh
				fx := count(x.facts(nil))
				score := -1
				for j, y := range lb {
					if s := shared(fx, y.facts(nil)); s > score {
						best, score = j, s
					}
				}
			}
			diffElems(x, lb[best], nameA, nameB, out)
			la, lb = la[1:], append(lb[:best:best], lb[best+1:]...)
		}
		for _, x := range la {
			*out = append(*out, Diff(x.facts(nil), nil, nameA, nameB)...)
		}
		for _, y := range lb {
			*out = append(*out, Diff(nil, y.facts(nil), nameA, nameB)...)
		}
	}
}

// byTag groups two lists of siblings by tag: for each tag (in order) the
// left ones and the right ones.
func byTag(a, b []*elem) [][2][]*elem {
	idx := map[string]int{}
	var groups [][2][]*elem
	var tags []string
	add := func(side int, l []*elem) {
		for _, x := range l {
			i, ok := idx[x.tag]
			if !ok {
				i = len(groups)
				idx[x.tag] = i
				groups = append(groups, [2][]*elem{})
				tags = append(tags, x.tag)
			}
			groups[i][side] = append(groups[i][side], x)
		}
	}
	add(0, a)
	add(1, b)
	order := make([]int, len(groups))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return tags[order[i]] < tags[order[j]] })
	out := make([][2][]*elem, len(groups))
	for i, o := range order {
		out[i] = groups[o]
	}
	return out
}

// unlike drops the elements alike on both sides (as many times as each
// side has them) and returns the rest of each.
func unlike(a, b []*elem) (la, lb []*elem) {
	left := map[[sha256.Size]byte]int{}
	for _, y := range b {
		left[y.digest]++
	}
	for _, x := range a {
		if left[x.digest] > 0 {
			left[x.digest]--
			continue
		}
		la = append(la, x)
	}
	for _, y := range b {
		if left[y.digest] > 0 {
			left[y.digest]--
			lb = append(lb, y)
		}
	}
	return la, lb
}

// shared weighs the facts of b that a (counted) also has: an identifier
// or a code (what says which thing an element is) weighs more than any
// other value, so that elements pair by what they are before what they
// say of it.
func shared(a map[string]int, b []string) int {
	n := 0
	used := map[string]int{}
	for _, f := range b {
		if used[f] < a[f] {
			used[f]++
			n += weight(f)
		}
	}
	return n
}

// identityWeight is how much more an identifier or a code weighs than
// another fact when siblings are paired.
const identityWeight = 16

// weight is a fact's weight in pairing. A part's position (positionAttr)
// weighs nothing: parts pair by what they say, so that a swap is said as
// the positions that differ.
func weight(f string) int {
	p := pathOf(f)
	if strings.HasSuffix(p, positionAttr) {
		return 0
	}
	for _, suffix := range []string{"@code", "@root", "@extension"} {
		if strings.HasSuffix(p, suffix) {
			return identityWeight
		}
	}
	return 1
}
