package deadline

import (
	"context"
	"testing"
	"time"
)

// timerLate is a context whose deadline has passed while its Err is still
// nil, as a context is between its deadline and its timer's firing.
type timerLate struct {
	context.Context
	at time.Time
}

func (c timerLate) Deadline() (time.Time, bool) { return c.at, true }

func TestPassed(t *testing.T) {
	expired, cancel := context.WithTimeout(context.Background(), -time.Second)
	defer cancel()
	future, cancelFuture := context.WithTimeout(context.Background(), time.Hour)
	defer cancelFuture()
	cancelled, cancelNow := context.WithTimeout(context.Background(), time.Hour)
	cancelNow()
	tests := []struct {
		name string
		ctx  context.Context
		want bool
	}{
		{"no deadline", context.Background(), false},
		{"deadline ahead", future, false},
		{"cancelled before its deadline", cancelled, false},
		{"exceeded", expired, true},
		{"passed, its timer not yet fired", timerLate{context.Background(), time.Now().Add(-time.Millisecond)}, true},
		{"ahead, its timer not yet fired", timerLate{context.Background(), time.Now().Add(time.Hour)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Passed(tt.ctx); got != tt.want {
				t.Errorf("Passed = %v, want %v", got, tt.want)
			}
		})
	}
}
