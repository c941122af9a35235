package admin

import (
	"context"
	"fmt"
	"time"

	"github.com/porxgate/porxgate/gateway/journal"
)

// maxRated is how many of the last hour's exchanges the live state reads
// to count rates.
const maxRated = 5000

// ratesEvery is how long rates once counted are shown before they are
// counted again. Counting reads up to maxRated summaries (about 50 Redis
// round trips with a busy hour); the page polls the live state every 5 s
// per operator, so every poller shares one count, at most one per
// ratesEvery, whatever their number.
const ratesEvery = 10 * time.Second

// counted is one count of the rates.
type counted struct {
	// at is when it was counted: the end of the hour it covers.
	at time.Time
	// rates and comparisons are the counts; since is the oldest exchange
	// read when the hour held more than maxRated, and problem says so.
	rates       []Rate
	comparisons map[string]int
	since       time.Time
	problem     string
	// err is why it could not be counted (kept as long as a count, so
	// that pollers of a failing journal do not each ask it again).
	err error
}

// countRates counts the exchanges of the hour before at by interaction
// and outcome, and the comparison results, from j's newest maxRated.
func countRates(ctx context.Context, j *journal.Journal, at time.Time) counted {
	r := counted{at: at, comparisons: map[string]int{}}
	recent, err := j.Backend().Search(ctx, journal.Query{From: at.Add(-time.Hour), Limit: maxRated})
	if err != nil {
		r.err = fmt.Errorf("rates: %w", err)
		return r
	}
	window := time.Hour
	if len(recent) >= maxRated {
		// The newest maxRated are not the whole hour: rate them over the
		// time they cover.
		r.since = recent[len(recent)-1].Started.UTC()
		window = max(at.Sub(r.since), time.Second)
		r.problem = fmt.Sprintf("rates and comparison counts cover the newest %d exchanges only, since %s UTC",
			maxRated, r.since.Format(time.TimeOnly))
	}
	counts := map[[2]string]int{}
	for _, x := range recent {
		o := x.Outcome.Result
		if o == "" {
			o = journal.OutcomeInProgress
		}
		counts[[2]string{x.Interaction, o}]++
		if x.Comparison != nil {
			r.comparisons[x.Comparison.Result]++
		}
	}
	for k, n := range counts {
		r.rates = append(r.rates, Rate{Interaction: k[0], Outcome: k[1], LastHour: n, PerMinute: float64(n) / window.Minutes()})
	}
	sortRates(r.rates)
	return r
}
