package v3

import (
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// markTemplates are start tags (after their '<') of the shapes markTag
// reads and around its edges: names and values shorter and longer than
// its blocks of sixteen, prefixes, '_', '-', '.' and digits in names,
// either quote, empty values, white space of each kind, up to and past the
// most attributes it reads.
var markTemplates = func() []string {
	tags := []string{
		`id extension="555254240100" root="1.2.826.0.1285.0.2.0.67"/>`,
		`code code="163501000000109" codeSystem="2.16.840.1.113883.2.1.3.2.4.15" displayName="Prescription - FocusActOrEvent (record artifact)">`,
		`pertinentInformation1 typeCode="PERT" contextConductionInd="true">`,
		`PORX_IN020101SM31 xmlns="urn:hl7-org:v3">`,
		`hl7:ParentPrescription xmlns:hl7="urn:hl7-org:v3" classCode='INFO' moodCode=''>`,
		`a-b.c_d x-y.z_w="1" p:q="2"/>`,
		`value xsi:type="IVL_TS" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>`,
		"a\n    x=\"1\"\r\n\ty='2'\n  />",
		`b/>`,
		`c>`,
		`d  >`,
		`e x="it's &lt; fine" y='say "hi"' z="a>b"/>`,
		`f x="` + strings.Repeat("0123456789", 5) + `"/>`,
		`_g ` + strings.Repeat("k", 33) + `="v"/>`,
	}
	for _, n := range []int{15, 16, 17} {
		var b strings.Builder
		b.WriteString("many")
		for i := range n {
			b.WriteString(" k")
			b.WriteByte(byte('a' + i))
			b.WriteString(`="v"`)
		}
		b.WriteString("/>")
		tags = append(tags, b.String())
	}
	return tags
}()

// markPad follows each tag in the tests, so that the blocks markTag loads
// stay within the message (it leaves a tag near the end to plainTagWords).
const markPad = "\n      <next x=\"1\"/>\n    </r>\n  </r>\n</r>"

// sameAsWords checks plainTag (markTag first) against plainTagWords, the
// word-at-a-time reading every tag can take, on the tag at src[i:]: the
// same refusal, or the same attributes, name, prefix, end and notes. It
// reports whether markTag read the tag.
func sameAsWords(t *testing.T, src string, i int) bool {
	t.Helper()
	el := new(etree.Element)
	var probe xmlScanner
	marked := markTag(src, i, maxMarkedAttrs, &probe.marks) > 0
	a, b := xmlScanner{src: src, i: i}, xmlScanner{src: src, i: i}
	roomA, roomB := make([]etree.Attr, 0, maxScannedAttrs), make([]etree.Attr, 0, maxScannedAttrs)
	an, aname, aspace, aempty, aok := a.plainTag(roomA, el)
	bn, bname, bspace, bempty, bok := b.plainTagWords(roomB, el)
	if aok != bok || a.i != b.i || a.notes.emptyAttr != b.notes.emptyAttr ||
		aok && (an != bn || aname != bname || aspace != bspace || aempty != bempty || !slices.Equal(roomA[:an], roomB[:bn])) {
		t.Fatalf("plainTag(%q from %d) (markTag read it: %v) = %v %q %q %v %v at %d %+v; plainTagWords = %v %q %q %v %v at %d %+v",
			src, i, marked, roomA[:an], aname, aspace, aempty, aok, a.i, a.notes, roomB[:bn], bname, bspace, bempty, bok, b.i, b.notes)
	}
	if marked && !bok && !repeatedIn(src, i) {
		// markTag reads only tags plainTagWords reads, a repeated name
		// (which markedAttrs refuses) aside.
		t.Fatalf("markTag read %q from %d, which plainTagWords refuses", src, i)
	}
	return marked
}

// repeatedIn reports whether the tag anyTag reads at src[i:] has a
// repeated attribute name (anyTag then refuses it too).
func repeatedIn(src string, i int) bool {
	s := xmlScanner{src: src, i: i}
	_, _, _, _, ok := s.anyTag(false, nil)
	return !ok
}

// markTagReads is whether markTag reads tags in this build.
const markTagReads = marksTags

// TestMarkTagEveryByte puts every byte value at every place of each
// template and requires plainTag's answer to be plainTagWords'; each
// template as it is must be read by markTag (where it reads tags) unless it
// has more attributes than markTag reads or a reference in a value.
func TestMarkTagEveryByte(t *testing.T) {
	for _, tag := range markTemplates {
		src := "<" + tag + markPad
		want := markTagReads && !strings.Contains(tag, "&") && strings.Count(tag, "=") <= maxMarkedAttrs
		if got := sameAsWords(t, src, 1); got != want {
			t.Errorf("markTag read %q: %v", tag, got)
		}
		b := []byte(src)
		for pos := 1; pos < len(b); pos++ {
			orig := b[pos]
			for c := range 256 {
				b[pos] = byte(c)
				sameAsWords(t, string(b), 1)
			}
			b[pos] = orig
		}
	}
}

// TestMarkTagEnds cuts each template (with what follows it) at every
// length, so that the message ends in every part of the tag and up to
// sixteen bytes after it, and requires plainTag's answer to be
// plainTagWords'.
func TestMarkTagEnds(t *testing.T) {
	for _, tag := range markTemplates {
		src := "<" + tag + markPad
		for n := 1; n <= len(src); n++ {
			sameAsWords(t, src[:n], 1)
		}
	}
}

// TestMarkTagTrees reads documents holding each template with a byte
// that matters to markTag (white space, quotes, markup, name bytes,
// control, DEL and non-ASCII bytes) at every place, as etree's reader
// reads them (sameTree): the elements the scanner makes from markTag's
// marks are the ones etree makes.
func TestMarkTagTrees(t *testing.T) {
	for _, tag := range markTemplates {
		head := "<r>\n  <" + tag
		tail := "\n      <next x=\"1\"/>\n    </r>"
		if !strings.HasSuffix(tag, "/>") {
			tail = "\n      <next x=\"1\"/>\n    </" + tag[:strings.IndexAny(tag+" ", " \n/>")] + ">\n</r>"
		}
		b := []byte(head + tail)
		for pos := len("<r>\n  <"); pos < len(b); pos++ {
			orig := b[pos]
			for _, c := range []byte("\x00\t\n\r \"'&<>/=:_-.0aZ\x7f\x80\xff") {
				b[pos] = c
				sameTree(t, b)
			}
			b[pos] = orig
		}
		if !sameTree(t, b) {
			t.Errorf("the scanner did not read %q", b)
		}
	}
}

// FuzzMarkTag holds plainTag (markTag first) to plainTagWords on any
// bytes, from any of the first places in them.
func FuzzMarkTag(f *testing.F) {
	for _, tag := range markTemplates[:6] {
		f.Add([]byte("<" + tag + markPad))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src := string(data)
		for i := 0; i < len(src) && i < 20; i++ {
			sameAsWords(t, src, i)
		}
	})
}

