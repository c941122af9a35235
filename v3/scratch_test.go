package v3

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"unsafe"
	"weak"

	"github.com/beevik/etree"
	"github.com/porxgate/porxgate/internal/racetest"
)

// serialise writes a document as etree writes it, and checks on the way
// that every token's parent and index are where the tree holds it.
func serialise(t *testing.T, doc *etree.Document) string {
	t.Helper()
	return serialiseElement(t, &doc.Element)
}

// serialiseElement is serialise for an element and its subtree.
func serialiseElement(t *testing.T, top *etree.Element) string {
	t.Helper()
	s, err := writeTree(top)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeTree writes an element's children as etree writes them, or says
// which token's parent, index or attribute is not where the tree holds it.
func writeTree(top *etree.Element) (string, error) {
	var check func(e *etree.Element) error
	check = func(e *etree.Element) error {
		for i, tok := range e.Child {
			if tok.Parent() != e || tok.Index() != i {
				return fmt.Errorf("token %d of <%s>: parent <%v>, index %d", i, e.Tag, tok.Parent(), tok.Index())
			}
			if c, ok := tok.(*etree.Element); ok {
				for _, a := range c.Attr {
					if a.Element() != c {
						return fmt.Errorf("attribute %s of <%s> belongs to another element", a.Key, c.Tag)
					}
				}
				if err := check(c); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := check(top); err != nil {
		return "", err
	}
	var b bytes.Buffer
	for _, tok := range top.Child {
		tok.WriteTo(&b, &etree.WriteSettings{})
	}
	return b.String(), nil
}

// scratchDocs are documents of different sizes and shapes: a whole
// message, a small one, one the scanner decodes references in, one with
// CDATA and one it leaves to etree's reader (a DOCTYPE).
func scratchDocs(t *testing.T) [][]byte {
	t.Helper()
	big, err := os.ReadFile(filepath.Join("..", "testdata", "prescribe", "signed-variants", "base.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{
		big,
		[]byte(`<a xmlns="urn:hl7-org:v3"><b c="1">x</b><d/></a>`),
		[]byte("<?xml version=\"1.0\"?>\n<r x='&lt;&#x41;'>\r\n  <s>t &amp; u</s><!-- c --><?p q?></r>"),
		[]byte(`<r><s><![CDATA[<not markup>]]></s><t a="b"/></r>`),
		[]byte(`<!DOCTYPE r><r><s>x</s><t a="b"/></r>`),
		big,
	}
}

// freshReadings returns each document read into fresh memory, serialised.
func freshReadings(t *testing.T, docs [][]byte) []string {
	t.Helper()
	want := make([]string, len(docs))
	for i, d := range docs {
		doc, err := ReadXML(d)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = serialise(t, doc)
	}
	return want
}

// TestSpaceReadsAsFresh reads documents one after another into one Space,
// given back between messages, and two into it within one message: each
// tree must be the tree read into fresh memory, and a tree must stay as it
// was while the Space is not given back.
func TestSpaceReadsAsFresh(t *testing.T) {
	docs := scratchDocs(t)
	want := freshReadings(t, docs)
	sc := NewScratch()
	for round := 0; round < 3; round++ {
		for i := range docs {
			sp := sc.Get()
			first, err := readXML(docs[i], sp)
			if err != nil {
				t.Fatal(err)
			}
			j := (i + 1) % len(docs)
			second, err := readXML(docs[j], sp)
			if err != nil {
				t.Fatal(err)
			}
			if got := serialise(t, first); got != want[i] {
				t.Fatalf("round %d, document %d read into a used Space:\n%s\nwant\n%s", round, i, got, want[i])
			}
			if got := serialise(t, second); got != want[j] {
				t.Fatalf("round %d, document %d read second into a Space:\n%s\nwant\n%s", round, j, got, want[j])
			}
			sc.Put(sp)
		}
	}
}

// TestSpacePutLetsGo checks that a Space given back holds nothing of the
// message before: every slab it keeps is zero where it was used, so no
// element, attribute or text of one message is reachable from the next.
func TestSpacePutLetsGo(t *testing.T) {
	sc := NewScratch()
	for _, d := range scratchDocs(t) {
		sp := sc.Get()
		if _, err := readXML(d, sp); err != nil {
			t.Fatal(err)
		}
		h := sp.NewHolder("subject")
		for i := 0; i < 200; i++ { // more than the first slabs hold
			AddText(Add(h, "item", "n", "v"), "text", string(d[i%len(d):]))
		}
		sc.Put(sp)
		for name, slab := range map[string]any{
			"read elems": sp.read.elems, "read texts": sp.read.texts, "read attrs": sp.read.attrs, "read kids": sp.read.kids,
			"build elems": sp.build.elems, "build texts": sp.build.texts, "build attrs": sp.build.attrs, "build kids": sp.build.kids,
		} {
			v := reflect.ValueOf(slab)
			if v.Len() != 0 {
				t.Fatalf("%s: %d items taken after Put", name, v.Len())
			}
			full := v.Slice(0, v.Cap())
			for i := 0; i < full.Len(); i++ {
				if !full.Index(i).IsZero() {
					t.Fatalf("%s[%d] still holds %v after Put", name, i, full.Index(i))
				}
			}
		}
		if sp.build.owner != nil {
			t.Fatal("the Space's slabs still belong to a tree after Put")
		}
	}
}

// buildTree writes a tree of n items under h.
func buildTree(h *etree.Element, n int, label string) {
	for i := 0; i < n; i++ {
		it := Add(h, "item", "n", label, "i", string(rune('a'+i%26)))
		AddText(it, "text", label+" text")
		AddII(it, "id", "1.2.3", label)
	}
}

// TestSpaceHoldersAsFresh builds trees with NewHolder of a Space reused
// from message to message and of fresh memory: the same tree either way,
// and a tree built first in a message stays as it was while a second is
// built.
func TestSpaceHoldersAsFresh(t *testing.T) {
	write := func(h *etree.Element) string { return serialiseElement(t, h) }
	sc := NewScratch()
	for round, n := range []int{3, 300, 40, 700, 1} {
		fresh := NewHolder("subject")
		buildTree(fresh, n, "x")
		want := write(fresh)
		fresh2 := NewHolder("subject")
		buildTree(fresh2, n/2+1, "y")
		want2 := write(fresh2)

		sp := sc.Get()
		h := sp.NewHolder("subject")
		buildTree(h, n, "x")
		h2 := sp.NewHolder("subject")
		buildTree(h2, n/2+1, "y")
		if got := write(h); got != want {
			t.Fatalf("round %d: first tree of the Space differs after a second was built:\n%s\nwant\n%s", round, got, want)
		}
		if got := write(h2); got != want2 {
			t.Fatalf("round %d: second tree of the Space differs:\n%s\nwant\n%s", round, got, want2)
		}
		sc.Put(sp)
	}
}

// TestSpaceDocumentsAsFresh writes documents with NewDocument of a Space
// reused from message to message and of fresh memory, a holder built in
// the same Space between: the same document either way.
func TestSpaceDocumentsAsFresh(t *testing.T) {
	write := func(doc *etree.Document) string {
		t.Helper()
		b, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	sc := NewScratch()
	for round, n := range []int{3, 300, 40, 700, 1} {
		fresh, root := NewDocument("PORX_IN080101UK31")
		buildTree(root, n, "x")
		want := write(fresh)

		sp := sc.Get()
		doc, root := sp.NewDocument("PORX_IN080101UK31")
		if slabsOf(root) != &sp.build {
			t.Fatalf("round %d: the document of a Space takes no slabs from it", round)
		}
		buildTree(root, n, "x")
		buildTree(sp.NewHolder("subject"), n/2+1, "y")
		if got := write(doc); got != want {
			t.Fatalf("round %d: document of the Space differs:\n%s\nwant\n%s", round, got, want)
		}
		sc.Put(sp)
	}
	var nilSpace *Space
	if doc, root := nilSpace.NewDocument("a"); slabsOf(root) == nil || write(doc) == "" {
		t.Fatal("a document of a nil Space has no slabs")
	}
}

// TestSpaceBytesAsBytes writes documents of several sizes (the writer's
// 4 KiB buffer filled and flushed several times; one past the buffer a
// Space keeps) with Bytes of a Space reused from message to message: the
// bytes Bytes writes, each the caller's own, unchanged by the Space's
// later use, and the Space keeps no buffer larger than maxKeptOut.
func TestSpaceBytesAsBytes(t *testing.T) {
	sc := NewScratch()
	var kept [][]byte
	var wants []string
	for round, n := range []int{3, 300, 40, 3000, 1, 700} {
		fresh, root := NewDocument("MCCI_IN010000UK13")
		buildTree(root, n, "x")
		want := string(Bytes(fresh))

		sp := sc.Get()
		doc, root := sp.NewDocument("MCCI_IN010000UK13")
		buildTree(root, n, "x")
		got := sp.Bytes(doc)
		if string(got) != want {
			t.Fatalf("round %d: Bytes of the Space differs:\n%.300s\nwant\n%.300s", round, got, want)
		}
		sc.Put(sp)
		if sp.out.Cap() > maxKeptOut {
			t.Errorf("round %d: the Space keeps a buffer of %d bytes after a document of %d", round, sp.out.Cap(), len(got))
		}
		kept, wants = append(kept, got), append(wants, want)
	}
	for i := range kept {
		if string(kept[i]) != wants[i] {
			t.Fatalf("document %d changed after its Space wrote others", i)
		}
	}
	var nilSpace *Space
	doc, root := nilSpace.NewDocument("a")
	AddValue(root, "b", "1")
	if got, want := string(nilSpace.Bytes(doc)), string(Bytes(doc)); got != want {
		t.Fatalf("Bytes of a nil Space = %q, want %q", got, want)
	}
}

// TestWriteInSpace writes documents of several sizes (one past the buffer
// a Space keeps) through WriteInSpace of a Space reused from message to
// message: the bytes the writer appends, each the caller's own, unchanged
// by the Space's later use; the writer given the Space's buffer, empty,
// and a nil one for a document of fresh memory or one whose Space has
// since been given another document (and while the Space has none, at
// first and after a document too large to keep, the writer making the one
// it keeps); after the first few documents one allocation,
// the copy.
func TestWriteInSpace(t *testing.T) {
	sc := NewScratch()
	var kept [][]byte
	var wants []string
	for round, n := range []int{3, 300, 40, 3000, 1, 700} {
		sp := sc.Get()
		doc, root := sp.NewDocument("MCCI_IN010000UK13")
		buildTree(root, n, "x")
		want := Bytes(doc)
		var given []byte
		had := cap(sp.written) > 0 // none at first, nor after a document past maxKeptOut
		got := WriteInSpace(doc, func(buf []byte) []byte {
			given = buf
			return append(buf, want...)
		})
		if string(got) != string(want) {
			t.Fatalf("round %d: WriteInSpace returned %.300q, want %.300q", round, got, want)
		}
		if (had && given == nil) || len(given) != 0 {
			t.Fatalf("round %d: the writer was given %v bytes of a nil buffer (%v), want the Space's, empty", round, len(given), given == nil)
		}
		if cap(sp.written) == 0 || &got[0] == unsafe.SliceData(sp.written[:1]) {
			t.Fatalf("round %d: WriteInSpace returned the Space's own buffer", round)
		}
		sp.NewHolder("subject") // the Space's slabs are the holder's now
		if WriteInSpace(doc, func(buf []byte) []byte {
			if buf != nil {
				t.Errorf("round %d: a document whose Space went to another got its buffer", round)
			}
			return buf
		}) != nil {
			t.Errorf("round %d: WriteInSpace did not return the writer's nil", round)
		}
		sc.Put(sp)
		if cap(sp.written) > maxKeptOut {
			t.Errorf("round %d: the Space keeps a buffer of %d bytes after a document of %d", round, cap(sp.written), len(got))
		}
		kept, wants = append(kept, got), append(wants, string(want))
	}
	for i := range kept {
		if string(kept[i]) != wants[i] {
			t.Fatalf("document %d changed after its Space wrote others", i)
		}
	}
	fresh, root := NewDocument("a")
	AddValue(root, "b", "1")
	if got := WriteInSpace(fresh, func(buf []byte) []byte {
		if buf != nil {
			t.Error("a document of fresh memory got a buffer")
		}
		return append(buf, "own"...)
	}); string(got) != "own" {
		t.Fatalf("WriteInSpace of a fresh document = %q, want the writer's own", got)
	}

	sp := sc.Get()
	doc, root := sp.NewDocument("a")
	buildTree(root, 40, "x")
	body := Bytes(doc)
	write := func(buf []byte) []byte { return append(buf, body...) }
	WriteInSpace(doc, write)
	if n := testing.AllocsPerRun(20, func() { WriteInSpace(doc, write) }); n != 1 {
		t.Errorf("WriteInSpace allocated %v times a document, want 1 (the copy)", n)
	}
	sc.Put(sp)
}

// TestSpaceDocumentAllocations checks that a document a Space makes
// (NewDocument, NewHolder), once the Space has made a few, costs one
// allocation, its XML declaration's (the holder none), with its
// root and a few elements written into it.
func TestSpaceDocumentAllocations(t *testing.T) {
	sp := &Space{} // reset as Put resets it, without the pool (which a collection may empty)
	for _, tc := range []struct {
		name string
		make func(sp *Space) *etree.Element
		want float64
	}{
		{"NewDocument", func(sp *Space) *etree.Element { _, root := sp.NewDocument("PORX_IN030101UK32"); return root }, 1},
		{"NewHolder", func(sp *Space) *etree.Element { return sp.NewHolder("subject") }, 0},
	} {
		run := func() {
			el := tc.make(sp)
			AddII(Add(el, "id"), "id", OIDODS, "FA565")
			sp.reset()
		}
		run()
		if n := testing.AllocsPerRun(50, run); n > tc.want {
			t.Errorf("%s: %v allocations a document, want %v", tc.name, n, tc.want)
		}
	}
}

// TestScratchConcurrent reads and builds in Spaces of one Scratch from
// several goroutines (run with -race): each Space is one goroutine's at a
// time.
func TestScratchConcurrent(t *testing.T) {
	docs := scratchDocs(t)
	want := freshReadings(t, docs)
	sc := NewScratch()
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 20; k++ {
				i := (g + k) % len(docs)
				sp := sc.Get()
				doc, err := readXML(docs[i], sp)
				if err != nil {
					errs <- err.Error()
					return
				}
				buildTree(sp.NewHolder("subject"), 50, "z")
				if got, err := writeTree(&doc.Element); err != nil || got != want[i] {
					errs <- fmt.Sprintf("document %d read differently (%v)", i, err)
					return
				}
				sc.Put(sp)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestNilScratch checks that a nil Scratch and a nil Space work as fresh
// memory.
func TestNilScratch(t *testing.T) {
	var sc *Scratch
	sp := sc.Get()
	if sp != nil {
		t.Fatal("a nil Scratch lent a Space")
	}
	if _, root, err := sp.Parse([]byte(`<a xmlns="urn:hl7-org:v3"><b/></a>`)); err != nil || root.Child("b").El == nil {
		t.Fatalf("Parse into a nil Space: %v", err)
	}
	if h := sp.NewHolder("x"); slabsOf(h) == nil {
		t.Fatal("a holder of a nil Space has no slabs")
	}
	sc.Put(sp)
}

// TestSpaceReaderPaths checks the element paths and errors of Readers
// made in a Space: a second Reader in one message leaves the first's paths
// as they were, and errors keep their paths and interaction after the
// Space is given back and reused.
func TestSpaceReaderPaths(t *testing.T) {
	sc := NewScratch()
	doc := func(root, child string) []byte {
		return []byte(`<` + root + ` xmlns="urn:hl7-org:v3"><` + child + `><x/></` + child + `></` + root + `>`)
	}
	for i := 0; i < 3; i++ { // the Space's buffers are then its own, kept
		sp := sc.Get()
		_, root, err := sp.Parse(doc("WARM", "up"))
		if err != nil {
			t.Fatal(err)
		}
		root.Child("up").Child("x")
		sc.Put(sp)
	}
	sp := sc.Get()
	r1, root1, err := sp.Parse(doc("FIRST", "alpha"))
	if err != nil {
		t.Fatal(err)
	}
	p1 := root1.Child("alpha").Child("x").Path()
	root1.Child("alpha").Child("missing")
	_, root2, err := sp.Parse(doc("SECOND", "beta"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		root2.Child("beta").Child("x").Opt("deeper")
	}
	if p1 != "/FIRST/alpha/x" {
		t.Fatalf("the first Reader's path became %q once a second was made in the Space", p1)
	}
	before := r1.Err().Error()
	sc.Put(sp)
	for i := 0; i < 3; i++ {
		sp := sc.Get()
		_, root, err := sp.Parse(doc("THIRDXX", "gammaxx"))
		if err != nil {
			t.Fatal(err)
		}
		root.Child("gammaxx").Child("x").Child("nothere")
		sc.Put(sp)
	}
	if after := r1.Err().Error(); after != before || !strings.Contains(after, "FIRST") || !strings.Contains(after, "/FIRST/alpha/missing") {
		t.Fatalf("error of a Reader made in a reused Space: %q, was %q", after, before)
	}
}

// TestScanPrefixed checks the scanner's report that an element name had a
// prefix, which tells Parse whether to take v3 prefixes off.
func TestScanPrefixed(t *testing.T) {
	for _, tt := range []struct {
		doc  string
		want bool
	}{
		{`<a xmlns="urn:hl7-org:v3"><b c="d"/></a>`, false},
		{`<a xmlns:xsi="urn:x" xsi:type="T"><b/></a>`, false},
		{`<hl7:a xmlns:hl7="urn:hl7-org:v3"><hl7:b/></hl7:a>`, true},
		{`<a xmlns="urn:hl7-org:v3"><b><p:c xmlns:p="urn:p"/></b></a>`, true},
	} {
		doc, notes, ok := scanXMLIn([]byte(tt.doc), nil)
		prefixed := notes.prefixed
		if !ok || prefixed != tt.want {
			t.Errorf("%s: prefixed %v (read %v), want %v", tt.doc, prefixed, ok, tt.want)
		}
		if ok && !prefixed && hasPrefixedV3(doc.Root()) {
			t.Errorf("%s: no prefix reported, yet a prefixed v3 element", tt.doc)
		}
	}
	_, root, err := Parse([]byte(`<hl7:PORX xmlns:hl7="urn:hl7-org:v3"><hl7:id root="1"/></hl7:PORX>`))
	if err != nil || root.Child("id").OptAttr("root") != "1" {
		t.Fatalf("prefixed message read as %v, %v", root.El, err)
	}
}

// TestScannedAttributesKnowTheirElement: every attribute the scanner reads
// (in place in the attribute slab, or copied there when a tag outgrows it)
// names its own element, as etree's reader makes it, whether the tree is
// read into fresh memory or into a Space reused from message to message,
// and a tag the scanner gives up on part way leaves nothing in the slab.
func TestScannedAttributesKnowTheirElement(t *testing.T) {
	var many strings.Builder
	many.WriteString("<r")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&many, ` a%d="%d"`, i, i)
	}
	many.WriteString("><s b='1' c='2'/></r>")
	docs := append(scratchDocs(t), []byte(many.String()),
		[]byte(`<r a="1" b="2"><s c="3" d="4" c="5"/></r>`), // a repeated name: etree's reader decides
		[]byte(`<r a="1"><s b="2" c="3"/>`))                 // never closed
	check := func(t *testing.T, doc *etree.Document) {
		t.Helper()
		var walk func(el *etree.Element)
		walk = func(el *etree.Element) {
			for i := range el.Attr {
				if a := &el.Attr[i]; a.Element() != el {
					t.Fatalf("attribute %s of <%s> names <%v>", a.FullKey(), el.Tag, a.Element())
				}
			}
			for _, c := range el.ChildElements() {
				walk(c)
			}
		}
		walk(&doc.Element)
	}
	sc := NewScratch()
	for round := 0; round < 2; round++ {
		for i, d := range docs {
			if doc, err := readXML(d, nil); err == nil {
				check(t, doc)
			}
			sp := sc.Get()
			doc, err := readXML(d, sp)
			if err == nil {
				check(t, doc)
			}
			sc.Put(sp)
			full := sp.read.attrs[:cap(sp.read.attrs)]
			for j := range full {
				if full[j] != (etree.Attr{}) {
					t.Fatalf("round %d, document %d: read attrs[%d] still holds %+v after Put", round, i, j, full[j])
				}
			}
		}
	}
}

// TestSpacePutForgets checks with weak pointers that a Space given back
// keeps nothing of the message before reachable that lies outside its own
// memory: text the scanner decoded into memory of its own, an element made
// elsewhere and added to the tree read, an attribute value and the text
// given to a tree built in the Space. The collector frees each while the
// Space lives on: after the Space's first message (whose slabs are
// replaced) and after the next ones (whose slabs are kept).
func TestSpacePutForgets(t *testing.T) {
	sc := NewScratch()
	sp := sc.Get()
	for round := range 3 {
		weaks, weakOutside := spaceMessage(t, sp)
		sc.Put(sp)
		for range 3 {
			runtime.GC()
		}
		for i, w := range weaks {
			if w.Value() != nil {
				t.Errorf("round %d: string %d of the message before is still reachable", round, i)
			}
		}
		if weakOutside.Value() != nil {
			t.Errorf("round %d: the element added to the tree read is still reachable", round)
		}
		// sp is used again as Get would give it back (the collections
		// may have emptied the pool; sc is this test's alone).
	}
	runtime.KeepAlive(sp)
}

// spaceMessage reads and builds in sp as a translation does, and returns
// weak pointers to what its trees refer to outside the Space's memory.
func spaceMessage(t *testing.T, sp *Space) ([]weak.Pointer[byte], weak.Pointer[etree.Element]) {
	t.Helper()
	var weaks []weak.Pointer[byte]
	hold := func(s string) string {
		weaks = append(weaks, weak.Make(unsafe.StringData(s)))
		return s
	}
	long := strings.Repeat("c", 100) // past the tiny allocator's 16 bytes
	doc, err := readXML([]byte("<r><s>a &amp; b &#x41; "+long+"</s><t/></r>"), sp)
	if err != nil {
		t.Fatal(err)
	}
	s := doc.Root().SelectElement("s")
	if text := hold(s.Text()); !strings.HasPrefix(text, "a & b A c") {
		t.Fatalf("decoded text %q", text)
	}
	outside := etree.NewElement("outside")
	doc.Root().SelectElement("t").AddChild(outside)
	s.CreateAttr("a", hold(strings.Clone(long)))
	h := sp.NewHolder("subject")
	AddText(Add(h, "item", "n", hold(strings.Clone(long))), "text", hold(strings.Clone(long)))
	return weaks, weak.Make(outside)
}

// TestShallowCopy copies every element of documents read into fresh
// memory and into a Space reused from message to message: each copy has
// the element's name and attributes (naming the copy), its very child
// tokens, no parent and etree.NewElement's index, the tree copied stays
// as it was read, and once the Space has seen a message the copies of the
// next cost no allocation.
func TestShallowCopy(t *testing.T) {
	docs := scratchDocs(t)
	want := freshReadings(t, docs)
	check := func(t *testing.T, el, cp *etree.Element) {
		t.Helper()
		if cp.Space != el.Space || cp.Tag != el.Tag || cp.Parent() != nil || cp.Index() != -1 {
			t.Fatalf("copy of <%s> is <%s:%s>, parent %v, index %d", el.FullTag(), cp.Space, cp.Tag, cp.Parent(), cp.Index())
		}
		if len(cp.Attr) != len(el.Attr) || len(cp.Child) != len(el.Child) {
			t.Fatalf("copy of <%s>: %d attributes and %d children, want %d and %d", el.FullTag(), len(cp.Attr), len(cp.Child), len(el.Attr), len(el.Child))
		}
		for i, a := range cp.Attr {
			if w := el.Attr[i]; a.Space != w.Space || a.Key != w.Key || a.Value != w.Value || a.Element() != cp {
				t.Fatalf("copy of <%s>: attribute %d is %s=%q of %v, want %s=%q of the copy", el.FullTag(), i, a.FullKey(), a.Value, a.Element(), w.FullKey(), w.Value)
			}
		}
		for i, c := range cp.Child {
			if c != el.Child[i] || c.Parent() != el {
				t.Fatalf("copy of <%s>: child %d is not the element's own", el.FullTag(), i)
			}
		}
	}
	copyAll := func(sp *Space, doc *etree.Document) (n int) {
		var walk func(el *etree.Element)
		walk = func(el *etree.Element) {
			check(t, el, sp.ShallowCopy(el))
			n++
			for _, c := range el.Child {
				if c, ok := c.(*etree.Element); ok {
					walk(c)
				}
			}
		}
		walk(doc.Root())
		return n
	}
	sc := NewScratch()
	for round := 0; round < 3; round++ {
		for i, d := range docs {
			for _, sp := range []*Space{nil, sc.Get()} {
				doc, err := readXML(d, sp)
				if err != nil {
					t.Fatal(err)
				}
				copyAll(sp, doc)
				if got := serialise(t, doc); got != want[i] {
					t.Fatalf("round %d, document %d changed by its copies:\n%s\nwant\n%s", round, i, got, want[i])
				}
				sc.Put(sp)
			}
		}
	}
	racetest.SkipAllocs(t)
	sp := &Space{} // reset as Put resets it, without the pool (which a collection may empty)
	d := docs[len(docs)-1]
	read := func() *etree.Document {
		doc, err := readXML(d, sp)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	for range 3 {
		copyAll(sp, read())
		sp.reset()
	}
	only := testing.AllocsPerRun(20, func() { read(); sp.reset() })
	copied := testing.AllocsPerRun(20, func() { copyAll(sp, read()); sp.reset() })
	if copied > only {
		t.Errorf("reading and copying every element: %v allocations a message, reading alone %v", copied, only)
	}
}

// TestShallowCopyLeavesReadSlabs checks that copies made after a message
// is read do not enlarge the slabs the next message is read into: a Space
// that reads a document and copies some of its elements, message after
// message, keeps read slabs of the size a Space that only reads keeps
// (the copies spilling out of them made reset double them), and slabs of
// copies that, once the Space has seen a message like it, hold every copy
// without another slab.
func TestShallowCopyLeavesReadSlabs(t *testing.T) {
	for i, d := range scratchDocs(t) {
		reads, copies := &Space{}, &Space{}
		var last []*etree.Element // the copies of copies's last message
		for range 4 {
			if _, err := readXML(d, reads); err != nil {
				t.Fatal(err)
			}
			reads.reset()
			doc, err := readXML(d, copies)
			if err != nil {
				t.Fatal(err)
			}
			// A copy of every element, and of the root twice more: more
			// copies than the read slabs' room left over.
			last = last[:0]
			var walk func(el *etree.Element)
			walk = func(el *etree.Element) {
				last = append(last, copies.ShallowCopy(el))
				for _, c := range el.Child {
					if c, ok := c.(*etree.Element); ok {
						walk(c)
					}
				}
			}
			walk(doc.Root())
			last = append(last, copies.ShallowCopy(doc.Root()), copies.ShallowCopy(doc.Root()))
			if len(last) > 1 && unsafe.SliceData(copies.copies.elems) != unsafe.SliceData(copies.first.copies.elems) {
				last = nil // not yet in one slab
			}
			copies.reset()
		}
		r, c := reads.first.read, copies.first.read
		if cap(c.elems) != cap(r.elems) || cap(c.attrs) != cap(r.attrs) || cap(c.kids) != cap(r.kids) || cap(c.texts) != cap(r.texts) {
			t.Errorf("document %d: read slabs with copies %d, %d, %d, %d (elements, attributes, children, texts); reading alone %d, %d, %d, %d",
				i, cap(c.elems), cap(c.attrs), cap(c.kids), cap(c.texts), cap(r.elems), cap(r.attrs), cap(r.kids), cap(r.texts))
		}
		if last == nil {
			t.Errorf("document %d: the copies of the fourth message still took more than one slab", i)
		}
	}
}
