package upstream

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/porxgate/porxgate/gateway/sim"
)

// acceptedFront stands in front of the simulator at simRoot as the API
// platform's synchronous wrapper does when it stops waiting for Spine: the
// first `accepted` process-message calls reach EPS (which acts on them) but
// their caller gets EPS's 202 Accepted with a Content-Location to poll and
// no body. It returns the front's root URL.
func acceptedFront(t *testing.T, simRoot string, accepted int32) string {
	t.Helper()
	var n atomic.Int32
	return lostAnswers(t, simRoot, func(r *http.Request) bool {
		return strings.HasSuffix(r.URL.Path, "/$process-message") && n.Add(1) <= accepted
	}, func(w http.ResponseWriter) {
		w.Header().Set("Content-Location", "https://internal.eps.example/_poll/9807d292-074a-49e8-b48d-52e5bbf785ed")
		w.WriteHeader(http.StatusAccepted)
	})
}

// TestAcceptedIsNotAnAnswer: porxgate never asks EPS for an asynchronous
// answer, so a 202 Accepted (EPS took the message, its outcome unknown:
// the wrapper in front of it gave up polling Spine) is not EPS's verdict.
// It is retried with the same X-Request-ID like a 504, and a
// prescription-order that the first attempt stored is then resolved as
// stored; a 202 on every attempt is an error, never a Response. Before,
// the 202 with its empty body came back as a success: the prescriber
// would have been told AA whatever Spine made of the message.
func TestAcceptedIsNotAnAnswer(t *testing.T) {
	mk := &rxMaker{}
	t.Run("then answered", func(t *testing.T) {
		_, simRoot := startSim(t, sim.Options{})
		c := newClient(t, testConfig(acceptedFront(t, simRoot, 1), nil))
		body := mk.next(t, "FH542").fixture(t, "prescription-order.json", nil)
		r, err := c.ProcessMessage(context.Background(), body)
		wantStatus(t, "prescription-order first answered 202", r, err, http.StatusOK)
		if r.Attempts != 2 || !r.DuplicateResolved {
			t.Fatalf("attempts %d resolved %v, want 2 and true (the 202'd attempt stored it)", r.Attempts, r.DuplicateResolved)
		}
	})
	t.Run("always 202", func(t *testing.T) {
		_, simRoot := startSim(t, sim.Options{})
		c := newClient(t, testConfig(acceptedFront(t, simRoot, 100), nil))
		body := mk.next(t, "FH542").fixture(t, "prescription-order.json", nil)
		r, err := c.ProcessMessage(context.Background(), body)
		var re *RetryError
		if !errors.As(err, &re) || re.Last == nil || re.Last.Status != http.StatusAccepted || re.Attempts != 3 {
			t.Fatalf("call = %+v, %v; want a RetryError after 3 attempts answered 202", r, err)
		}
	})
}
