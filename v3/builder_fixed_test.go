package v3

import (
	"strings"
	"testing"

	"github.com/beevik/etree"
)

// TestAddFixedAsAdd checks that AddFixed makes the element Add makes with
// the same name and attributes, and that FixedTags gives its tags as etree
// writes them.
func TestAddFixedAsAdd(t *testing.T) {
	cases := [][]string{
		{"author", "typeCode", "AUT"},
		{"agentPerson", "classCode", "PSN", "determinerCode", "INSTANCE"},
		{"pertinentInformation1", "inversionInd", "false", "negationInd", "false", "typeCode", "PERT"},
		{"code", "code", "0001", "codeSystem", "2.16.840.1.113883.2.1.3.2.4.17.30", "displayName", "A b-c_d.e"},
	}
	for _, c := range cases {
		f := NewFixed(c[0], c[1:]...)
		_, fixedRoot := NewDocument("root")
		_, addRoot := NewDocument("root")
		got, want := AddFixed(fixedRoot, f), Add(addRoot, c[0], c[1:]...)
		if got.Tag != want.Tag || got.Space != "" || len(got.Attr) != len(want.Attr) {
			t.Fatalf("%s: got <%s:%s> with %d attributes, want <%s> with %d", c[0], got.Space, got.Tag, len(got.Attr), want.Tag, len(want.Attr))
		}
		for i := range want.Attr {
			g, w := &got.Attr[i], &want.Attr[i]
			if g.Space != w.Space || g.Key != w.Key || g.Value != w.Value || g.Element() != got {
				t.Errorf("%s: attribute %d is %s:%s=%q, want %s=%q", c[0], i, g.Space, g.Key, g.Value, w.Key, w.Value)
			}
		}
		doc := etree.NewDocument()
		doc.SetRoot(want.Copy())
		s, _ := doc.WriteToString() // <tag a="v"/>
		start, end, n := FixedTags(got)
		if n != len(got.Attr) || start+"/>" != s || end != "</"+c[0]+">" {
			t.Errorf("%s: FixedTags = %q, %q, %d; want %q and its end tag", c[0], start, end, n, s)
		}
		if f.String() != s[:len(s)-2] {
			t.Errorf("%s: String() = %q, want %q", c[0], f.String(), s[:len(s)-2])
		}
	}
}

// TestFixedTagsChanged checks that an element AddFixed wrote whose name or
// attributes were changed since is taken as fixed only as far as its name
// and attributes are still the ones AddFixed gave it, and that elements of
// other kinds never are.
func TestFixedTagsChanged(t *testing.T) {
	f := NewFixed("pertinentInformation1", "inversionInd", "false", "negationInd", "false", "typeCode", "PERT")
	cases := []struct {
		name   string
		change func(el *etree.Element)
		n      int // attributes in the fixed start tag
	}{
		{"unchanged", func(*etree.Element) {}, 3},
		{"a value set again", func(el *etree.Element) { el.CreateAttr("negationInd", "true") }, 1},
		{"the first value from elsewhere", func(el *etree.Element) { el.Attr[0].Value = string([]byte("false")) }, 0},
		{"an attribute added", func(el *etree.Element) { el.CreateAttr("extra", "x") }, 3},
		{"a middle attribute removed", func(el *etree.Element) { el.RemoveAttr("negationInd") }, 1},
		{"the last attribute removed", func(el *etree.Element) { el.RemoveAttr("typeCode") }, 2},
		{"renamed", func(el *etree.Element) { el.Tag = "pertinentInformation2" }, 0},
		{"given a prefix", func(el *etree.Element) { el.Space = "hl7" }, 0},
		{"a copy", func(el *etree.Element) { *el = *el.Copy() }, 3},
	}
	for _, c := range cases {
		_, root := NewDocument("root")
		el := AddFixed(root, f)
		c.change(el)
		start, end, n := FixedTags(el)
		if n != c.n {
			t.Errorf("%s: FixedTags n = %d, want %d", c.name, n, c.n)
			continue
		}
		if n == 0 {
			continue
		}
		// The start tag as etree writes it with the first n attributes.
		cp := el.Copy()
		cp.Attr = cp.Attr[:n]
		doc := etree.NewDocument()
		doc.SetRoot(cp)
		s, _ := doc.WriteToString()
		if start+"/>" != s || end != "</"+el.Tag+">" {
			t.Errorf("%s: FixedTags = %q, %q; etree writes %q", c.name, start, end, s)
		}
	}
	for _, el := range []*etree.Element{
		Add(NewHolder("h"), "author", "typeCode", "AUT"),
		etree.NewElement("author"),
	} {
		if _, _, n := FixedTags(el); n != 0 || FixedMarked(el) {
			t.Errorf("<%s> made without AddFixed is taken as fixed", el.Tag)
		}
	}
}

