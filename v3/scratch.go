package v3

import (
	"bufio"
	"bytes"
	"strings"
	"sync"
	"unsafe"

	"github.com/beevik/etree"
)

// Reusing the trees' memory. Reading a message builds its tree (ReadXML)
// and a translation may write another to compare with (NewHolder): some
// hundred kilobytes a message, taken from slabs (see xmlScanner and
// docSlabs) that are garbage as soon as the translation returns. A Space
// keeps those slabs for the next message instead: the translation that
// takes a Space from a Scratch builds its trees in it and gives it back
// when nothing it returns refers to them any longer.

// Scratch lends Spaces and takes them back. It is safe for concurrent use;
// each Space is used by one translation at a time. It keeps the Spaces
// given back in a sync.Pool: lock-free for concurrent translations, and
// emptied by the garbage collector when they go unused, so an idle process
// does not hold what a busy one needed.
type Scratch struct{ pool sync.Pool }

// NewScratch returns an empty Scratch.
func NewScratch() *Scratch { return &Scratch{} }

// Get returns a Space to build one message's trees in: one given back
// before, or a new one. A nil Scratch gives a nil Space, with which every
// tree is made of fresh memory.
func (s *Scratch) Get() *Space {
	if s == nil {
		return nil
	}
	if sp, ok := s.pool.Get().(*Space); ok {
		return sp
	}
	return &Space{}
}

// Put takes back a Space that Get gave. Every tree built in it (its
// documents, elements, attributes, child lists and text tokens), the first
// message read in it (the names, values and text of its tree) and the
// element paths and Node lists of that message's Reader are then reused
// for another message, so the caller must hold none of them any longer: it
// copies what it returns (errors of a Reader made in a Space copy their
// paths themselves). Put of a nil Space does nothing.
func (s *Scratch) Put(sp *Space) {
	if s == nil || sp == nil {
		return
	}
	sp.reset()
	s.pool.Put(sp)
}

// Space is the memory one translation builds its trees in (see Scratch).
// The zero Space is ready to use; a nil *Space makes every tree of fresh
// memory.
type Space struct {
	read  readSlabs // where Parse reads the next tree into
	build docSlabs  // where NewHolder's trees take their elements from
	// copies are where ShallowCopy makes its copies (no texts): slabs of
	// their own, not read's, which readInto sizes for the message alone,
	// so that copies made after reading do not spill out of them (reset
	// would then make them twice as large: a release response's path
	// copies left about half of its read slabs unused).
	copies readSlabs
	// src holds the message Parse read (the tree's names, values and text
	// are views of it) and paths the element paths of its Reader, while
	// reader is that Reader: both are the Space's for one message only.
	src, paths []byte
	reader     *Reader
	// nodes is the slab of that Reader's Node lists (see nodeList).
	nodes []Node
	// first are the slabs read and build started from at the last reset:
	// the ones kept for the next message.
	first struct {
		read   readSlabs
		copies readSlabs
		build  docSlabs
		docs   []etree.Document
	}
	// out and w are what Bytes writes a document through.
	out bytes.Buffer
	w   *bufio.Writer
	// written is the buffer WriteInSpace gives a writer of the Space's
	// documents.
	written []byte
	// docs is the slab of the documents NewDocument and NewHolder make
	// (recycled as the trees' slabs are: a release response makes one a
	// prescription).
	docs []etree.Document
	// lent is the room Lend lends (space_lend.go).
	lent []byte
	// verify is the Verifier Verify gives (builder_verify.go).
	verify Verifier
	// companion is the memory another package keeps with the Space
	// (space_companion.go).
	companion Companion
}

// readSlabs are the slabs a document is read into (see xmlScanner).
type readSlabs struct {
	elems []etree.Element
	texts []etree.CharData
	attrs []etree.Attr
	kids  []etree.Token
}

