package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/internal/deadline/deadlinetest"
)

// TestWithinDeadlineSaysNoAnswer: /readyz's check that fails as its
// deadline passes is reported as not answering within it, though its own
// error came back before the context's timer fired (deadlinetest.TimerLate:
// a hung Redis's "i/o timeout" at the deadline, returned first). Before,
// select took whichever was ready first and the check's bare "i/o
// timeout" was the answer when it came first
// (TestReadyzHungRedisBlamesOnlyTheStore's "no answer within").
func TestWithinDeadlineSaysNoAnswer(t *testing.T) {
	ioTimeout := errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: i/o timeout")
	tests := []struct {
		name  string
		ctx   context.Context
		check error
		want  string // in the error; "" for none
	}{
		{"answered", deadlinetest.TimerLate(time.Now().Add(time.Hour)), nil, ""},
		{"failed before the deadline", deadlinetest.TimerLate(time.Now().Add(time.Hour)), ioTimeout, "i/o timeout"},
		{"failed at the deadline, timer late", deadlinetest.TimerLate(time.Now().Add(-time.Millisecond)), ioTimeout, "no answer within 2s: read tcp"},
		{"answered at the deadline, timer late", deadlinetest.TimerLate(time.Now().Add(-time.Millisecond)), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := withinDeadline(tt.ctx, func(context.Context) error { return tt.check })
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("withinDeadline = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("withinDeadline = %v, want it to say %q", err, tt.want)
			}
			if d, _ := tt.ctx.Deadline(); d.After(time.Now()) && err != nil && strings.Contains(err.Error(), "no answer within") {
				t.Errorf("withinDeadline = %v, with its deadline ahead", err)
			}
			if tt.check != nil && !errors.Is(err, tt.check) {
				t.Errorf("withinDeadline = %v, does not wrap the check's error", err)
			}
		})
	}
}