// TestAddFixedII checks that AddFixedII makes the element AddII makes, its
// root in the fixed start tag and its extension after it, and that it
// refuses a Fixed that is not an identifier's tag and root.
func TestAddFixedII(t *testing.T) {
	f := NewFixed("id", "root", OIDSDSUser)
	for _, ext := range []string{"", "555254239107", "a&b"} {
		_, fixedRoot := NewDocument("root")
		_, addRoot := NewDocument("root")
		got, want := AddFixedII(fixedRoot, f, ext), AddII(addRoot, "id", OIDSDSUser, ext)
		if len(got.Attr) != len(want.Attr) || got.Tag != want.Tag {
			t.Fatalf("extension %q: %d attributes, want %d", ext, len(got.Attr), len(want.Attr))
		}
		for i := range want.Attr {
			if g, w := got.Attr[i], want.Attr[i]; g.Space != w.Space || g.Key != w.Key || g.Value != w.Value {
				t.Errorf("extension %q: attribute %d is %s=%q, want %s=%q", ext, i, g.Key, g.Value, w.Key, w.Value)
			}
		}
		if start, _, n := FixedTags(got); n != 1 || start != `<id root="`+OIDSDSUser+`"` {
			t.Errorf("extension %q: FixedTags = %q, %d", ext, start, n)
		}
	}
	for _, bad := range []*Fixed{NewFixed("id", "extension", "x"), NewFixed("id", "root", "1.2", "extension", "x")} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddFixedII(%s) did not panic", bad)
				}
			}()
			AddFixedII(NewHolder("h"), bad, "")
		}()
	}
}

// TestNewFixedRefuses checks that NewFixed refuses what a writer could not
// copy as it is.
func TestNewFixedRefuses(t *testing.T) {
	cases := []struct {
		name string
		tag  string
		args []string
	}{
		{"no attributes", "a", nil},
		{"a name without a value", "a", []string{"b"}},
		{"an empty tag", "", []string{"b", "c"}},
		{"a prefixed tag", "hl7:a", []string{"b", "c"}},
		{"a prefixed name", "a", []string{"xsi:type", "c"}},
		{"a name starting with a digit", "a", []string{"1b", "c"}},
		{"a name given twice", "a", []string{"b", "c", "b", "d"}},
		{"an empty value", "a", []string{"b", ""}},
		{"an ampersand", "a", []string{"b", "x&y"}},
		{"a less-than sign", "a", []string{"b", "x<y"}},
		{"a greater-than sign", "a", []string{"b", "x>y"}},
		{"a quote", "a", []string{"b", `x"y`}},
		{"an apostrophe", "a", []string{"b", "x'y"}},
		{"a tab", "a", []string{"b", "x\ty"}},
		{"a line break", "a", []string{"b", "x\ny"}},
		{"non-ASCII", "a", []string{"b", "café"}},
		{"DEL", "a", []string{"b", "x\x7fy"}},
	}
	for _, c := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: NewFixed(%q, %q) did not panic", c.name, c.tag, c.args)
				}
			}()
			NewFixed(c.tag, c.args...)
		}()
	}
}

// TestFixedTagsEveryLength writes a Fixed of every text length from 20 to
// about 300 bytes (values of 1 to 280 bytes, so that some texts end at
// the end of their size class): under -race, checkptr refuses an address
// FixedTags computes outside the text's memory.
func TestFixedTagsEveryLength(t *testing.T) {
	for n := 1; n <= 280; n++ {
		f := NewFixed("code", "code", strings.Repeat("x", n))
		_, el := NewDocument("act")
		c := AddFixed(el, f)
		start, end, k := FixedTags(c)
		if want := "<code code=\"" + strings.Repeat("x", n) + "\""; start != want || end != "</code>" || k != 1 {
			t.Fatalf("value of %d bytes: FixedTags = %q, %q, %d; want %q, </code>, 1", n, start, end, k, want)
		}
	}
}
