package conformance

import (
	"fmt"
	"testing"
)

func TestCompare(t *testing.T) {
	const base = `<X xmlns="urn:hl7-org:v3"><id root="%s"/><creationTime value="%s"/><a b="1" c="2">t</a><device><id root="1.2.826.0.1285.0.2.0.107" extension="%s"/></device><effectiveTime value="%s"/></X>`
	const u1, u2 = "4BBC97C0-F16D-4D82-85C8-C3CC62F8BD78", "11111111-2222-4333-8444-555555555555"
	tests := []struct {
		name     string
		want     string
		got      string
		request  string
		wantDiff string
	}{
		{"identical", fmtX(base, u1, "20220201000000", "1", "20220201000000"), fmtX(base, u1, "20220201000000", "1", "20220201000000"), "", ""},
		{"creationTime wildcard", fmtX(base, u1, "20200101000000", "1", "20220201000000"), fmtX(base, u1, "20991231235959", "1", "20220201000000"), "", ""},
		{"pinned time wildcard", fmtX(base, u1, "1", "1", "20220201000000"), fmtX(base, u1, "1", "1", "20240607080910"), "", ""},
		{"unpinned time exact", fmtX(base, u1, "1", "1", "20210101000000"), fmtX(base, u1, "1", "1", "20210101000001"), "", "/X/effectiveTime/@value: want \"20210101000000\" got \"20210101000001\""},
		{"fresh uuid wildcard", fmtX(base, u1, "1", "1", "x"), fmtX(base, u2, "1", "1", "x"), `{"id":"other"}`, ""},
		{"uuid from request must match", fmtX(base, u1, "1", "1", "x"), fmtX(base, u2, "1", "1", "x"), `{"v":"4bbc97c0-f16d-4d82-85c8-c3cc62f8bd78"}`, "/X/id/@root: want \"" + u1 + "\" got \"" + u2 + "\""},
		{"asid wildcard", fmtX(base, u1, "1", "111", "x"), fmtX(base, u1, "1", "999", "x"), "", ""},
		{"attr order and whitespace", `<X><a b="1" c="2"> t </a></X>`, "<X>\n  <a c=\"2\" b=\"1\">t</a>\n</X>", "", ""},
		{"text differs", `<X><a>t</a></X>`, `<X><a>u</a></X>`, "", `/X/a/text(): want "t" got "u"`},
		{"missing element", `<X><a/><b/></X>`, `<X><a/></X>`, "", "/X/b: want <b> got nothing"},
		{"extra element", `<X><a/></X>`, `<X><a/><c/></X>`, "", "/X/c: want nothing got <c>"},
		{"order matters", `<X><a/><b/></X>`, `<X><b/><a/></X>`, "", "/X/a: want a got b"},
		{"indexed path", `<X><a v="1"/><a v="2"/></X>`, `<X><a v="1"/><a v="3"/></X>`, "", `/X/a[2]/@v: want "2" got "3"`},
		{"extra attribute", `<X><a/></X>`, `<X><a z="1"/></X>`, "", `/X/a/@z: want nothing got "1"`},
		{"namespace counts", `<X xmlns="urn:a"/>`, `<X xmlns="urn:b"/>`, "", "/X: want {urn:a}X got {urn:b}X"},
		{"prefix does not count", `<hl7:X xmlns:hl7="urn:a"><hl7:y/></hl7:X>`, `<X xmlns="urn:a"><y/></X>`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Compare([]byte(tt.want), []byte(tt.got), Rules{FHIRRequest: []byte(tt.request)})
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if d != nil {
				got = d.String()
			}
			if got != tt.wantDiff {
				t.Errorf("Compare diff = %q, want %q", got, tt.wantDiff)
			}
		})
	}
}

func fmtX(format string, args ...any) string {
	return fmt.Sprintf(format, args...)
}