// reset readies the Space for another message: each slab a tree started
// from is cleared where it was used (so nothing of the last message stays
// reachable through it), or, when the message went on to further slabs,
// replaced by a larger one, so that a message like it fits in one.
//
// The clearing is a plain memclr except while the collector marks, when
// every pointer cleared is shaded first (bulkBarrierPreWrite): in a loop of
// translations pinned to one core, which never blocks, the mark phase
// lasts until the loop is preempted and that is a tenth of the
// translation's time. Leaving the used part for the next message to
// overwrite would not save that work (the write barrier shades each
// stale pointer as it is overwritten) and would keep the last message
// reachable meanwhile (tried in 1703023, reverted in 1f519fe); fresh slabs
// each message would triple the bytes allocated, and with them the
// collections.
func (sp *Space) reset() {
	r, fr := &sp.read, &sp.first.read
	r.elems = recycle(fr.elems, r.elems)
	r.texts = recycle(fr.texts, r.texts)
	r.attrs = recycle(fr.attrs, r.attrs)
	r.kids = recycle(fr.kids, r.kids)
	b, fb := &sp.build, &sp.first.build
	b.owner = nil
	b.elems = recycle(fb.elems, b.elems)
	b.attrs = recycle(fb.attrs, b.attrs)
	b.kids = recycle(fb.kids, b.kids)
	b.texts = recycle(fb.texts, b.texts)
	c, fc := &sp.copies, &sp.first.copies
	c.elems = recycle(fc.elems, c.elems)
	c.attrs = recycle(fc.attrs, c.attrs)
	c.kids = recycle(fc.kids, c.kids)
	sp.first.read, sp.first.copies, sp.first.build = *r, *c, *b
	sp.docs = recycle(sp.first.docs, sp.docs)
	sp.first.docs = sp.docs
	if sp.reader != nil {
		sp.paths = reuseBytes(sp.paths, sp.reader.paths.buf)
		sp.nodes = recycle(sp.nodes, sp.reader.nodes)
		sp.reader = nil
	}
	sp.src = sp.src[:0]
	if sp.out.Cap() > maxKeptOut {
		sp.out = bytes.Buffer{} // a large document's buffer is not kept for every message
	}
	if cap(sp.written) > maxKeptOut {
		sp.written = nil
	}
	sp.lent = relend(sp.lent)
	if sp.companion != nil {
		sp.companion.Reset()
	}
}

// maxKeptOut bounds the buffer a Space keeps for Bytes between messages.
const maxKeptOut = 64 << 10

// Bytes is Bytes writing through the Space's buffers: the document's bytes
// are then its only allocation (Bytes makes a 4 KiB write buffer and grows
// its output from nothing: an acknowledgement of 2.5 KB took 7.6 KB). The
// result is the caller's own and stays valid after Put.
func (sp *Space) Bytes(doc *etree.Document) []byte {
	if sp == nil {
		return Bytes(doc)
	}
	doc.Indent(2)
	sp.out.Reset()
	if sp.w == nil {
		sp.w = bufio.NewWriter(&sp.out)
	} else {
		sp.w.Reset(&sp.out)
	}
	for _, c := range doc.Child { // as doc.WriteTo writes it
		c.WriteTo(sp.w, &doc.WriteSettings)
	}
	_ = sp.w.Flush() // a bytes.Buffer takes every write
	sp.w.Reset(nil)
	return bytes.Clone(sp.out.Bytes())
}

// WriteInSpace returns the bytes write appends to buf, in memory of their
// own: buf is the emptied write buffer of the Space doc was built in (see
// Space.NewDocument), which keeps their room for its next document (up to
// 64 KiB), so that a writer need not size its output first. buf is nil
// for the Space's first document (the writer sizes the buffer the Space
// keeps) and for a document not built in a Space, or whose Space has since
// been given another: write's own result is then returned.
func WriteInSpace(doc *etree.Document, write func(buf []byte) []byte) []byte {
	sp := spaceOf(doc)
	if sp == nil {
		return write(nil)
	}
	out := write(sp.written[:0])
	sp.written = out[:0]
	return bytes.Clone(out)
}

// spaceOf returns the Space doc was built in while its slabs are still
// doc's, else nil.
func spaceOf(doc *etree.Document) *Space {
	if s := slabsOf(&doc.Element); s != nil {
		return s.space
	}
	return nil
}

// reuseBytes is recycle for a byte slab, which holds no pointers and need
// not be cleared.
func reuseBytes(first, cur []byte) []byte {
	if cap(first) > 0 && unsafe.SliceData(first) == unsafe.SliceData(cur) {
		return first[:0]
	}
	return make([]byte, 0, 2*max(cap(first), cap(cur)))
}

// source returns the message as the string a tree is read from: a copy
// in the Space, the first time in a message (a later document read in the
// same message, or a nil Space, gets a copy of its own).
func (sp *Space) source(data []byte) string {
	if sp == nil || len(sp.src) > 0 || len(data) == 0 {
		return string(data)
	}
	sp.src = append(sp.src[:0], data...)
	return unsafe.String(&sp.src[0], len(sp.src))
}

// lendPaths gives r the Space's path buffer and Node slab, the first
// Reader in a message (a later one makes its paths and lists in memory of
// its own), and marks r
// as lent: its errors then copy the paths and names they hold.
func (sp *Space) lendPaths(r *Reader) {
	if sp == nil {
		return
	}
	r.lent = true
	r.interaction = strings.Clone(r.interaction)
	if sp.reader == nil {
		sp.reader = r
		r.paths.buf = sp.paths[:0]
		r.nodes = sp.nodes[:0]
	}
}

