package v3

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"unsafe"

	"github.com/beevik/etree"
)

// Reader walks a parsed v3 document and remembers every problem it meets
// (one per path, at most maxErrors), so mapping code can read a message
// top-down and check Err once at the end, and the sender learns every
// refusal at once. A Reader is not safe for concurrent use.
type Reader struct {
	interaction string
	errs        []*Error
	paths       pathArena
	// lent tells a Reader made in a Space, whose paths (and tree) are
	// reused after the message: its errors hold copies.
	lent bool
	// noEmptyAttr tells that Parse's scanner read the whole document and
	// met no attribute with an empty value.
	noEmptyAttr bool
	// nodes is the slab All and Elements take their lists from (see
	// nodeList).
	nodes []Node
	// from, for a Reader made by Sub, is the Reader whose path arena and
	// Node slab it uses instead of its own.
	from *Reader
	// hand tells a Reader made for the children of a Node made by hand
	// (without a Reader) to keep their paths: it records no problem and
	// its Nodes' Reader is nil, as a hand Node's was.
	hand bool
}

// nodeChunk is the size of a slab of Nodes: more than most messages list.
const nodeChunk = 32

// nodeList returns an empty list with room for exactly n Nodes, taken from
// r's slab (appending beyond n reallocates, leaving the slab alone): one
// allocation for a message's lists instead of one a list. The lists are
// the message's, as the Nodes in them are (see Scratch.Put).
func (r *Reader) nodeList(n int) []Node {
	if r == nil {
		return make([]Node, 0, n)
	}
	if r.from != nil {
		r = r.from
	}
	if cap(r.nodes)-len(r.nodes) < n {
		r.nodes = make([]Node, 0, max(n, nodeChunk))
	}
	k := len(r.nodes)
	r.nodes = r.nodes[:k+n]
	return r.nodes[k : k : k+n]
}

// MayHoldEmptyAttr reports whether the document r reads may have an
// attribute whose value is empty: false only when Parse read it with its
// scanner and met none, so a check for one need not walk the tree.
func (r *Reader) MayHoldEmptyAttr() bool { return r == nil || !r.noEmptyAttr }

// maxErrors bounds the problems a Reader keeps: a message wrong from its
// root would otherwise report each of its elements.
const maxErrors = 100

// Node is one element reached through a Reader, with its element path
// (Path). The zero Node stands for an element that is absent; reading from
// it yields empty values (and, for required reads, the error was already
// recorded).
type Node struct {
	El *etree.Element
	r  *Reader
	// at is where the node's step (its tag, index and parent's step) is
	// kept in r's path arena, plus one; 0 for the path "". The path
	// itself is made only when asked for (Path): nearly every one is
	// needed only for a problem, and most messages have none.
	at uint32
}

// Path returns the node's element path, e.g. /PORX_IN020101UK31/a/b[2]/c:
// the steps from its Reader's root, each with its 1-based index among its
// like-named siblings when it was reached through All among more than one.
// The path is made each time it is asked for, in the Reader's memory (for a
// Reader made in a Space, valid until the Space is given back, as the tree
// is); "" for the zero Node.
func (n Node) Path() string {
	if n.at == 0 {
		return ""
	}
	return n.r.arena().path(n.at)
}

// Parse reads a v3 document from bytes (with ReadXML) and returns a Reader
// and the root Node. The root element's local name becomes the Reader's
// interaction name. Elements written with a prefix for the v3 namespace
// (hl7:) are read as if written in the default namespace, as Spine and the
// EPS API write them; comments and processing instructions are skipped by
// every Node method.
func Parse(data []byte) (*Reader, Node, error) { return parse(data, nil) }

