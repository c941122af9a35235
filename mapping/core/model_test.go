package core_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestExpectModel: a child not in the model is unexpected, a second
// occurrence of a once-only child is refused at its indexed path, and a
// child marked "*" may repeat.
func TestExpectModel(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want string // "" for no problem
	}{
		{"each once", `<a><b/><c/></a>`, ""},
		{"optional absent", `<a><b/></a>`, ""},
		{"repeatable repeated", `<a><b/><d/><d/><d/></a>`, ""},
		{"once-only repeated", `<a><b/><c/><c/></a>`, "/a/c[2]: element repeated"},
		{"repeated apart", `<a><c/><b/><c/></a>`, "/a/c[2]: element repeated"},
		{"unknown child", `<a><b/><e/></a>`, "/a/e: unexpected element"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, root, err := v3.Parse([]byte(strings.Replace(tt.xml, "<a>", `<a xmlns="urn:hl7-org:v3">`, 1)))
			if err != nil {
				t.Fatal(err)
			}
			core.ExpectModel(root, "b", "c", "d*")
			err = r.Err()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected problem: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want a problem %q", err, tt.want)
			}
		})
	}
}

// TestCheckOnce: a second occurrence of a once-only element is refused at
// its indexed path (through repeated parents too), once per element; an
// element Once does not name, or names only as a parent, may repeat, and an
// unknown element is no problem.
func TestCheckOnce(t *testing.T) {
	spec := &core.Once{Tags: []string{"b"}, Kids: map[string]*core.Once{
		"d": {Tags: []string{"e"}, Kids: map[string]*core.Once{"e": {Tags: []string{"f"}}}},
	}}
	tests := []struct {
		name string
		xml  string
		want []string // nil for no problem
	}{
		{"each once", `<a><b/><d><e><f/></e></d></a>`, nil},
		{"unknown and repeating elements", `<a><b/><x/><x/><d/><d><e/></d></a>`, nil},
		{"once-only repeated", `<a><b/><b/><b/></a>`, []string{"/a/b[2]: element repeated"}},
		{"under a single parent", `<a><d><e/><e/></d></a>`, []string{"/a/d/e[2]: element repeated"}},
		{"under the second of repeated parents", `<a><d/><d><e><f/><f/></e></d></a>`, []string{"/a/d[2]/e/f[2]: element repeated"}},
		{"two problems", `<a><b/><b/><d><e/><e/></d></a>`, []string{"/a/b[2]", "/a/d/e[2]"}},
		// A kid is checked whatever comes before its elements: text,
		// comments and processing instructions; a kid with text alone has
		// nothing to check.
		{"kid's elements after text and comments", `<a><d>x<!--c--><?p?>
 <e/>y<e/></d></a>`, []string{"/a/d/e[2]: element repeated"}},
		{"kid with text only", `<a><d>text<!--c--></d><d><e>t</e><e><f/></e></d></a>`, []string{"/a/d[2]/e[2]: element repeated"}},
		{"leaf then kid", `<a><d/><b>t</b><d><e><f/><f/></e></d></a>`, []string{"/a/d[2]/e/f[2]: element repeated"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, root, err := v3.Parse([]byte(strings.Replace(tt.xml, "<a>", `<a xmlns="urn:hl7-org:v3">`, 1)))
			if err != nil {
				t.Fatal(err)
			}
			core.CheckOnce(root, spec)
			got := v3.Errors(r.Err())
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %d problems %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i].Error(), w) || got[i].Rule != v3.RuleCardinality {
					t.Errorf("problem %d: got %v (rule %q), want %q under the cardinality rule", i, got[i], got[i].Rule, w)
				}
			}
		})
	}
}

// TestCheckOnceOrder holds CheckOnce's look for a tag (from the last one
// found, over the tags of a child's length) to the plain look from the
// first tag: the same problems whatever the children's order, for a tag
// sharing its length with another, named or not, and for lengths 64 apart.
func TestCheckOnceOrder(t *testing.T) {
	l65, l66 := strings.Repeat("l", 65), strings.Repeat("l", 66)
	spec := &core.Once{Tags: []string{"b", "g", "hh", l65}, Kids: map[string]*core.Once{"g": {Tags: []string{"e"}}}}
	// A tag named twice counts at its first; a kid not named once, and
	// one whose Once is nil.
	twice := &core.Once{Tags: []string{"b", "g", "b"}, Kids: map[string]*core.Once{
		"k": {Tags: []string{"e"}}, "b": {Tags: []string{"e"}}, "n": nil}}
	// Tags whose length and first, middle and last letters are the same,
	// and more tags than the look-up's table has slots.
	alike := &core.Once{Tags: []string{"code", "cude", "cxyzde"}}
	many := &core.Once{}
	for i := 1; i <= 69; i++ {
		many.Tags = append(many.Tags, "t"+strconv.Itoa(i))
	}
	tests := []struct {
		name string
		spec *core.Once
		xml  string
		want []string // nil for no problem
	}{
		{"in order", spec, `<a><b/><g/><hh/><` + l65 + `/></a>`, nil},
		{"out of order, repeated", spec, `<a><g/><b/><g/><hh/><b/><hh/></a>`, []string{"/a/g[2]", "/a/b[2]", "/a/hh[2]"}},
		{"repeated after others", spec, `<a><hh/><g/><b/><hh/><hh/></a>`, []string{"/a/hh[2]"}},
		{"last before first", spec, `<a><` + l65 + `/><b/><` + l65 + `/></a>`, []string{"/a/" + l65 + "[2]"}},
		{"same length, not named", spec, `<a><x/><b/><x/><y/><hx/><hx/></a>`, nil},
		{"length 64 apart, not named", spec, `<a><` + l66 + `/><` + l66 + `/><hh/></a>`, nil},
		{"kid's repeat, then its parent's", spec, `<a><g><e/><e/></g><b/><g/></a>`, []string{"/a/g[1]/e[2]", "/a/g[2]"}},
		{"named twice", twice, `<a><b><e/></b><g/><b/></a>`, []string{"/a/b[2]"}},
		{"kids not named once", twice, `<a><k><e/><e/></k><n><e/><e/></n><k><e/></k></a>`, []string{"/a/k[1]/e[2]"}},
		{"kid of a tag named twice", twice, `<a><g/><b><e/><e/></b></a>`, []string{"/a/b/e[2]"}},
		{"tags alike but for their other bytes", alike, `<a><code/><cude/><cxyzde/><cude/><code/><cade/></a>`, []string{"/a/cude[2]", "/a/code[2]"}},
		{"more tags than slots", many, `<a><t1/><t69/><t35/><t69/><t1/><t70/><t70/></a>`, []string{"/a/t69[2]", "/a/t1[2]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, root, err := v3.Parse([]byte(strings.Replace(tt.xml, "<a>", `<a xmlns="urn:hl7-org:v3">`, 1)))
			if err != nil {
				t.Fatal(err)
			}
			core.CheckOnce(root, tt.spec)
			got := v3.Errors(r.Err())
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %d problems %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i].Error(), w+": ") || got[i].Rule != v3.RuleCardinality {
					t.Errorf("problem %d: got %v (rule %q), want %q under the cardinality rule", i, got[i], got[i].Rule, w)
				}
			}
		})
	}
}