// recycle returns the slab to start the next message from, given first,
// the slab this one started from, and cur, the slab it stopped in: first
// emptied, with its used part cleared, when cur is first; otherwise (the
// message needed more) a new slab twice the size of the larger.
func recycle[T any](first, cur []T) []T {
	if cap(first) > 0 && unsafe.SliceData(first) == unsafe.SliceData(cur) {
		clear(cur)
		return first[:0]
	}
	if n := max(cap(first), cap(cur)); n > 0 {
		return make([]T, 0, 2*n)
	}
	return nil
}

// readInto returns the slabs to read a document of about the given
// numbers of elements, text runs, attributes and child tokens into: the
// Space's, made larger first where they have less room, or (for a nil
// Space) new ones.
func (sp *Space) readInto(elems, texts, attrs, kids int) readSlabs {
	if sp == nil {
		return readSlabs{
			elems: make([]etree.Element, 0, elems),
			texts: make([]etree.CharData, 0, texts),
			attrs: make([]etree.Attr, 0, attrs),
			kids:  make([]etree.Token, 0, kids),
		}
	}
	r := &sp.read
	r.elems = room(&sp.first.read.elems, r.elems, elems)
	r.texts = room(&sp.first.read.texts, r.texts, texts)
	r.attrs = room(&sp.first.read.attrs, r.attrs, attrs)
	r.kids = room(&sp.first.read.kids, r.kids, kids)
	return *r
}

// room returns cur when it has room for n more items, else a new slab of
// n, which becomes first (the slab kept) when nothing was taken from first
// yet.
func room[T any](first *[]T, cur []T, n int) []T {
	if cap(cur)-len(cur) >= n {
		return cur
	}
	s := make([]T, 0, n)
	if len(cur) == 0 && unsafe.SliceData(cur) == unsafe.SliceData(*first) {
		*first = s
	}
	return s
}

// readDone records where reading stopped in the Space's slabs.
func (sp *Space) readDone(r readSlabs) {
	if sp != nil {
		sp.read = r
	}
}

// Parse is Parse reading the document into the Space.
func (sp *Space) Parse(data []byte) (*Reader, Node, error) {
	return parse(data, sp)
}

// NewHolder is NewHolder whose tree takes its elements from the Space:
// only until the Space is given back (see Scratch.Put). A later NewHolder
// of the same Space takes the Space's slabs over from it (the earlier
// tree, complete by then, stays valid until Put).
func (sp *Space) NewHolder(tag string) *etree.Element {
	if sp == nil {
		return NewHolder(tag)
	}
	doc := sp.document()
	return Add(&doc.Element, tag)
}

// NewDocument is NewDocument whose tree takes its elements from the Space,
// as NewHolder's does, and the document too: only until the Space is
// given back.
func (sp *Space) NewDocument(rootTag string) (*etree.Document, *etree.Element) {
	if sp == nil {
		return NewDocument(rootTag)
	}
	doc := sp.document()
	return doc, startDocument(doc, rootTag)
}

// document returns an empty document (as etree.NewDocument makes it) of
// the Space's memory, started with the Space's slabs (see docSlabs.start):
// it too is the Space's only until Put.
func (sp *Space) document() *etree.Document {
	doc := slabNew(&sp.docs, spaceDocs)
	sp.build.space = sp
	sp.build.start(doc)
	return doc
}

// spaceDocs is the size of a Space's first slab of documents, and of each
// further one a message takes: a message makes one or two, a release
// response one a prescription (reset then keeps a slab for them all).
const spaceDocs = 4

// ShallowCopy returns a new element with el's name and attributes whose
// children are el's own tokens, shared, not copied (each still names el
// as its parent), as a reader of a tree that differs from one read only
// along a path makes it: etree.NewElement with el's name, its attributes
// created in order, its children appended. It is made in the Space's
// slabs of copies (its element, attribute list and child list taken from
// them; the next message's reset recycles them as it does the read slabs,
// so that a message's copies cost no allocation once a Space has seen one
// like it) and is the Space's only until Put; a nil Space makes it of
// fresh memory.
func (sp *Space) ShallowCopy(el *etree.Element) *etree.Element {
	var cp *etree.Element
	if sp == nil {
		cp = etree.NewElement("")
		cp.Attr = make([]etree.Attr, 0, len(el.Attr))
		cp.Child = make([]etree.Token, 0, len(el.Child))
	} else {
		c := &sp.copies
		cp = slabNew(&c.elems, 0)
		f := (*elementFields)(unsafe.Pointer(cp))
		f.index = -1 // as etree.NewElement makes it
		cp.Attr = SlabSlice(&c.attrs, len(el.Attr), 0)
		cp.Child = SlabSlice(&c.kids, len(el.Child), 0)
	}
	cp.Space, cp.Tag = el.Space, el.Tag
	for _, a := range el.Attr {
		cp.CreateAttr(a.FullKey(), a.Value)
	}
	cp.Child = append(cp.Child, el.Child...)
	return cp
}