// parse is Parse reading into sp (nil: fresh memory).
func parse(data []byte, sp *Space) (*Reader, Node, error) {
	doc, notes, err := readXMLPrefixed(data, sp)
	if err != nil {
		return nil, Node{}, &Error{Path: "/", Msg: fmt.Sprintf("not well-formed XML: %v", err)}
	}
	root := doc.Root()
	if root == nil {
		return nil, Node{}, &Error{Path: "/", Msg: "no root element"}
	}
	if ns := root.NamespaceURI(); ns != Namespace {
		return nil, Node{}, &Error{Interaction: strings.Clone(root.Tag), Path: "/" + root.Tag, Msg: fmt.Sprintf("namespace %q, want %q", ns, Namespace)}
	}
	if notes.prefixed { // else no element has a prefix to take off
		unprefixMarked(root, notes.marked)
	}
	r := &Reader{interaction: root.Tag, noEmptyAttr: !notes.emptyAttr}
	sp.lendPaths(r)
	return r, Node{El: root, r: r, at: r.paths.step(0, root.Tag, 0)}, nil
}

// NewReader returns a Reader for an element already parsed elsewhere (for
// example a payload inside a larger document), with its path starting at
// the element's own tag.
func NewReader(interaction string, el *etree.Element) (*Reader, Node) {
	r := &Reader{interaction: interaction}
	return r, Node{El: el, r: r, at: r.paths.step(0, el.Tag, 0)}
}

// rootAt returns a Node of r for el whose path is path as given (a root's:
// the Node's children's paths extend it).
func (r *Reader) rootAt(el *etree.Element, path string) Node {
	if path == "" {
		return Node{El: el, r: r}
	}
	return Node{El: el, r: r, at: r.arena().literal(path)}
}

// Sub returns a Reader for an element already parsed (as NewReader does:
// its paths start at the element's own tag, its problems are its own)
// that makes its element paths and node lists in r's memory instead of
// memory of its own: a message read part by part, each part with a
// Reader of its own (a release response's prescriptions), then makes them
// all in one buffer, which a Reader of a Space keeps from message to
// message. The Readers may be used one after the other or in turn, not at
// once.
func (r *Reader) Sub(interaction string, el *etree.Element) (*Reader, Node) {
	from := r
	if r.from != nil {
		from = r.from
	}
	sub := &Reader{interaction: interaction, from: from, lent: r.lent}
	return sub, Node{El: el, r: sub, at: from.paths.step(0, el.Tag, 0)}
}

// arena returns the path arena r makes its paths in.
func (r *Reader) arena() *pathArena {
	if r.from != nil {
		return &r.from.paths
	}
	return &r.paths
}

// Err returns nil when no problem was met, the *Error when there was one,
// and an ErrorList of every problem, in the order met, when there were
// more (errors.As finds the first).
func (r *Reader) Err() error {
	switch len(r.errs) {
	case 0:
		return nil
	case 1:
		return r.errs[0]
	}
	return ErrorList(r.errs)
}

// Failed reports whether a problem has been recorded.
func (r *Reader) Failed() bool { return len(r.errs) > 0 }

// Interaction returns the interaction name the Reader reports errors under.
func (r *Reader) Interaction() string { return r.interaction }

// Fail records a problem at a path, unless one is already recorded there
// (or maxErrors are).
func (r *Reader) Fail(path, format string, args ...any) {
	r.FailRule(path, "", format, args...)
}

// FailRule is Fail naming the MIM rule broken (v3.RuleCardinality...).
func (r *Reader) FailRule(path, rule, format string, args ...any) {
	if len(r.errs) >= maxErrors || r.hand {
		return
	}
	for _, e := range r.errs {
		if e.Path == path {
			return
		}
	}
	if r.lent {
		path = strings.Clone(path)
	}
	r.errs = append(r.errs, &Error{Interaction: r.interaction, Path: path, Msg: fmt.Sprintf(format, args...), Rule: rule})
}

// Reader returns the Reader the node was reached through (nil for a node
// made by hand).
func (n Node) Reader() *Reader {
	if n.r != nil && n.r.hand {
		return nil
	}
	return n.r
}

