package logctx

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestRedaction(t *testing.T) {
	tests := []struct {
		name string
		log  func(*slog.Logger)
		want string // the line, as JSON without time and level
	}{
		{"NHS number in any text", func(l *slog.Logger) { l.Info("patient 9912003071", "k", "nhs 991 200 3071 and 991-200-3071") },
			`{"msg":"patient [nhs-number]","k":"nhs [nhs-number] and [nhs-number]"}`},
		{"ids are not NHS numbers", func(l *slog.Logger) {
			l.Info("x", "asid", "200000000946", "message_id", "00000001-0000-4000-8000-87AD386B8F4A", "prescription", "A0548B-A99968-451485", "n", 9912003071)
		}, `{"msg":"x","asid":"200000000946","message_id":"00000001-0000-4000-8000-87AD386B8F4A","prescription":"A0548B-A99968-451485","n":9912003071}`},
		{"quoted values out of an error", func(l *slog.Logger) {
			l.Info("x", "err", errors.New(`birthTime: "2001-07-04x" is not a v3 timestamp`), "other", `"kept"`)
		}, `{"msg":"x","err":"birthTime: \"[redacted]\" is not a v3 timestamp","other":"\"kept\""}`},
		{"reason and outcome text", func(l *slog.Logger) {
			l.Info("x", "reason", `family: "JONES \"A\"" bad`, "outcome_text", `"ALEX"`)
		}, `{"msg":"x","reason":"family: \"[redacted]\" bad","outcome_text":"\"[redacted]\""}`},
		{"what XML readers quote of a broken payload", func(l *slog.Logger) {
			l.Info("x", "err", "XML syntax error on line 58: invalid character entity &JONES;", "reason", "invalid character entity &JONES (no semicolon); invalid XML name: 1JONES")
		}, `{"msg":"x","err":"XML syntax error on line 58: invalid character entity &[redacted]","reason":"invalid character entity &[redacted] (no semicolon); invalid XML name: [redacted]"}`},
		{"keys naming an error, a reason or a text", func(l *slog.Logger) {
			l.Info("x", "reason_was", `"JONES"`, "last_error", `"ALEX"`, "status_text", `"x"`, "route", `"kept"`)
		}, `{"msg":"x","reason_was":"\"[redacted]\"","last_error":"\"[redacted]\"","status_text":"\"[redacted]\"","route":"\"kept\""}`},
		{"With and groups", func(l *slog.Logger) {
			l.With("err", `"x"`).WithGroup("g").With("k", "9912003071").Info("x", slog.Group("h", "err", `"y"`))
		}, `{"msg":"x","err":"\"[redacted]\"","g":{"k":"[nhs-number]","h":{"err":"\"[redacted]\""}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := capture(t, tt.log)
			if len(got) != 1 {
				t.Fatalf("%d lines", len(got))
			}
			line := stripTimeLevel(t, got[0])
			if line != tt.want {
				t.Errorf("\n got %s\nwant %s", line, tt.want)
			}
		})
	}
	if s := RedactFreeText(`a "b" 1234567890 c`); strings.Contains(s, `"b"`) || strings.Contains(s, "1234567890") {
		t.Errorf("RedactFreeText = %q", s)
	}
}
