package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/porxgate/porxgate/ebxml"
	"github.com/porxgate/porxgate/gateway/compare"
	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/internal/stopqueue"
	v3 "github.com/porxgate/porxgate/v3"
)

// Comparison results counted in porxgate_compare_total.
const (
	compareMatch   = "match"
	compareDiffer  = "differ"
	compareError   = "error"
	compareSkipped = "skipped"
	// compareIncomplete: the answers differ, but about a prescription an
	// earlier message's shadow run was not made (or failed) for, so the
	// other path may never have seen it: not a difference to be trusted.
	compareIncomplete = "incomplete"
)

// comparing is the Processor of comparison mode: the primary path answers
// the sender; the shadow path runs afterwards on a bounded pool, never
// delaying, changing or failing the primary, and the two answers are
// compared into the journal and /metrics.
type comparing struct {
	fhir    Processor
	legacy  *compare.Legacy
	primary string
	timeout time.Duration
	workers int
	j       *journal.Journal
	log     *slog.Logger
	jobs    *stopqueue.Queue[shadowJob]
	// budget bounds held: the bytes of the shadow runs queued or in hand.
	budget int64
	held   atomic.Int64
	// order holds a shadow run back behind those it may depend on.
	order *runOrder
	// wake tells an idle shadow worker a job was queued.
	wake chan struct{}
	// queued holds the messages whose shadow run this process queued or
	// skipped: a message processed again (its answers' storing failed,
	// its lease lapsed) is not sent down the other path again nor counted
	// twice.
	queued *recentSet
	// memory holds the same across the gateway processes that share the
	// store (useStoreMemory; a replica may process a message again after
	// another), asked by the shadow workers (claim); and the prescriptions
	// (short-form ids) of messages whose shadow run was skipped or failed,
	// each noting which message and why: a later comparison about one of
	// them that differs is incomplete, not a difference.
	memory compareMemory
	// owner names this process in memory: the runs it holds there
	// (compareMemory.hold) are its own while its heartbeat lasts.
	owner string
	// lease is how long a held run of this process's outlives its last
	// heartbeat (compareLease): past it, another gateway process takes
	// the run as lost, and journals and counts it skipped.
	lease time.Duration
	total *prometheus.CounterVec
}

// compareLease is how long a shadow run queued by a gateway process
// that shares its store with others outlives the process's last
// heartbeat (sent every third of it): a process killed with runs queued
// or in hand has them journalled as skipped by another, or by itself
// restarted, within about twice this.
const compareLease = 30 * time.Second

// lostPerSweep bounds the held runs one sweep looks at.
const lostPerSweep = 64

// shadowJob is one shadow run waiting for a worker.
type shadowJob struct {
	in      Inbound
	primary Answer
	// primaryFault is the SOAP fault the primary path refused the message
	// with, in place of an answer.
	primaryFault *ebxml.SOAPFault
	// seq is the job's place in the order shadow runs were queued.
	seq uint64
	// size is the bytes it holds, counted against the queue's budget.
	size int64
}

// jobSize is the bytes job holds: its request and the primary's answer.
func jobSize(job shadowJob) int64 {
	return int64(len(job.in.Payload) + len(job.primary.Payload))
}

// OpenCompare wraps the FHIR-path Processor in comparison mode when
// --compare-legacy-url is set; otherwise it returns fhir as it is. j may be
// nil (then results go to /metrics and the log only).
func OpenCompare(cfg Config, fhir Processor, j *journal.Journal, m *Metrics, log *slog.Logger) Processor {
	if cfg.Compare.LegacyURL == "" {
		return fhir
	}
	return NewComparing(cfg.Compare, fhir, &compare.Legacy{URL: cfg.Compare.LegacyURL,
		Client: &http.Client{Timeout: cfg.Compare.Timeout}}, j, m, log)
}

// NewComparing returns the comparison-mode Processor over the FHIR path
// fhir and the legacy path legacy.
func NewComparing(cc CompareConfig, fhir Processor, legacy *compare.Legacy, j *journal.Journal, m *Metrics, log *slog.Logger) Processor {
	if cc.Workers < 1 {
		cc.Workers = 1
	}
	if cc.Timeout <= 0 {
		cc.Timeout = 30 * time.Second
	}
	if cc.QueueBytes <= 0 {
		cc.QueueBytes = DefaultCompareQueueBytes
	}
	total := registerCounter(m.Registry, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "porxgate_compare_total",
		Help: "Comparison mode: answers compared, by interaction and result (match, differ, incomplete, error, skipped).",
	}, []string{"interaction", "result"}))
	return &comparing{fhir: fhir, legacy: legacy, primary: cc.Primary, timeout: cc.Timeout, workers: cc.Workers,
		j: j, log: log.With("component", "compare"), jobs: stopqueue.New[shadowJob](shadowQueueLen), budget: int64(cc.QueueBytes), order: newRunOrder(), wake: make(chan struct{}, 1), total: total,
		queued: newRecentSet(rememberedShadowRuns, shadowRunsFor), memory: newLocalMemory(), owner: ids.NewUUID(), lease: compareLease}
}

