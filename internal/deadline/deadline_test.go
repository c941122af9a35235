package deadline_test

import (
	"context"
	"testing"
	"time"

	"github.com/porxgate/porxgate/internal/deadline"
	"github.com/porxgate/porxgate/internal/deadline/deadlinetest"
)

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
		{"passed, its timer not yet fired", deadlinetest.TimerLate(time.Now().Add(-time.Millisecond)), true},
		{"ahead, its timer not yet fired", deadlinetest.TimerLate(time.Now().Add(time.Hour)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := deadline.Passed(tt.ctx); got != tt.want {
				t.Errorf("Passed = %v, want %v", got, tt.want)
			}
		})
	}
}
