package admin

import (
	"strings"
	"testing"
)

func TestParseTokens(t *testing.T) {
	good := "# comment\n\nalice reader alice-token-0123456789\nbob ADMIN bob-token-0123456789abcd\n"
	toks, err := ParseTokens([]byte(good))
	if err != nil || len(toks) != 2 || toks[0].Name != "alice" || toks[0].Role != RoleReader || toks[1].Role != RoleAdmin {
		t.Fatalf("ParseTokens = %+v, %v", toks, err)
	}
	a := AuthConfig{Tokens: toks}
	if w := a.byToken("bob-token-0123456789abcd"); w.name != "token:bob" || w.role != RoleAdmin {
		t.Errorf("byToken = %+v", w)
	}
	if w := a.byToken("bob-token-0123456789abcX"); w.role != RoleNone {
		t.Errorf("wrong token accepted: %+v", w)
	}
	bad := []struct{ in, want string }{
		{"alice reader", "want name role token"},
		{"alice reader tok extra", "want name role token"},
		{"alice boss alice-token-0123456789", "want viewer, reader or admin"},
		{"alice admin short", "shorter than 16"},
		{"vic viewer same-token-0123456789\nbob admin same-token-0123456789", "also vic's"},
	}
	for _, tt := range bad {
		if _, err := ParseTokens([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseTokens(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
}

func TestParseCertRoles(t *testing.T) {
	m, err := ParseCertRoles(" ops-desk=viewer, Dr Who = admin ,")
	if err != nil || m["ops-desk"] != RoleViewer || m["Dr Who"] != RoleAdmin || len(m) != 2 {
		t.Fatalf("ParseCertRoles = %v, %v", m, err)
	}
	for _, in := range []string{"ops", "=admin", "ops=root", "ops=viewer,ops=admin", " ops = admin , Dr Who=reader, ops=viewer"} {
		if _, err := ParseCertRoles(in); err == nil {
			t.Errorf("ParseCertRoles(%q): no error", in)
		}
	}
	// The same role twice is no contradiction.
	if m, err := ParseCertRoles("ops=viewer, ops =viewer"); err != nil || m["ops"] != RoleViewer || len(m) != 1 {
		t.Errorf("ParseCertRoles(same role twice) = %v, %v", m, err)
	}
}

func FuzzParseTokens(f *testing.F) {
	f.Add("alice reader alice-token-0123456789\n")
	f.Add("# x\n\tbob admin 0123456789abcdef0\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		toks, err := ParseTokens([]byte(s))
		if err == nil {
			for _, tk := range toks {
				if tk.Role == RoleNone || tk.Name == "" {
					t.Fatalf("accepted a token without role or name: %+v", tk)
				}
			}
		}
	})
}

func FuzzParseCertRoles(f *testing.F) {
	f.Add("ops-desk=viewer,cn=admin")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseCertRoles(s)
		if err == nil {
			for cn, r := range m {
				if cn == "" || r == RoleNone {
					t.Fatalf("accepted %q=%v", cn, r)
				}
			}
		}
	})
}

func TestPrettyAndDiff(t *testing.T) {
	if got := pretty(`{"a":1}`); got != "{\n  \"a\": 1\n}" {
		t.Errorf("pretty JSON = %q", got)
	}
	if got := pretty(`<a><b x="1"/></a>`); !strings.Contains(got, "\n  <b x=\"1\"/>") {
		t.Errorf("pretty XML = %q", got)
	}
	for _, in := range []string{"", "<a><b></a>", "{oops", "plain"} {
		if got := pretty(in); got != in {
			t.Errorf("pretty(%q) changed unreadable input to %q", in, got)
		}
	}
	d := lineDiff("a\nb\nc", "a\nx\nc")
	var ops string
	for _, l := range d {
		ops += l.Op
	}
	if ops != "=-+=" {
		t.Errorf("lineDiff ops %q, want =-+=", ops)
	}
}