// Describe says how comparison mode runs, for the admin page.
func (p *comparing) Describe() string {
	if p.primary == "legacy" {
		return "legacy primary at " + p.legacy.Endpoint() + ", FHIR path shadow"
	}
	return "FHIR path primary, legacy shadow at " + p.legacy.Endpoint()
}

// Supports implements Processor: the FHIR path's interactions; with the
// legacy path primary, also every other interaction of the MIM a legacy
// system sends (spineCarries: Spine carries them, and the sender is to see
// what it sees without porxgate; the ones the FHIR path does not translate
// are not compared). An id of no such interaction is refused at the door,
// as Spine refuses it, and names no metric series.
func (p *comparing) Supports(interaction string) bool {
	if p.primary == "legacy" && spineCarries(interaction) {
		return true
	}
	return p.fhir.Supports(interaction)
}

// sentInteractions are the interactions of the MIM (Spine MIM 4.2.00,
// Medication Management) that legacy systems send, in the UK family.
var sentInteractions = map[string]bool{
	v3.ParentPrescription: true, v3.ParentPrescriptionNonUrgent: true, v3.PatientReleaseRequest: true,
	v3.NominatedReleaseRequest: true, v3.DispenseProposalReturn: true, v3.CancelRequest: true,
	v3.DispenseNotification: true, v3.DispenseClaimInformation: true, v3.DispenseReimbursementClaim: true,
	v3.DispenseNoClaimNotification: true, v3.DispenserWithdraw: true, v3.RebuildDispenseHistory: true,
}

// spineCarries reports whether interaction (either family) is one of
// sentInteractions.
func spineCarries(interaction string) bool {
	canon, _, err := v3.Canonical(interaction)
	return err == nil && sentInteractions[canon]
}

// Process implements Processor: the primary path's outcome, with the
// shadow run queued (or skipped and counted when the queue is full).
func (p *comparing) Process(ctx context.Context, in *Inbound) (*Outcome, error) {
	var out *Outcome
	var err error
	if p.primary == "legacy" {
		out, err = p.legacyOutcome(ctx, in)
	} else {
		out, err = p.fhir.Process(ctx, in)
	}
	var rf *compare.RouteFault
	if err != nil && p.primary == "legacy" && errors.As(err, &rf) && !rf.Fault.Retryable() {
		// Spine refused an ebXML message for good (it goes to the dead
		// letters): its refusal is compared with the FHIR path's outcome.
		p.queueShadow(ctx, shadowJob{in: *in, primaryFault: rf.Fault})
		return out, err
	}
	if err != nil && p.primary != "legacy" && IsPermanent(err) && ctx.Err() == nil {
		// The FHIR path failed the message for good (it goes to the dead
		// letters): what its sender gets for it is compared with the
		// legacy path's outcome.
		p.queueShadow(ctx, shadowJob{in: *in, primaryFault: permanentRefusal(in, err)})
		return out, err
	}
	if err != nil || out == nil {
		return out, err
	}
	job := shadowJob{in: *in}
	switch a := firstAnswer(out); {
	case a != nil:
		job.primary = *a
	case out.Fault != nil && out.Fault.Retryable():
		// Unavailable for a moment: the sender sends the message again.
		// The shadow path is not run on this attempt (it would act on the
		// other environment twice: now, and for the retry).
		p.notRun(ctx, job, compareError, fmt.Sprintf("%s refused with a retryable SOAP fault %s (unavailable for a moment): not compared, and not sent down the other path (the sender sends it again)",
			p.primary, faultText(out.Fault)))
		return out, nil
	case out.Fault != nil: // a refusal is compared too
		job.primaryFault = out.Fault
	default:
		return out, nil
	}
	p.queueShadow(ctx, job)
	return out, nil
}

// queueShadow queues job's shadow run with its own copy of the payload,
// or skips it when the FHIR path (the shadow of the legacy path) does not
// translate the interaction.
func (p *comparing) queueShadow(ctx context.Context, job shadowJob) {
	if !p.queued.add(runKey(&job.in), "", time.Now()) {
		p.log.With(inboundArgs(&job.in)...).Info("processed again: its shadow run was queued the first time; not run again")
		return
	}
	if p.primary == "legacy" && !p.fhir.Supports(job.in.Interaction) {
		p.skip(ctx, job, "the FHIR path does not translate "+job.in.Interaction+": not compared")
		return
	}
	job.in.Payload = append([]byte(nil), job.in.Payload...)
	p.queue(ctx, job)
}