// stepper returns the Reader n's children are reached through: n's, or for
// a node made by hand a Reader that only keeps their paths (see hand).
func (n Node) stepper() *Reader {
	if n.r != nil {
		return n.r
	}
	return &Reader{hand: true}
}

// Exists reports whether the node stands for a present element.
func (n Node) Exists() bool { return n.El != nil }

// Fail records a problem at this node's path.
func (n Node) Fail(format string, args ...any) {
	if n.r != nil {
		n.r.Fail(n.Path(), format, args...)
	}
}

// FailAttr records a problem at the path of this node's attribute name
// (…/@name).
func (n Node) FailAttr(name, format string, args ...any) {
	if n.r != nil {
		n.r.Fail(n.Path()+"/@"+name, format, args...)
	}
}

// Child returns the first child element with the given local name; a missing
// one is recorded as an error.
func (n Node) Child(tag string) Node {
	c := n.Opt(tag)
	if !c.Exists() && n.Exists() {
		c.r.FailRule(c.Path(), RuleCardinality, "missing mandatory element")
	}
	return c
}

// Opt returns the first child element with the given local name, or the
// zero-element Node (Exists false) when there is none.
func (n Node) Opt(tag string) Node {
	var c *etree.Element
	if n.El != nil {
		c = firstChild(n.El.Child, tag)
	}
	r := n.r
	if r == nil {
		r = n.stepper()
	}
	return Node{El: c, r: r, at: r.arena().step(n.at, tag, 0)}
}

// firstChild returns the first element among tokens whose local name is
// tag, or nil: Opt's loop. A tag of 4 to 16 bytes is compared as the two
// words that cover it (overlapping, every load within the strings), read
// from tag once: a call to compare, as c.Tag == tag makes for two names
// of one length, had the scan save what it holds in registers and load
// it again, for nearly every element Opt finds.
func firstChild(tokens []etree.Token, tag string) *etree.Element {
	n := len(tag)
	switch {
	case n >= 8 && n <= 16:
		first, last := load64(tag, 0), load64(tag, n-8)
		for _, t := range tokens {
			if c, ok := t.(*etree.Element); ok && len(c.Tag) == n && load64(c.Tag, 0) == first && load64(c.Tag, n-8) == last {
				return c
			}
		}
	case n >= 4 && n < 8:
		first, last := load32(tag, 0), load32(tag, n-4)
		for _, t := range tokens {
			if c, ok := t.(*etree.Element); ok && len(c.Tag) == n && load32(c.Tag, 0) == first && load32(c.Tag, n-4) == last {
				return c
			}
		}
	default:
		for _, t := range tokens {
			if c, ok := t.(*etree.Element); ok && len(c.Tag) == n && c.Tag == tag {
				return c
			}
		}
	}
	return nil
}

// load64 is the 8 bytes of s at i (i+8 <= len(s)): one load where the
// machine allows it.
func load64(s string, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), i)), 8))
}

// load32 is the 4 bytes of s at i (i+4 <= len(s)), as load64.
func load32(s string, i int) uint32 {
	return binary.LittleEndian.Uint32(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), i)), 4))
}

// All returns every child element with the given local name, in document order.
// Paths carry a 1-based index when there is more than one.
func (n Node) All(tag string) []Node {
	if n.El == nil {
		return nil
	}
	// One pass finds the first and counts the others; the second starts
	// at the first, and a tag that occurs once (a party's telecom, its
	// address) needs none.
	first, count := -1, 0
	for i, t := range n.El.Child {
		if c, ok := t.(*etree.Element); ok && len(c.Tag) == len(tag) && c.Tag == tag {
			if count++; count == 1 {
				first = i
			}
		}
	}
	if count == 0 {
		return nil
	}
	r := n.stepper()
	a := r.arena()
	out := r.nodeList(count)
	if count == 1 {
		return append(out, Node{El: n.El.Child[first].(*etree.Element), r: r, at: a.step(n.at, tag, 0)})
	}
	for _, t := range n.El.Child[first:] {
		if c, ok := t.(*etree.Element); ok && len(c.Tag) == len(tag) && c.Tag == tag {
			out = append(out, Node{El: c, r: r, at: a.step(n.at, tag, len(out)+1)})
		}
	}
	return out
}

