package logctx

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// lines logs through a JSON handler wrapped by Handler and returns each
// line's raw text.
func capture(t *testing.T, f func(log *slog.Logger)) []string {
	t.Helper()
	var buf bytes.Buffer
	f(Wrap(slog.New(slog.NewJSONHandler(&buf, nil))))
	return strings.Split(strings.TrimSpace(buf.String()), "\n")
}

func TestHandler(t *testing.T) {
	ctx := With(context.Background(), slog.String(KeyMessageID, "M1"), slog.String(KeyInteraction, "PORX_IN020101UK31"),
		slog.String(KeyConversationID, ""))
	ctx = With(ctx, slog.String(KeyParty, "P1"), slog.String(KeyMessageID, "M2"))
	tests := []struct {
		name string
		log  func(*slog.Logger)
		want string // the line, as JSON without time and level
	}{
		{"context fields", func(l *slog.Logger) { l.InfoContext(ctx, "x", "k", 1) },
			`{"msg":"x","message_id":"M2","interaction":"PORX_IN020101UK31","party":"P1","k":1}`},
		{"no context", func(l *slog.Logger) { l.Info("x", "k", 1) }, `{"msg":"x","k":1}`},
		{"component once, last wins", func(l *slog.Logger) {
			l.With("component", "processor").With("component", "upstream").InfoContext(ctx, "x")
		}, `{"msg":"x","message_id":"M2","interaction":"PORX_IN020101UK31","party":"P1","component":"upstream"}`},
		{"the line's own value wins", func(l *slog.Logger) {
			l.With(KeyParty, "W").InfoContext(ctx, "x", KeyMessageID, "R")
		}, `{"msg":"x","message_id":"R","interaction":"PORX_IN020101UK31","party":"W"}`},
		{"groups left alone", func(l *slog.Logger) { l.WithGroup("g").InfoContext(ctx, "x", "k", 1) },
			`{"msg":"x","g":{"k":1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := capture(t, tt.log)
			if len(lines) != 1 {
				t.Fatalf("%d lines", len(lines))
			}
			got := stripTimeLevel(t, lines[0])
			if got != tt.want {
				t.Fatalf("line\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestWrapOnce(t *testing.T) {
	l := Wrap(slog.New(slog.DiscardHandler))
	if Wrap(l) != l {
		t.Fatal("Wrap wrapped a wrapped logger again")
	}
	if Wrap(nil) != nil {
		t.Fatal("Wrap(nil) != nil")
	}
}

// stripTimeLevel returns a JSON line without its time and level.
func stripTimeLevel(t *testing.T, line string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"time", "level"} {
		line = strings.Replace(line, `"`+k+`":`+mustJSON(m[k])+`,`, "", 1)
	}
	return line
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestWithAllocatesOnce checks that With allocates the attributes an
// exchange's context carries once, whatever their number, beside the
// context itself: grown one attribute at a time, eight fields (a
// delivery attempt's) took four allocations of the slice.
func TestWithAllocatesOnce(t *testing.T) {
	base := With(context.Background(), slog.String(KeyMessageID, "M1"))
	tests := []struct {
		name  string
		attrs []slog.Attr
	}{
		{"one", []slog.Attr{slog.String(KeyParty, "P1")}},
		{"a delivery attempt's eight", []slog.Attr{slog.String(KeyMessageID, "M1"), slog.String(KeyConversationID, "C1"),
			slog.String(KeyParty, "P1"), slog.String(KeyTransport, "ebxml"), slog.String("delivery_id", "D1"),
			slog.String("delivery_interaction", "MCCI_IN010000UK13"), slog.String("kind", "answer"), slog.Int("attempt", 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allocs := testing.AllocsPerRun(100, func() { With(base, tt.attrs...) })
			t.Logf("%.0f allocations", allocs)
			// The slice, the context, and the slice boxed as its value.
			if allocs > 3 {
				t.Errorf("%.0f allocations, want at most 3", allocs)
			}
		})
	}
}