// claim reports whether job's shadow run is to be made: the first of its
// message among the gateway processes that share comparison mode's memory
// (compareMemory.firstRun), asked by the shadow worker, off the primary
// path. A run another process queued first is not made again (it may
// have been made: the other environment would act on it twice); when
// that process is not known to have made it or journalled it as not made
// (it may have been killed first), or the memory cannot say, the run is
// skipped, saying so, and its prescriptions remembered untried: never
// silently left out.
func (p *comparing) claim(ctx context.Context, job shadowJob) bool {
	key := runKey(&job.in)
	mctx, cancel := memoryCtx(ctx)
	defer cancel()
	fresh, _, err := p.memory.firstRun(mctx, key, p.owner, time.Now())
	if err != nil {
		p.skip(ctx, job, fmt.Sprintf("whether its shadow run was made before is unknown (%v): not run, lest the other path get it twice; not compared", err))
		return false
	}
	if fresh {
		return true
	}
	settled, err := p.memory.wasSettled(mctx, key, time.Now())
	switch {
	case err != nil:
		p.skip(ctx, job, fmt.Sprintf("its shadow run was queued before, and whether it was made is unknown (%v): not run again, lest the other path get it twice; not compared", err))
	case !settled:
		p.skip(ctx, job, skippedTakenUp)
	default:
		p.log.With(inboundArgs(&job.in)...).Info("processed again: its shadow run was made by another gateway process; not run again")
	}
	return false
}

// skippedTakenUp says why a shadow run another gateway process took up
// and did not settle is not made.
const skippedTakenUp = "its shadow run was taken up by another gateway process (a replica, or this one before a restart), which may have stopped before making it: not run again, lest the other path get it twice; not compared"

// skippedQueuedElsewhere says why a shadow run another gateway process
// queued and never took up (it was killed) is not made.
const skippedQueuedElsewhere = "its shadow run was queued by another gateway process (a replica, or this one before a restart), which stopped before taking it up: not made, its request no longer held; not compared"

// runKey is the key comparison mode remembers the shadow run of in by:
// its MessageId and its receipt (a sender's resending of the MessageId
// after its persist duration is a new message, as at Spine, processed and
// compared anew).
func runKey(in *Inbound) string {
	return fmt.Sprintf("%s:%s:%d", in.Interaction, in.MessageID, in.ReceivedAt.UnixNano())
}

// settle remembers that the shadow run of key (of exchange) was made, or
// journalled as not made (compareMemory.settled).
func (p *comparing) settle(ctx context.Context, key, exchange string) {
	mctx, cancel := memoryCtx(ctx)
	defer cancel()
	if err := p.memory.settled(mctx, key, time.Now()); err != nil {
		p.log.Warn("a shadow run made could not be remembered as made: if the message is processed again elsewhere, it is said skipped", "exchange", exchange, "err", err)
	}
}

// memoryTimeout bounds a call to comparison mode's memory (compareMemory)
// in the store: it is made on the primary path's way.
const memoryTimeout = 5 * time.Second

// memoryCtx returns a context for a call to comparison mode's memory:
// ctx's values, memoryTimeout, and not ctx's cancellation (a message
// processed as the gateway stops is still remembered).
func memoryCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), memoryTimeout)
}

// useStoreMemory makes comparison mode under proc, when it is on,
// remember in st when st is shared between replicas (not the in-memory
// store): any replica may take any message, so a message one replica ran
// the shadow of may be processed again by another, and a prescription one
// replica skipped may be cancelled through another.
func useStoreMemory(proc Processor, st store.Store) {
	if c := comparingOf(proc); c != nil && st != nil && st.Kind() != "memory" {
		c.memory = storeMemory{st: st}
	}
}

// primaryNoter is the FHIR path's capability T (DeadLetterNoter,
// UndeliveredNoter) when it is the primary path, whose answers and
// refusals its senders get; with the legacy path primary the FHIR path's
// answers go nowhere, and nothing of them is owed to anyone.
func primaryNoter[T any](p *comparing) (T, bool) {
	if p.primary == "legacy" {
		var none T
		return none, false
	}
	return underlying[T](p.fhir)
}

// NoteDeadLetter implements DeadLetterNoter for the FHIR path when it is
// primary: comparison mode over it hid its note, so that a nominated
// release dead-lettered after an attempt whose answer was lost left the
// prescriptions EPS released in it stranded with the pharmacy.
func (p *comparing) NoteDeadLetter(ctx context.Context, in *Inbound) error {
	if n, ok := primaryNoter[DeadLetterNoter](p); ok {
		return n.NoteDeadLetter(ctx, in)
	}
	return nil
}

// NoteUndelivered implements UndeliveredNoter for the FHIR path when it is
// primary (as NoteDeadLetter): a release response its receiver never took
// leaves what it released owed to the pharmacy's next release.
func (p *comparing) NoteUndelivered(ctx context.Context, dl *outbox.DeadLetter) error {
	if n, ok := primaryNoter[UndeliveredNoter](p); ok {
		return n.NoteUndelivered(ctx, dl)
	}
	return nil
}

