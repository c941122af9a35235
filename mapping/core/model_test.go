package core_test

import (
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
