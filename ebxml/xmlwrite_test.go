package ebxml

import "testing"

func TestWriterEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{`plain`, `plain`},
		{`a&b<c>d"e'f`, `a&amp;b&lt;c&gt;d&quot;e'f`},
		{"tab\tnl\ncr\r", "tab&#x9;nl&#xA;cr&#xD;"},
		{"nul\x00bell\x07", "nul\uFFFDbell\uFFFD"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
		{"Zoë £ 東京 🙂", "Zoë £ 東京 🙂"},
		{"\uFFFE", "\uFFFD"},
	}
	for _, tt := range tests {
		var w writer
		w.t(tt.in)
		if got := w.String(); got != tt.want {
			t.Errorf("t(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