// NoteDelivered implements UndeliveredNoter for the FHIR path when it is
// primary (NoteUndelivered).
func (p *comparing) NoteDelivered(ctx context.Context, d outbox.Delivery) error {
	if n, ok := primaryNoter[UndeliveredNoter](p); ok {
		return n.NoteDelivered(ctx, d)
	}
	return nil
}

// deadLettered queues the shadow run of in, which went to the dead letters
// for reason after the primary path failed it (retries exhausted, the
// poison rule, a permanent failure): its refusal, the eb:MessageError its
// sender gets (notProcessed), is compared with the other path's outcome.
// A message failed for the moment was not compared on any attempt, so a
// message the FHIR path lost while Spine answered it was never seen. A
// message queued already (a permanent failure, which Process compares) is
// not run again.
func (p *comparing) deadLettered(ctx context.Context, in *Inbound, reason string) {
	if len(in.Payload) == 0 { // an unreadable inbox entry: nothing to send
		return
	}
	if _, ok := p.queued.get(runKey(in), time.Now()); ok {
		return // queued when the primary failed it for good (Process)
	}
	p.queueShadow(ctx, shadowJob{in: *in, primaryFault: compare.MessageErrorRefusal(notProcessed(reason))})
}

// compareDeadLettered hands comparison mode, when it is on, a message that
// went to the dead letters for reason (comparing.deadLettered).
func (g *messaging) compareDeadLettered(ctx context.Context, in *Inbound, reason string) {
	if c := comparingOf(g.proc); c != nil {
		c.deadLettered(ctx, in, reason)
	}
}

// rememberedShadowRuns is how many messages comparison mode remembers
// having queued (or skipped) the shadow run of in memory, each for
// shadowRunsFor.
const (
	rememberedShadowRuns = 50_000
	shadowRunsFor        = time.Hour
)

// rememberedUntried is how many prescriptions comparison mode remembers an
// earlier message's shadow run was not made for, each for untriedFor.
const (
	rememberedUntried = 50_000
	untriedFor        = 7 * 24 * time.Hour
)

// shadowQueueLen is how many shadow runs may wait for a worker.
const shadowQueueLen = 256

// queue queues job for a shadow worker, or counts and journals it skipped
// when the queue is full (shadowQueueLen runs, or the bytes they hold past
// the budget) or the shadow workers have stopped.
func (p *comparing) queue(ctx context.Context, job shadowJob) {
	job.size = jobSize(job)
	if held := p.held.Add(job.size); held > p.budget {
		p.held.Add(-job.size)
		p.skip(ctx, job, fmt.Sprintf("shadow queue full (its runs hold %d bytes; with this one's %d past the budget of %d, --compare-queue-bytes): not compared",
			held-job.size, job.size, p.budget))
		return
	}
	p.hold(ctx, job)
	var put int
	p.order.add(func(seq uint64) bool {
		job.seq = seq
		put = p.jobs.Put(job)
		return put == stopqueue.Queued
	})
	switch put {
	case stopqueue.Queued:
		p.signal()
	case stopqueue.Full:
		p.held.Add(-job.size)
		p.skip(ctx, job, "shadow queue full: not compared")
		p.release(ctx, job)
	default:
		p.held.Add(-job.size)
		p.skip(ctx, job, skippedStopped)
		p.release(ctx, job)
	}
}

// hold remembers job's shadow run, queued by this process, in the store
// its replicas share (compareMemory.hold) until release: should this
// process be killed first, another journals it skipped (sweepLost).
func (p *comparing) hold(ctx context.Context, job shadowJob) {
	mctx, cancel := memoryCtx(ctx)
	defer cancel()
	run := func() heldRun {
		r := p.runOf(job)
		r.Prescriptions = append(journal.PrescriptionIDsOf(job.in.Payload), journal.PrescriptionIDsOf(job.primary.Payload)...)
		return r
	}
	if err := p.memory.hold(mctx, run, p.lease); err != nil {
		p.log.With(inboundArgs(&job.in)...).Warn("a shadow run queued could not be held in the store: should this process be killed before making it, it is left out unjournalled", "err", err)
	}
}

// release forgets job's held run (hold): it is settled.
func (p *comparing) release(ctx context.Context, job shadowJob) {
	mctx, cancel := memoryCtx(ctx)
	defer cancel()
	if err := p.memory.release(mctx, runKey(&job.in)); err != nil {
		p.log.With(inboundArgs(&job.in)...).Warn("a shadow run settled could not be released: another gateway process may find it lost later, and will find it settled", "err", err)
	}
}