// Elements returns every child element in document order.
func (n Node) Elements() []Node {
	if n.El == nil {
		return nil
	}
	count := 0
	for _, t := range n.El.Child {
		if _, ok := t.(*etree.Element); ok {
			count++
		}
	}
	r := n.stepper()
	a := r.arena()
	out := r.nodeList(count)
	for _, t := range n.El.Child {
		if c, ok := t.(*etree.Element); ok {
			out = append(out, Node{El: c, r: r, at: a.step(n.at, c.Tag, 0)})
		}
	}
	return out
}

// MsgRepeated is the problem recorded for a second occurrence of an
// element the model allows once.
const MsgRepeated = "element repeated (the model allows one)"

// AtMost records, with the cardinality rule, the occurrence of a child
// element tag beyond the max the model allows (at its indexed path, e.g.
// …/author1[3]), so that a reader taking the first never drops the others
// unsaid: the schema, and Spine with it, refuses such a message. Paths are
// made only for a problem.
func (n Node) AtMost(max int, tag string) {
	if n.El == nil || n.r == nil {
		return
	}
	seen := 0
	for _, t := range n.El.Child {
		if c, ok := t.(*etree.Element); ok && c.Tag == tag {
			if seen++; seen > max {
				msg := MsgRepeated
				if max > 1 {
					msg = fmt.Sprintf("element repeated (the model allows %d)", max)
				}
				n.r.FailRule(n.childPath(tag, seen), RuleCardinality, "%s", msg)
				return
			}
		}
	}
}

// Once is AtMost(1, tag) for each of tags, told in one pass over the
// children (AtMost took one a tag), the problems recorded in the order of
// tags as before.
func (n Node) Once(tags ...string) {
	if n.El == nil || n.r == nil {
		return
	}
	var counts [32]uint8
	if len(tags) > len(counts) {
		for _, tag := range tags {
			n.AtMost(1, tag)
		}
		return
	}
	for _, t := range n.El.Child {
		c, ok := t.(*etree.Element)
		if !ok {
			continue
		}
		for i, tag := range tags {
			if len(tag) == len(c.Tag) && tag == c.Tag {
				if counts[i] < 2 {
					counts[i]++
				}
				break // a tag named twice is counted at its first: its second report would be the same
			}
		}
	}
	for i, tag := range tags {
		if counts[i] > 1 {
			n.r.FailRule(n.childPath(tag, 2), RuleCardinality, "%s", MsgRepeated)
		}
	}
}

// NonEmptyAttr returns a mandatory attribute's value; a missing or empty
// one is an error.
func (n Node) NonEmptyAttr(name string) string {
	v := n.Attr(name)
	if v == "" && n.HasAttr(name) {
		n.r.Fail(n.Path()+"/@"+name, "empty value")
	}
	return v
}

// Attr returns a mandatory attribute's value; a missing one is an error.
func (n Node) Attr(name string) string {
	if n.El == nil {
		return ""
	}
	a := selectAttr(n.El, name)
	if a == nil {
		n.r.FailRule(n.Path()+"/@"+name, RuleCardinality, "missing mandatory attribute")
		return ""
	}
	return a.Value
}

// OptAttr returns an attribute's value, or "" when absent.
func (n Node) OptAttr(name string) string {
	if n.El == nil {
		return ""
	}
	if a := selectAttr(n.El, name); a != nil {
		return a.Value
	}
	return ""
}