// endTemplates are elements whose end tags markEnd reads, and around its
// edges: names shorter and longer than its blocks of sixteen, a prefix,
// white space before the '>', text before the end tag, and the usual
// indentation after it or none.
var endTemplates = []string{
	"<a>x</a>\n  ",
	"<ab x=\"1\">\n    <c/>\n  </ab>\n  ",
	"<fifteenLetters_ x=\"1\">y</fifteenLetters_>\n    ",
	"<sixteenLettersAb>y</sixteenLettersAb>\n                     ",
	"<seventeenLettersA>y</seventeenLettersA>x",
	"<pertinentInformation1234567890abc>y</pertinentInformation1234567890abc >\n  ",
	"<hl7:value x=\"1\">y</hl7:value\n\t>\n  ",
	"<b>y</b>",
}

// endTail follows each template in the tests: more than markEnd's blocks
// of sixteen after its end tag.
const endTail = "<next/>\n  <next/>\n  <next/>\n</r>"

// TestMarkEndEveryByte puts every byte value at every place of the end tag
// of each template and of what follows it, in a document, and requires
// the scanner to read it as etree's reader reads it (sameTree); each
// template as it is must be read by markEnd (where it reads tags).
func TestMarkEndEveryByte(t *testing.T) {
	for _, el := range endTemplates {
		doc := "<r>\n  " + el + endTail
		end := strings.LastIndex(doc[:len("<r>\n  ")+len(el)], "</")
		var m tagMarks
		at := len("<r>\n  <")
		name := doc[at : at+strings.IndexAny(doc[at:], " \n>")]
		if got := markEnd(doc, end, at, len(name), &m) > 0; got != markTagReads {
			t.Errorf("markEnd read the end tag of %q: %v", el, got)
		}
		if !sameTree(t, []byte(doc)) {
			t.Errorf("the scanner did not read %q", doc)
		}
		b := []byte(doc)
		for pos := end; pos < len(b); pos++ {
			orig := b[pos]
			for c := range 256 {
				b[pos] = byte(c)
				sameTree(t, b)
			}
			b[pos] = orig
		}
	}
}

// TestMarkEndEnds cuts each template's document at every length from its
// end tag on, so that the message ends in every part of the end tag and
// of what follows it, and requires the scanner to read each as etree's
// reader reads it.
func TestMarkEndEnds(t *testing.T) {
	for _, el := range endTemplates {
		doc := "<r>\n  " + el + endTail
		end := strings.LastIndex(doc[:len("<r>\n  ")+len(el)], "</")
		for n := end; n <= len(doc); n++ {
			sameTree(t, []byte(doc[:n]))
			sameTree(t, []byte(doc[len("<r>\n  "):n]))
		}
	}
}

// TestMarkTagRoom checks that markTag reads no tag when told of more room
// than tagMarks has (maxMarkedAttrs), and that plainTag then reads it.
func TestMarkTagRoom(t *testing.T) {
	src := "<" + markTemplates[0] + markPad
	var m tagMarks
	if end := markTag(src, 1, maxMarkedAttrs+1, &m); end != 0 {
		t.Fatalf("markTag read a tag with room for %d attributes: %d", maxMarkedAttrs+1, end)
	}
	if end := markTag(src, 1, maxMarkedAttrs, &m); (end > 0) != markTagReads {
		t.Fatalf("markTag with room for %d attributes: %d", maxMarkedAttrs, end)
	}
	sameAsWords(t, src, 1)
}
