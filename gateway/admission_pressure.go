package gateway

import (
	"log/slog"
	"math"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// gcReadFresh is how long a reading of the collector's share serves the
// front doors before the runtime's figures are read again (a read costs
// about 130 ns; the figures change only as a collection ends).
const gcReadFresh = 100 * time.Millisecond

// gcQuiet is how long without a collection ending counts as no pressure:
// the runtime updates its CPU figures only as a collection ends, so a
// gateway that stopped allocating (its doors shedding) would otherwise
// keep the last, high, share for ever.
const gcQuiet = time.Second

// gcNearLimit is how near the soft memory limit the memory the limit
// counts must be for the collector's share to refuse messages: the share
// runs away where the limit squeezes the heap, not below it (without a
// limit, GOGC keeps the collector's cost in proportion to the work).
const gcNearLimit = 0.9

// gcFigures are the runtime's figures the pressure is read from, as of
// the last collection that ended (runtime/metrics).
type gcFigures struct {
	// busy is the CPU the collector took from the program (marking by
	// dedicated and fractional workers, assists, pauses: its time on
	// otherwise idle processors left out), used the CPU the program used
	// (the collector's busy time included), both in CPU seconds.
	busy, used float64
	// cycles counts the collections ended.
	cycles uint64
	// inUse is the memory the soft limit counts (mapped and not returned
	// to the system), limit the soft limit (math.MaxInt64: none).
	inUse, limit uint64
}

// gcSampleNames are the runtime/metrics the figures come from, in the
// order readGCFigures reads them.
var gcSampleNames = [...]string{
	"/cpu/classes/gc/total:cpu-seconds",
	"/cpu/classes/gc/mark/idle:cpu-seconds",
	"/cpu/classes/idle:cpu-seconds",
	"/cpu/classes/total:cpu-seconds",
	"/gc/cycles/total:gc-cycles",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/gc/gomemlimit:bytes",
}

// readGCFigures reads the figures into s (len(gcSampleNames) samples
// named by newGCSamples).
func readGCFigures(s []metrics.Sample) gcFigures {
	metrics.Read(s)
	f64 := func(i int) float64 {
		if s[i].Value.Kind() != metrics.KindFloat64 {
			return 0
		}
		return s[i].Value.Float64()
	}
	u64 := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	gcIdle := f64(1)
	return gcFigures{busy: f64(0) - gcIdle, used: f64(3) - f64(2) - gcIdle, cycles: u64(4),
		inUse: u64(5) - u64(6), limit: u64(7)}
}

// newGCSamples returns the samples readGCFigures reads.
func newGCSamples() []metrics.Sample {
	s := make([]metrics.Sample, len(gcSampleNames))
	for i, n := range gcSampleNames {
		s[i].Name = n
	}
	return s
}

// gcShare is the collector's share of the CPU the program used between
// the collections that ended at from and to; 0 when to is no later.
func gcShare(from, to gcFigures) float64 {
	used := to.used - from.used
	if to.cycles == from.cycles || used <= 0 {
		return 0
	}
	return min(max((to.busy-from.busy)/used, 0), 1)
}

// nearLimit says whether f's memory in use is within gcNearLimit of a
// soft memory limit (false without one).
func (f gcFigures) nearLimit() bool {
	return f.limit > 0 && f.limit < math.MaxInt64 && float64(f.inUse) >= gcNearLimit*float64(f.limit)
}

// gcPressure tells the front doors when the gateway is past what it can
// process for its memory (Config.MaxGCCPUPercent): the collector took more
// than max of the CPU the gateway used between the last collections, with
// the memory in use near the soft limit (--memory-limit-mb). There each
// message taken makes the collector work harder still, and the gateway
// collapsed instead of shedding: offered 1,900 msgs/s open loop at the
// default 100 MiB, the collector took about 40 % of its core and it
// processed 1,005 msgs/s, against 1,905 at 2,000 offered when the heap had
// room. Refusing new messages before their bodies are read (admission.early)
// stops the allocation that feeds the collector, and the messages in hand
// are processed at full speed.
type gcPressure struct {
	// max is the share past which messages are refused; 0: never (the
	// share is still read, for the gauge).
	max float64
	log *slog.Logger

	mu      sync.Mutex
	samples []metrics.Sample
	// read is when the figures were last read (zero: never); base the
	// figures of the last collection seen, seen at baseAt; share the
	// share last worked out, over the collections before base.
	read   time.Time
	base   gcFigures
	baseAt time.Time
	share  float64
	near   bool
	// shedding is set while messages are refused, for one log line when
	// refusing starts and one when it ends.
	shedding atomic.Bool
}

// newGCPressure returns the pressure of a bound of percent % (0: none).
func newGCPressure(percent int, log *slog.Logger) *gcPressure {
	return &gcPressure{max: float64(percent) / 100, log: log, samples: newGCSamples()}
}

// gcShareDesc describes porxgate_gc_cpu_fraction.
var gcShareDesc = prometheus.NewDesc("porxgate_gc_cpu_fraction",
	"Share of the CPU the gateway used that the garbage collector took, between the last collections (0 after a second without one), as the front doors read it (at most every 100 ms, and at each scrape); past --max-gc-cpu-percent with the memory in use within 90 % of the soft limit, new messages are refused as busy before their bodies are read.",
	nil, nil)

// Describe implements prometheus.Collector.
func (p *gcPressure) Describe(ch chan<- *prometheus.Desc) { ch <- gcShareDesc }

// Collect implements prometheus.Collector: the share read now (at most
// gcReadFresh old), so that it falls back to 0 once collections stop
// even when no message comes to read it.
func (p *gcPressure) Collect(ch chan<- prometheus.Metric) {
	share, _ := p.over(time.Now())
	ch <- prometheus.MustNewConstMetric(gcShareDesc, prometheus.GaugeValue, share)
}

// over returns the collector's share of the gateway's CPU, read at most
// gcReadFresh before now, and whether messages are to be refused for it.
func (p *gcPressure) over(now time.Time) (float64, bool) {
	if p == nil {
		return 0, false
	}
	p.mu.Lock()
	if now.Sub(p.read) >= gcReadFresh {
		p.observe(readGCFigures(p.samples), now)
	}
	share, near := p.share, p.near
	p.mu.Unlock()
	over := p.max > 0 && near && share > p.max
	switch {
	case over && !p.shedding.Swap(true):
		p.log.Warn("the collector takes too much of the gateway's CPU near its memory limit: new messages refused with a retryable fault, before their bodies are read, until it eases",
			"gc_cpu_percent", math.Round(share*100), "max_gc_cpu_percent", math.Round(p.max*100))
	case !over && p.shedding.Swap(false):
		p.log.Info("the collector's share eased: messages taken again", "gc_cpu_percent", math.Round(share*100))
	}
	return share, over
}

// observe takes the figures f read at now (p.mu held): the share over the
// collections that ended since the last seen, none after gcQuiet without
// one; the first reading only sets the base.
func (p *gcPressure) observe(f gcFigures, now time.Time) {
	first := p.read.IsZero()
	p.read, p.near = now, f.nearLimit()
	switch {
	case first:
		p.base, p.baseAt = f, now
	case f.cycles != p.base.cycles:
		p.share = gcShare(p.base, f)
		p.base, p.baseAt = f, now
	case now.Sub(p.baseAt) >= gcQuiet:
		p.share = 0
	}
}