// HasAttr reports whether the attribute is present.
func (n Node) HasAttr(name string) bool {
	return n.El != nil && selectAttr(n.El, name) != nil
}

// selectAttr is el.SelectAttr(name): the first attribute named name (a
// name without prefix matches any prefix), found without copying each
// attribute it passes as etree's loop does.
func selectAttr(el *etree.Element, name string) *etree.Attr {
	space, key := "", name
	if colon := strings.IndexByte(name, ':'); colon >= 0 {
		space, key = name[:colon], name[colon+1:]
	}
	for i := range el.Attr {
		if a := &el.Attr[i]; a.Key == key && (space == "" || space == a.Space) {
			return a
		}
	}
	return nil
}

// Text returns the element's character data.
func (n Node) Text() string {
	return ElementText(n.El)
}

// ElementText is the character data of el before its first child element,
// as XML reads it: the text runs on either side of a comment or a
// processing instruction are one text (etree's Element.Text stops at a
// processing instruction, which cut a legacy sender's dosage text short).
// "" for a nil element.
func ElementText(el *etree.Element) string {
	if el == nil {
		return ""
	}
	var first string
	var b strings.Builder
	n := 0
	for _, ch := range el.Child {
		switch t := ch.(type) {
		case *etree.CharData:
			if n++; n == 1 {
				first = t.Data
				continue
			}
			if n == 2 {
				b.WriteString(first)
			}
			b.WriteString(t.Data)
		case *etree.Comment, *etree.ProcInst:
		default:
			return joinedText(n, first, &b)
		}
	}
	return joinedText(n, first, &b)
}

func joinedText(n int, first string, b *strings.Builder) string {
	if n > 1 {
		return b.String()
	}
	return first
}

// Value returns the mandatory @value attribute.
func (n Node) Value() string { return n.Attr("value") }

// XML serialises the element (and its subtree) as it stands.
func (n Node) XML() []byte {
	if n.El == nil {
		return nil
	}
	doc := etree.NewDocument()
	doc.SetRoot(n.El.Copy())
	var buf bytes.Buffer
	doc.WriteSettings.CanonicalEndTags = false
	_, _ = doc.WriteTo(&buf)
	return buf.Bytes()
}

// childPath returns the path of a child element: this node's path, the
// tag and, when index is above 0, the 1-based index in brackets.
func (n Node) childPath(tag string, index int) string {
	a := n.stepper().arena()
	return a.path(a.step(n.at, tag, index))
}

// pathArena keeps the steps of a Reader's element paths (each a tag, an
// index and where its parent's step is) and the paths made of them when
// asked for, in one buffer: a Node holds only where its step is, and a
// path is made only for a problem, where making one for each Node cost a
// copy of its parent's path for most of them.
//
// A step is stepHead bytes (its parent's place plus one, 0 for none; its
// index, or literalStep for a path kept as given; the length of its tag)
// then its tag. The buffer is only ever appended to within its capacity,
// so the strings handed out stay as they are; when it is full its bytes
// are copied into a larger one (steps are told by place, not pointer).
type pathArena struct {
	buf []byte
}

// pathChunk is the size of a path arena's first buffer.
const pathChunk = 4 << 10

// stepHead is the size of a step's head; literalStep the index of a step
// that is a path as given (see literal).
const (
	stepHead    = 12
	literalStep = ^uint32(0)
)