// runOf is what the journal and memory take of job's run; its
// prescriptions are left for the caller.
func (p *comparing) runOf(job shadowJob) heldRun {
	return heldRun{Key: runKey(&job.in), Owner: p.owner, Interaction: job.in.Interaction, MessageID: job.in.MessageID, QueuedAt: time.Now()}
}

// keepHeld keeps this process's held runs its own (a heartbeat every
// third of the lease) and journals as skipped the runs of processes whose
// heartbeat has lapsed (sweepLost), until ctx is done.
func (p *comparing) keepHeld(ctx context.Context) {
	t := time.NewTicker(p.lease / 3)
	defer t.Stop()
	for {
		mctx, cancel := memoryCtx(ctx)
		if err := p.memory.heartbeat(mctx, p.owner, p.lease); err != nil {
			p.log.Warn("comparison mode's heartbeat failed: another gateway process may take this one's shadow runs as lost", "err", err)
		}
		cancel()
		p.sweepLost(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepLost journals and counts as skipped, saying why, the shadow runs
// that gateway processes whose heartbeat has lapsed (killed) queued and
// did not settle, and remembers their prescriptions untried: never
// silently left out. A run such a process never took up is not made (its
// request is held no more); one it took up may have been made. A run
// found taken up by a live process (its message processed again there)
// is that process's to settle.
func (p *comparing) sweepLost(ctx context.Context) {
	mctx, cancel := memoryCtx(ctx)
	defer cancel()
	runs, err := p.memory.lost(mctx, time.Now(), p.lease, lostPerSweep)
	if err != nil {
		p.log.Warn("comparison mode could not look for the shadow runs of stopped gateway processes", "err", err)
	}
	for _, r := range runs {
		if p.adopt(mctx, r) {
			if err := p.memory.forget(mctx, r); err != nil {
				p.log.Warn("a lost shadow run handled could not be forgotten: it is found again, and found settled", "exchange", r.MessageID, "err", err)
			}
		}
	}
}

// adopt journals lost run r as skipped unless it was settled or is in
// the hands of a live process, and reports whether r is done with (false:
// the memory could not say; r is found again once its lease runs out).
func (p *comparing) adopt(ctx context.Context, r lostRun) bool {
	fresh, by, err := p.memory.firstRun(ctx, r.Key, p.owner, time.Now())
	if err != nil {
		p.log.Warn("a lost shadow run could not be taken up", "exchange", r.MessageID, "err", err)
		return false
	}
	if fresh {
		p.skipRun(ctx, r.heldRun, r.Prescriptions, skippedQueuedElsewhere)
		return true
	}
	settled, err := p.memory.wasSettled(ctx, r.Key, time.Now())
	if err != nil {
		p.log.Warn("whether a lost shadow run was made is unknown", "exchange", r.MessageID, "err", err)
		return false
	}
	if settled {
		return true
	}
	if by != "" && by != r.Owner {
		alive, err := p.memory.alive(ctx, by)
		if err != nil {
			p.log.Warn("whether the process that took up a lost shadow run is alive is unknown", "exchange", r.MessageID, "err", err)
			return false
		}
		if alive {
			return true // its message processed again there: that process settles it
		}
	}
	p.skipRun(ctx, r.heldRun, r.Prescriptions, skippedTakenUp)
	return true
}

// signal wakes an idle shadow worker.
func (p *comparing) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// skippedStopped says why a shadow run queued at a stop was not made.
const skippedStopped = "the gateway stopped before the shadow run: not compared"

// skip counts and journals a shadow run not made, saying why, and
// remembers its prescriptions untried.
func (p *comparing) skip(ctx context.Context, job shadowJob, why string) {
	p.untry(ctx, job, "skipped", why)
	p.notRun(ctx, job, compareSkipped, why)
}

// skipRun is skip for run, a shadow run of another process's (sweepLost)
// whose request is held no more: prescriptions are its request's and
// primary answer's.
func (p *comparing) skipRun(ctx context.Context, run heldRun, prescriptions []string, why string) {
	p.untryIDs(ctx, run, prescriptions, "skipped", why)
	p.notRunOf(ctx, run, compareSkipped, why)
}

// untry remembers the prescriptions job's request and primary answer
// carry as untried on the other path: job's shadow run was not made or
// failed (what, why).
func (p *comparing) untry(ctx context.Context, job shadowJob, what, why string) {
	var prescriptions []string
	for _, b := range [][]byte{job.in.Payload, job.primary.Payload} {
		prescriptions = append(prescriptions, journal.PrescriptionIDsOf(b)...)
	}
	p.untryIDs(ctx, p.runOf(job), prescriptions, what, why)
}

// untryIDs remembers prescriptions as untried on the other path: the
// shadow run run was not made or failed (what, why).
func (p *comparing) untryIDs(ctx context.Context, run heldRun, prescriptions []string, what, why string) {
	note := fmt.Sprintf("the shadow run of %s %s was %s (%s)", run.Interaction, run.MessageID, what, truncate(why, 300))
	now := time.Now()
	mctx, cancel := memoryCtx(ctx)
	defer cancel()
	for _, id := range prescriptions {
		// A copy: the id may share the payload's memory, which the
		// set would otherwise hold for as long as it keeps the id.
		if err := p.memory.untry(mctx, strings.Clone(id), note, now); err != nil {
			p.log.Warn("a prescription whose shadow run was not made could not be remembered: a later comparison about it may say differ where it is incomplete",
				"exchange", run.MessageID, "interaction", run.Interaction, "prescription", id, "err", err)
		}
	}
}

// untriedNote says why a comparison of answers about the prescriptions
// payloads carry is incomplete: an earlier message's shadow run about one
// of them was not made or failed; "" when none was.
func (p *comparing) untriedNote(ctx context.Context, payloads ...[]byte) string {
	now := time.Now()
	mctx, cancel := memoryCtx(ctx)
	defer cancel()
	for _, b := range payloads {
		for _, id := range journal.PrescriptionIDsOf(b) {
			note, ok, err := p.memory.untried(mctx, id, now)
			if err != nil {
				return "prescription " + id + ": whether an earlier message's shadow run about it was made is unknown (" + err.Error() + "): the differences may be of that making"
			}
			if ok {
				return "prescription " + id + ": " + note + ", so the other path may not know it: the differences may be of that making"
			}
		}
	}
	return ""
}

// notRun counts and journals, as result, a shadow run not made, saying why.
func (p *comparing) notRun(ctx context.Context, job shadowJob, result, why string) {
	p.notRunOf(ctx, p.runOf(job), result, why)
}

// notRunOf is notRun for run.
func (p *comparing) notRunOf(ctx context.Context, run heldRun, result, why string) {
	p.total.WithLabelValues(run.Interaction, result).Inc()
	p.j.Record(journal.Event{Exchange: run.MessageID, Comparison: &journal.Comparison{Result: result, Primary: p.primary,
		Error: why}})
	p.settle(ctx, run.Key, run.MessageID)
}

// permanentRefusal is what the sender of in gets when the FHIR path fails
// it for good (err): over SOAP the door's fault 300, over ebXML the dead
// letters' eb:MessageError.
func permanentRefusal(in *Inbound, err error) *ebxml.SOAPFault {
	if in.Transport == TransportSOAP {
		return permanentFault()
	}
	return compare.MessageErrorRefusal(notProcessed(permanentReason(err)))
}

// FHIRPathResult is what the sender of in gets from the FHIR path's
// outcome out (or err): its v3 answer, or the refusal it is refused with
// (a SOAP fault; an eb:MessageError, as compare.MessageErrorRefusal gives
// it; for a message failed for good, the refusal it gets from the dead
// letters or the door, permanentRefusal). err is set when it gets neither
// yet: the path failed for the moment or gave nothing. Comparison mode's
// shadow runs and the offline replay (porxgate compare) take the FHIR
// path's outcome alike through it.
func FHIRPathResult(in *Inbound, out *Outcome, err error) (answer []byte, refusal *ebxml.SOAPFault, _ error) {
	switch {
	case err != nil && toldOf(err) != nil && in.Transport != TransportSOAP:
		return toldOf(err).Payload, nil, nil // it goes to the dead letters, its sender told by this answer
	case err != nil && IsPermanent(err):
		return nil, permanentRefusal(in, err), nil // it goes to the dead letters
	case err != nil:
		return nil, nil, err
	case out == nil:
		return nil, nil, errors.New("the FHIR path gave no answer")
	case firstAnswer(out) != nil:
		return firstAnswer(out).Payload, nil, nil
	case out.Fault != nil:
		return nil, out.Fault, nil
	case out.MessageError != nil:
		return nil, compare.MessageErrorRefusal(out.MessageError), nil
	}
	return nil, nil, errors.New("the FHIR path gave no answer")
}

// ShadowStep is the journal step of a shadow path's outcome: its answer,
// or the refusal it gave (refusal set), under title.
func ShadowStep(title string, answer []byte, refusal *ebxml.SOAPFault) *journal.Step {
	if refusal != nil {
		return &journal.Step{Kind: journal.StepShadow, Title: title + ": refused with " + compare.RefusalKind(refusal), ContentType: "text/plain",
			Body: faultText(refusal)}
	}
	return &journal.Step{Kind: journal.StepShadow, Title: title, ContentType: "application/xml", Body: string(answer)}
}

// firstAnswer returns the answer the sender gets, if any.
func firstAnswer(out *Outcome) *Answer {
	if out.Reply != nil {
		return out.Reply
	}
	if len(out.Answers) > 0 {
		return &out.Answers[0]
	}
	return nil
}

// legacyOutcome runs the legacy path as primary. A SOAP fault the route
// answers with is Spine's refusal: a SOAP sender gets it; an ebXML message
// is not tried again unless the fault says to. A route that took the
// message to answer it elsewhere (compare.ErrAsyncOnly) has it: an ebXML
// message is done without an answer, a SOAP request refused for good,
// and nothing is compared, saying why; deferred, it was sent to the route
// again every retry interval, for ever. Anything else failing
// (unreachable, no readable answer) defers the message.
func (p *comparing) legacyOutcome(ctx context.Context, in *Inbound) (*Outcome, error) {
	cctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	a, err := p.legacy.Call(cctx, requestOf(in))
	var rf *compare.RouteFault
	switch {
	case errors.Is(err, compare.ErrAsyncOnly):
		p.log.With(inboundArgs(in)...).Error("the legacy route took the message but answers only asynchronously, to another endpoint: its sender gets no answer through porxgate", "err", err)
		p.notRun(ctx, shadowJob{in: *in}, compareError, "not compared: "+err.Error())
		if in.Transport == TransportSOAP {
			return nil, Permanent(fmt.Errorf("%s %s: %w", in.Interaction, in.MessageID, err))
		}
		return &Outcome{}, nil
	case errors.As(err, &rf) && in.Transport == TransportSOAP:
		// Spine's own refusal is the primary answer: the sender gets it
		// as from Spine (a retryable one, 200/206/208, is not kept).
		return &Outcome{Fault: rf.Fault}, nil
	case errors.As(err, &rf) && !rf.Fault.Retryable():
		// Over ebXML: sending it again would be refused again.
		return nil, Permanent(fmt.Errorf("%s %s: %w", in.Interaction, in.MessageID, err))
	case err != nil:
		return nil, Deferred(fmt.Errorf("%s %s: %w", in.Interaction, in.MessageID, err))
	}
	ans := Answer{Interaction: a.Interaction, Payload: a.Payload}
	if in.Transport == TransportSOAP {
		return &Outcome{Reply: &ans}, nil
	}
	return &Outcome{Answers: []Answer{ans}}, nil
}

// requestOf is the legacy-path request for in.
func requestOf(in *Inbound) compare.Request {
	return compare.Request{Interaction: in.Interaction, Service: in.Service, MessageID: in.MessageID,
		ConversationID: in.ConversationID, FromParty: in.FromParty, ToParty: in.ToParty, CPAID: in.CPAID, Payload: in.Payload,
		SOAP: in.Transport == TransportSOAP, FromASID: in.FromASID, ToASID: in.ToASID, FromAddress: in.FromAddress}
}

// Run runs the shadow workers until ctx is done; then it lets the shadow
// runs in hand finish (for at most grace: cut later, they count as
// errors), and journals those still queued, and any queued after, as
// skipped.
func (p *comparing) Run(ctx context.Context, grace time.Duration) {
	// The heartbeat lasts until the runs in hand and queued are settled:
	// till then they are this process's own.
	hctx, stopHeld := context.WithCancel(context.WithoutCancel(ctx))
	heldDone := make(chan struct{})
	go func() { defer close(heldDone); p.keepHeld(hctx) }()
	defer func() { stopHeld(); <-heldDone }()
	outbox.Loop(ctx, p.workers, time.Second, p.wake, grace, func(ctx context.Context) bool {
		select {
		case job := <-p.jobs.C():
			if p.jobs.Len() > 0 { // another worker for the next one
				p.signal()
			}
			defer p.order.done(job.seq)
			defer p.held.Add(-job.size)
			defer p.release(ctx, job)
			if p.order.wait(ctx, job.seq, job.in.ReceivedAt) != nil {
				p.skip(ctx, job, skippedStopped)
				return true
			}
			if p.claim(ctx, job) {
				p.shadow(ctx, job)
			}
			return true
		default:
			return false
		}
	})
	for _, job := range p.jobs.Close() {
		p.order.done(job.seq)
		p.held.Add(-job.size)
		p.skip(ctx, job, skippedStopped)
		p.release(ctx, job)
	}
}

// runOrder keeps shadow runs in the order the primary path made them
// possible: a run waits for the unfinished runs of the messages the
// primary had answered before its own message was received (a
// cancellation sent once its prescription was answered: on the other path
// it would overtake the prescription and be refused). Runs of messages
// received while others were in hand run side by side, as they did on the
// primary path.
type runOrder struct {
	mu  sync.Mutex
	seq uint64
	// pending holds the unfinished runs: when each was queued.
	pending map[uint64]time.Time
	// changed is closed, and replaced, when a run finishes.
	changed chan struct{}
}

// newRunOrder returns an empty runOrder.
func newRunOrder() *runOrder {
	return &runOrder{pending: map[uint64]time.Time{}, changed: make(chan struct{})}
}

// add gives the next run its place and calls put with it; a run put
// (true) is pending until done.
func (o *runOrder) add(put func(seq uint64) bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seq++
	if put(o.seq) {
		o.pending[o.seq] = time.Now()
	}
}

// wait returns once no run queued before seq, and before receivedAt, is
// unfinished; or ctx's error when ctx is done first.
func (o *runOrder) wait(ctx context.Context, seq uint64, receivedAt time.Time) error {
	for {
		o.mu.Lock()
		ahead := false
		for s, queued := range o.pending {
			if s < seq && !queued.After(receivedAt) {
				ahead = true
				break
			}
		}
		changed := o.changed
		o.mu.Unlock()
		if !ahead {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the shadow runs before it: %w", ctx.Err())
		}
	}
}

// done marks the run seq finished (or not to be made).
func (o *runOrder) done(seq uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.pending[seq]; !ok {
		return
	}
	delete(o.pending, seq)
	close(o.changed)
	o.changed = make(chan struct{})
}

// shadow runs the other path for one job and compares the answers.
func (p *comparing) shadow(ctx context.Context, job shadowJob) {
	in := &job.in
	sctx, cancel := context.WithTimeout(journal.WithExchange(ctx, in.MessageID), p.timeout)
	defer cancel()
	var other []byte
	var otherFault *ebxml.SOAPFault // the other path's refusal, in place of an answer
	var otherName, title string
	var serr error
	start := time.Now()
	if p.primary == "legacy" {
		otherName, title = "fhir", "FHIR path (shadow) answer"
		// Under the sender's upstream identity, as when the FHIR path is
		// primary (Run scopes the primary path, not this worker's), and
		// marked a shadow run: nothing it does may reach the sender.
		out, err := PartyScoped(p.fhir).Process(withShadowRun(sctx), in)
		other, otherFault, serr = FHIRPathResult(in, out, err)
	} else {
		otherName, title = "legacy", "legacy path (shadow) answer"
		a, err := p.legacy.Call(sctx, requestOf(in))
		var rf *compare.RouteFault
		if errors.As(err, &rf) {
			otherFault = rf.Fault
		} else {
			serr, other = err, a.Payload
		}
	}
	step := ShadowStep(title, other, otherFault)
	step.TookMS = time.Since(start).Milliseconds()
	c := &journal.Comparison{Primary: p.primary}
	result := compareError
	if serr != nil {
		step.Note, c.Error = serr.Error(), serr.Error()
		p.untry(ctx, job, "failed", serr.Error())
	} else if diffs, err := compare.CompareOutcomes(job.primaryFault, job.primary.Payload, otherFault, other, in.Payload, p.primary, otherName); err != nil {
		c.Error = err.Error()
		if otherFault != nil && otherFault.Retryable() {
			// Refused as unavailable for a moment (200, 206, 208): the
			// other environment did not act on it, as when it failed.
			p.untry(ctx, job, "refused as unavailable for a moment", err.Error())
		}
	} else if len(diffs) == 0 {
		result = compareMatch
	} else {
		result, c.Differences = compareDiffer, diffs
		if note := p.untriedNote(ctx, in.Payload, job.primary.Payload, other); note != "" {
			result, c.Error = compareIncomplete, note
		}
	}
	c.Result = result
	p.total.WithLabelValues(in.Interaction, result).Inc()
	p.j.Record(journal.Event{Exchange: in.MessageID, Step: step, Comparison: c})
	p.settle(ctx, runKey(in), in.MessageID)
	p.log.With(inboundArgs(in)...).Info("compared", "result", result, "differences", len(c.Differences), "err", c.Error)
}

// shadowRunKey marks a context as a shadow run's (withShadowRun).
type shadowRunKey struct{}

// withShadowRun marks ctx as the FHIR path's shadow run in comparison
// mode (the legacy path primary): its answer goes nowhere but the
// comparison, so the processor does nothing of its own toward the sender
// either — no pending cancellation is tracked (the poller would send a
// Subsequent Cancel Response of the shadow's) and none settled.
func withShadowRun(ctx context.Context) context.Context {
	return context.WithValue(ctx, shadowRunKey{}, true)
}

// isShadowRun reports whether ctx is a shadow run's.
func isShadowRun(ctx context.Context) bool {
	v, _ := ctx.Value(shadowRunKey{}).(bool)
	return v
}

// comparingOf finds the comparison-mode Processor under p, through the
// decorators Run and NewServer put over it, if any.
func comparingOf(p Processor) *comparing {
	c, _ := underlying[*comparing](p)
	return c
}

// startCompare runs comparison mode's shadow workers, when it is on.
func (s *Server) startCompare(ctx context.Context, wg *sync.WaitGroup) {
	if c := comparingOf(s.msg.proc); c != nil {
		wg.Add(1)
		go func() { defer wg.Done(); c.Run(ctx, s.cfg.ShutdownTimeout) }()
	}
}
