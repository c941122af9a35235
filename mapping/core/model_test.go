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