// step keeps the step of a child named tag (with index when above 0)
// under the node whose step is at parent (0: the path "") and returns its
// place. Only the length of buf is stored back, and no pointer: a pointer
// stored in the Reader (on the heap) costs a write barrier check each
// time, and a write barrier while the collector marks. The bytes are
// written through a pointer to buf's array: the room was checked once,
// before.
func (a *pathArena) step(parent uint32, tag string, index int) uint32 {
	n, t := len(a.buf), len(tag)
	if cap(a.buf)-n < stepHead+t {
		a.grow(stepHead + t)
	}
	at := unsafe.Add(unsafe.Pointer(unsafe.SliceData(a.buf)), n)
	head := (*[stepHead]byte)(at)
	binary.LittleEndian.PutUint64(head[:8], uint64(parent)|uint64(uint32(index))<<32)
	binary.LittleEndian.PutUint32(head[8:], uint32(t))
	// A tag of 4 to 16 bytes is written as the two words that cover it
	// (overlapping, as firstChild reads them), without a call to memmove
	// and the saving of registers around it.
	switch at := unsafe.Add(at, stepHead); {
	case t >= 8 && t <= 16:
		*(*[8]byte)(at) = [8]byte(unsafe.Slice(unsafe.StringData(tag), 8))
		*(*[8]byte)(unsafe.Add(at, t-8)) = [8]byte(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(tag)), t-8)), 8))
	case t >= 4 && t < 8:
		*(*[4]byte)(at) = [4]byte(unsafe.Slice(unsafe.StringData(tag), 4))
		*(*[4]byte)(unsafe.Add(at, t-4)) = [4]byte(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(tag)), t-4)), 4))
	default:
		copy(unsafe.Slice((*byte)(at), t), tag)
	}
	a.buf = a.buf[:n+stepHead+t]
	return uint32(n) + 1
}

// literal keeps path as a step of its own, with no parent, and returns its
// place: the path of a root given whole.
func (a *pathArena) literal(path string) uint32 {
	at := a.step(0, path, 0)
	binary.LittleEndian.PutUint32(a.buf[at-1+4:], literalStep)
	return at
}

// grow makes room for need more bytes: a buffer twice the size (at least
// pathChunk), holding buf's bytes.
func (a *pathArena) grow(need int) {
	b := make([]byte, len(a.buf), max(pathChunk, 2*cap(a.buf), len(a.buf)+need))
	copy(b, a.buf)
	a.buf = b
}

// stepAt returns the step at place at: its parent's place, its index and
// its tag's bytes.
func (a *pathArena) stepAt(at uint32) (parent, index uint32, tag []byte) {
	head := a.buf[at-1 : at-1+stepHead]
	parent = binary.LittleEndian.Uint32(head)
	index = binary.LittleEndian.Uint32(head[4:])
	t := binary.LittleEndian.Uint32(head[8:])
	return parent, index, a.buf[at-1+stepHead : at-1+stepHead+t]
}

// path makes the path of the step at place at (not 0): each step from the
// root's, "/" and its tag, then "[index]" when its index is above 0 (a
// literal step's path as it is).
func (a *pathArena) path(at uint32) string {
	size := 0
	for p := at; p != 0; {
		parent, index, tag := a.stepAt(p)
		switch {
		case index == literalStep:
			size += len(tag)
		case index > 0:
			size += 1 + len(tag) + 2 + decimalDigits(index)
		default:
			size += 1 + len(tag)
		}
		p = parent
	}
	if size == 0 {
		return ""
	}
	if cap(a.buf)-len(a.buf) < size {
		a.grow(size)
	}
	n := len(a.buf)
	a.buf = a.buf[:n+size]
	out, end := a.buf[n:n+size], size
	for p := at; p != 0; {
		parent, index, tag := a.stepAt(p)
		if index == literalStep {
			end -= copy(out[end-len(tag):end], tag)
			p = parent
			continue
		}
		if index > 0 {
			end--
			out[end] = ']'
			for v := index; ; v /= 10 {
				end--
				out[end] = byte('0' + v%10)
				if v < 10 {
					break
				}
			}
			end--
			out[end] = '['
		}
		end -= copy(out[end-len(tag):end], tag)
		end--
		out[end] = '/'
		p = parent
	}
	return unsafe.String(&out[0], size)
}

// decimalDigits is the number of decimal digits of v.
func decimalDigits(v uint32) int {
	n := 1
	for ; v >= 10; v /= 10 {
		n++
	}
	return n
}
