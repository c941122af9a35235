package loadgen

import (
	"slices"
	"strconv"
	"sync"
	"time"
)

// Latencies summarises one kind of latency over a run: how many samples,
// the median, the 99th and 99.9th percentiles and the largest.
type Latencies struct {
	N                   int
	P50, P99, P999, Max time.Duration
}

// String prints the summary in milliseconds, e.g.
// "n=1000 p50=1.20ms p99=4.80ms p99.9=9.10ms max=12.00ms".
func (l Latencies) String() string {
	if l.N == 0 {
		return "n=0"
	}
	return "n=" + itoa(l.N) + " p50=" + ms(l.P50) + " p99=" + ms(l.P99) + " p99.9=" + ms(l.P999) + " max=" + ms(l.Max)
}

// recorder keeps every sample of one run. A run is bounded (its message
// count is known up front), so keeping the samples costs 8 bytes each and
// gives exact percentiles.
type recorder struct {
	mu      sync.Mutex
	samples []time.Duration
}

// newRecorder returns a recorder sized for n samples.
func newRecorder(n int) *recorder {
	return &recorder{samples: make([]time.Duration, 0, n)}
}

// add records one sample.
func (r *recorder) add(d time.Duration) {
	r.mu.Lock()
	r.samples = append(r.samples, d)
	r.mu.Unlock()
}

// summary sorts the samples and reads the percentiles (nearest rank).
func (r *recorder) summary() Latencies {
	r.mu.Lock()
	s := slices.Clone(r.samples)
	r.mu.Unlock()
	return summarise(s)
}

// summarise sorts s in place and reads its percentiles by nearest rank.
func summarise(s []time.Duration) Latencies {
	if len(s) == 0 {
		return Latencies{}
	}
	slices.Sort(s)
	return Latencies{N: len(s), P50: rank(s, 0.50), P99: rank(s, 0.99), P999: rank(s, 0.999), Max: s[len(s)-1]}
}

// rank is the nearest-rank percentile p (0 < p ≤ 1) of sorted s.
func rank(s []time.Duration, p float64) time.Duration {
	i := int(float64(len(s))*p+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// ms prints d in milliseconds with two decimals.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

// itoa prints n in decimal.
func itoa(n int) string { return strconv.Itoa(n) }
