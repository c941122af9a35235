package journal

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"time"
	"unsafe"
)

// Step kinds: what one step of an exchange records.
const (
	// StepLegacyRequest is the v3 request as the legacy system sent it.
	StepLegacyRequest = "legacy-request"
	// StepFHIRRequest is the FHIR request sent to EPS.
	StepFHIRRequest = "fhir-request"
	// StepEPSAnswer is EPS's answer (status, headers, body, time taken),
	// or the error in its place.
	StepEPSAnswer = "eps-answer"
	// StepV3Answer is a v3 answer going back to the legacy system.
	StepV3Answer = "v3-answer"
	// StepDelivery is the outcome of one delivery of an async answer.
	StepDelivery = "delivery"
	// StepFault is a fault: a retry, a deferral behind an open breaker, a
	// dead letter.
	StepFault = "fault"
	// StepShadow is the other path's answer in comparison mode.
	StepShadow = "shadow-answer"
)

// Step is one recorded step of an exchange.
type Step struct {
	// At is when the step happened.
	At time.Time `json:"at"`
	// Kind is one of the Step* constants.
	Kind string `json:"kind"`
	// Title says in a few words what happened, e.g. "POST /FHIR/R4/$process-message".
	Title string `json:"title,omitempty"`
	// Interaction is the v3 interaction id of the payload, when it is v3.
	Interaction string `json:"interaction,omitempty"`
	// Status is the HTTP status, when there was one.
	Status int `json:"status,omitempty"`
	// Headers are the headers that matter (never credentials).
	Headers map[string]string `json:"headers,omitempty"`
	// ContentType is the payload's media type.
	ContentType string `json:"contentType,omitempty"`
	// Body is the payload.
	Body string `json:"body,omitempty"`
	// TookMS is how long the step took, in milliseconds.
	TookMS int64 `json:"tookMs,omitempty"`
	// Note says what a fault did, or why a step failed.
	Note string `json:"note,omitempty"`
}

// Payload returns b as a Step's Body without copying it: the step shares
// b's memory until the writer has written it, so the caller must never
// change b again (a payload as received or as built, which the gateway
// only reads). A copy cost each message its legacy request's size, about
// 10 KB of the 240 KB it allocated, for a string that lives only until
// the writer's next batch.
func Payload(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// IDs are the identifiers an exchange can be found by.
type IDs struct {
	// MessageIDs are the ebXML/WS-A message ids seen in the exchange.
	MessageIDs []string `json:"messageIds,omitempty"`
	// ConversationID is the eb:ConversationId.
	ConversationID string `json:"conversationId,omitempty"`
	// RefToMessageIDs are the ids answers refer to.
	RefToMessageIDs []string `json:"refToMessageIds,omitempty"`
	// PrescriptionIDs are short-form prescription ids.
	PrescriptionIDs []string `json:"prescriptionIds,omitempty"`
	// NHSNumbers are the patients' NHS numbers.
	NHSNumbers []string `json:"nhsNumbers,omitempty"`
	// ODSCodes are the organisations' ODS codes.
	ODSCodes []string `json:"odsCodes,omitempty"`
	// XRequestIDs are the X-Request-IDs of the calls to EPS.
	XRequestIDs []string `json:"xRequestIds,omitempty"`
}

// all returns every id, for indexing.
func (i IDs) all() []string {
	var out []string
	for _, l := range [][]string{i.MessageIDs, i.RefToMessageIDs, i.PrescriptionIDs, i.NHSNumbers, i.ODSCodes, i.XRequestIDs} {
		out = append(out, l...)
	}
	if i.ConversationID != "" {
		out = append(out, i.ConversationID)
	}
	return out
}

// count is len(i.all()), without making the list.
func (i IDs) count() int {
	n := len(i.MessageIDs) + len(i.RefToMessageIDs) + len(i.PrescriptionIDs) + len(i.NHSNumbers) + len(i.ODSCodes) + len(i.XRequestIDs)
	if i.ConversationID != "" {
		n++
	}
	return n
}

// size is what eventSize counts for the ids (each one's length and 3),
// without making the list all makes: eventSize runs for every event
// recorded and again as the writer cuts its batch into runs.
func (i IDs) size() int {
	n := 0
	for _, l := range [...][]string{i.MessageIDs, i.RefToMessageIDs, i.PrescriptionIDs, i.NHSNumbers, i.ODSCodes, i.XRequestIDs} {
		for _, v := range l {
			n += len(v) + 3
		}
	}
	if i.ConversationID != "" {
		n += len(i.ConversationID) + 3
	}
	return n
}

// has reports whether v is one of the ids (case-insensitive).
func (i IDs) has(v string) bool {
	if strings.EqualFold(i.ConversationID, v) && i.ConversationID != "" {
		return true
	}
	for _, l := range [...][]string{i.MessageIDs, i.RefToMessageIDs, i.PrescriptionIDs, i.NHSNumbers, i.ODSCodes, i.XRequestIDs} {
		for _, x := range l {
			if strings.EqualFold(x, v) {
				return true
			}
		}
	}
	return false
}

// merge adds o's ids to i.
func (i *IDs) merge(o IDs) {
	add := func(dst *[]string, src []string) {
		for _, v := range src {
			if v != "" && !slices.Contains(*dst, v) {
				*dst = append(*dst, v)
			}
		}
	}
	add(&i.MessageIDs, o.MessageIDs)
	add(&i.RefToMessageIDs, o.RefToMessageIDs)
	add(&i.PrescriptionIDs, o.PrescriptionIDs)
	add(&i.NHSNumbers, o.NHSNumbers)
	add(&i.ODSCodes, o.ODSCodes)
	add(&i.XRequestIDs, o.XRequestIDs)
	if i.ConversationID == "" {
		i.ConversationID = o.ConversationID
	}
}

// Signature is the XML-DSig signature a prescription carried.
type Signature struct {
	// Digest is the DigestValue of the signed fragments.
	Digest string `json:"digest,omitempty"`
	// DigestAlgorithm is the DigestMethod's Algorithm.
	DigestAlgorithm string `json:"digestAlgorithm,omitempty"`
	// Algorithm is the SignatureMethod's Algorithm.
	Algorithm string `json:"algorithm,omitempty"`
}

// Outcome is the business outcome of an exchange.
type Outcome struct {
	// Result is a short word: accepted, rejected, error, released,
	// not-released, cancelled, pending, refused, dead-letter, in-progress.
	Result string `json:"result"`
	// Code is the Spine/EPS code (e.g. "AA", "0004", "R-0002").
	Code string `json:"code,omitempty"`
	// Text says the outcome in plain words.
	Text string `json:"text,omitempty"`
}

// OutcomeInProgress is the Outcome.Result of an exchange that waits to be
// tried again; a search for it also finds those with no outcome yet (the
// page shows both as in progress).
const OutcomeInProgress = "in-progress"

// OutcomeDeadLetter is the Outcome.Result of an exchange whose message or
// answer was given up on.
const OutcomeDeadLetter = "dead-letter"

// Comparison is the result of comparing the two paths' answers.
type Comparison struct {
	// Result is "match", "differ", "incomplete" (the answers differ about
	// a prescription an earlier message's shadow run was not made or
	// failed for: Error says which), "error" or "skipped".
	Result string `json:"result"`
	// Primary names the path that answered the sender ("fhir" or "legacy").
	Primary string `json:"primary,omitempty"`
	// Differences list what differs after normalisation.
	Differences []string `json:"differences,omitempty"`
	// Error says why the comparison could not be made.
	Error string `json:"error,omitempty"`
}

// Exchange is everything recorded about one legacy exchange, keyed by the
// MessageId of the legacy request.
type Exchange struct {
	// ID is the MessageId of the legacy request.
	ID string `json:"id"`
	// Interaction is the request's interaction id.
	Interaction string `json:"interaction,omitempty"`
	// Transport is "ebxml", "soap" or "replay".
	Transport string `json:"transport,omitempty"`
	// Party is the sender's party key or ASID.
	Party string `json:"party,omitempty"`
	// Started and Updated bound the exchange in time.
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
	// IDs are the ids found in the exchange.
	IDs IDs `json:"ids"`
	// Signature is the prescription's signature, when it had one.
	Signature *Signature `json:"signature,omitempty"`
	// Outcome is the latest business outcome.
	Outcome Outcome `json:"outcome"`
	// AnswerOutcome is what the latest v3 answer said, kept apart from
	// Outcome: an answer given up on makes Outcome "dead-letter", and
	// once it is delivered after all (an operator resent it) Outcome is
	// this again.
	AnswerOutcome *Outcome `json:"answerOutcome,omitempty"`
	// Comparison is the comparison result in comparison mode.
	Comparison *Comparison `json:"comparison,omitempty"`
	// Steps are the steps in the order they were recorded.
	Steps []Step `json:"steps"`
}

// Summary is an exchange without its steps, for listings.
type Summary struct {
	ID          string      `json:"id"`
	Interaction string      `json:"interaction,omitempty"`
	Transport   string      `json:"transport,omitempty"`
	Party       string      `json:"party,omitempty"`
	Started     time.Time   `json:"started"`
	Updated     time.Time   `json:"updated"`
	IDs         IDs         `json:"ids"`
	Outcome     Outcome     `json:"outcome"`
	Comparison  *Comparison `json:"comparison,omitempty"`
	Steps       int         `json:"steps"`
}

// Summary returns x without its steps.
func (x *Exchange) Summary() Summary {
	return Summary{ID: x.ID, Interaction: x.Interaction, Transport: x.Transport, Party: x.Party,
		Started: x.Started, Updated: x.Updated, IDs: x.IDs, Outcome: x.Outcome, Comparison: x.Comparison, Steps: len(x.Steps)}
}

// Event is one thing to record about an exchange. Fields left empty
// change nothing.
type Event struct {
	// Exchange is the MessageId of the legacy request the event belongs to.
	Exchange string `json:"exchange"`
	// At is when it happened (default: when recorded).
	At          time.Time `json:"at"`
	Interaction string    `json:"interaction,omitempty"`
	Transport   string    `json:"transport,omitempty"`
	Party       string    `json:"party,omitempty"`
	// IDs are ids known without reading the payload.
	IDs IDs `json:"ids"`
	// Step is the step to append, if any.
	Step *Step `json:"step,omitempty"`
	// Outcome replaces the exchange's outcome when set.
	Outcome *Outcome `json:"outcome,omitempty"`
	// Comparison replaces the exchange's comparison when set.
	Comparison *Comparison `json:"comparison,omitempty"`
	// Signature sets the exchange's signature when set.
	Signature *Signature `json:"signature,omitempty"`
	// AnswerOutcome is the outcome a v3 answer step says (the writer reads
	// it out of the payload).
	AnswerOutcome *Outcome `json:"answerOutcome,omitempty"`
	// Delivered says the exchange's answer reached its receiver: an
	// outcome of "dead-letter" gives way to the answer's own.
	Delivered bool `json:"delivered,omitempty"`
}

// apply merges ev into x.
func (x *Exchange) apply(ev Event) {
	if x.ID == "" {
		x.ID = ev.Exchange
	}
	if x.Started.IsZero() || ev.At.Before(x.Started) {
		x.Started = ev.At
	}
	if ev.At.After(x.Updated) {
		x.Updated = ev.At
	}
	if x.Interaction == "" {
		x.Interaction = ev.Interaction
	}
	if x.Transport == "" {
		x.Transport = ev.Transport
	}
	if x.Party == "" {
		x.Party = ev.Party
	}
	x.IDs.merge(ev.IDs)
	if ev.Step != nil {
		st := *ev.Step
		if st.At.IsZero() {
			st.At = ev.At
		}
		// Steps are kept in time order: an event written at once
		// (Journal.RecordNow) may reach the backend before queued events
		// that happened earlier.
		i := len(x.Steps)
		for i > 0 && x.Steps[i-1].At.After(st.At) {
			i--
		}
		x.Steps = slices.Insert(x.Steps, i, st)
	}
	if ev.Outcome != nil {
		x.Outcome = *ev.Outcome
	}
	if ev.AnswerOutcome != nil {
		x.AnswerOutcome = ev.AnswerOutcome
	}
	if ev.Delivered && x.Outcome.Result == OutcomeDeadLetter && x.AnswerOutcome != nil {
		x.Outcome = *x.AnswerOutcome
	}
	if ev.Comparison != nil {
		x.Comparison = ev.Comparison
	}
	if ev.Signature != nil {
		x.Signature = ev.Signature
	}
}

// Query selects exchanges. Empty fields select everything.
type Query struct {
	// ID matches any id of the exchange (MessageId, ConversationId,
	// RefToMessageId, prescription id, NHS number, ODS code, X-Request-ID).
	ID string
	// Interaction matches the request's interaction id.
	Interaction string
	// Outcome matches Outcome.Result, or Comparison.Result ("match",
	// "differ", "incomplete", ...);
	// "in-progress" also matches an exchange with no outcome yet.
	Outcome string
	// From and To bound Started (To exclusive); zero: unbounded.
	From, To time.Time
	// Limit caps the answer (default 100).
	Limit int
}

// matches reports whether s is selected by q.
func (q Query) matches(s *Summary) bool {
	if q.ID != "" && !strings.EqualFold(s.ID, q.ID) && !s.IDs.has(q.ID) {
		return false
	}
	if q.Interaction != "" && !strings.EqualFold(s.Interaction, q.Interaction) {
		return false
	}
	if q.Outcome != "" && !strings.EqualFold(s.Outcome.Result, q.Outcome) &&
		(s.Comparison == nil || !strings.EqualFold(s.Comparison.Result, q.Outcome)) &&
		!(s.Outcome.Result == "" && strings.EqualFold(q.Outcome, OutcomeInProgress)) {
		return false
	}
	if !q.From.IsZero() && s.Started.Before(q.From) {
		return false
	}
	if !q.To.IsZero() && !s.Started.Before(q.To) {
		return false
	}
	return true
}

// limit returns q.Limit or its default.
func (q Query) limit() int {
	if q.Limit <= 0 {
		return 100
	}
	return q.Limit
}

// Access is one look at patient data, or one Tracker API call.
type Access struct {
	// At is when it happened.
	At time.Time `json:"at"`
	// Door is "admin" or "tracker-api".
	Door string `json:"door"`
	// Who identifies the caller: the admin token's name or certificate
	// subject; for the Tracker API the Spine-From-Asid, Spine-UserId and
	// Spine-RoleProfileId headers.
	Who string `json:"who"`
	// Role is the caller's admin role, when there is one.
	Role string `json:"role,omitempty"`
	// Method and What are the HTTP method and path with query.
	Method string `json:"method"`
	What   string `json:"what"`
	// Status is the HTTP status answered.
	Status int `json:"status"`
	// Remote is the caller's address.
	Remote string `json:"remote,omitempty"`
}

// Retention bounds what a backend keeps.
type Retention struct {
	// MaxAge is how long an exchange is kept after it started (default 7 days).
	MaxAge time.Duration
	// MaxBytes caps the total size of the exchanges kept; the oldest go
	// first (default 256 MiB).
	MaxBytes int64
	// MaxAccesses caps the access entries kept (default 100000).
	MaxAccesses int
}

// Defaults for Retention.
const (
	DefaultMaxAge      = 7 * 24 * time.Hour
	DefaultMaxBytes    = 256 << 20
	DefaultMaxAccesses = 100000
)

// withDefaults fills zero fields.
func (r Retention) withDefaults() Retention {
	if r.MaxAge <= 0 {
		r.MaxAge = DefaultMaxAge
	}
	if r.MaxBytes <= 0 {
		r.MaxBytes = DefaultMaxBytes
	}
	if r.MaxAccesses <= 0 {
		r.MaxAccesses = DefaultMaxAccesses
	}
	return r
}

// maxPayloads bounds how many legacy request payloads (the request's, its
// attachments') an exchange remembers having kept (keepOnce).
const maxPayloads = 16

// RepeatNote is the Note of a legacy request step recorded without its
// payload: a try of the message that an earlier one of the exchange
// recorded with the same payload.
const RepeatNote = "tried again with the same payload, kept with the earlier try"

// payloadDigest names a payload among those an exchange kept: the first
// 16 bytes of its SHA-256, in hex. The payload is hashed where it lies
// (read only, through a byte view of the string): every legacy request
// step is digested, and a copy of its payload for the hash alone was a
// garbage payload a message.
func payloadDigest(body string) string {
	sum := sha256.Sum256(stringBytes(body))
	return hex.EncodeToString(sum[:16])
}

// stringBytes returns s's bytes without copying them, for reading only:
// the inverse of Payload.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// keepOnce returns the step of a legacy request to record, given the
// digests of the payloads its exchange kept (kept): without its payload
// when it is among them (a message processed again records each try, and
// waiting out an EPS outage it is tried every few seconds), whole
// otherwise; and the digest of a payload kept whole, to remember (""
// when none).
func keepOnce(st *Step, kept []string) (out *Step, digest string) {
	if !hasPayload(st) {
		return st, ""
	}
	d := payloadDigest(st.Body)
	if slices.Contains(kept, d) {
		return withoutPayload(st), ""
	}
	return st, d
}

// hasPayload says whether st is a legacy request with a payload, whose
// payload its exchange keeps once (keepOnce).
func hasPayload(st *Step) bool {
	return st != nil && st.Kind == StepLegacyRequest && st.Body != ""
}

// withoutPayload returns a copy of st without its payload, its Note
// saying so (RepeatNote).
func withoutPayload(st *Step) *Step {
	bare := *st
	bare.Body, bare.ContentType, bare.Note = "", "", RepeatNote
	if bare.Headers != nil {
		bare.Headers = maps.Clone(bare.Headers)
		delete(bare.Headers, "Content-Transfer-Encoding")
	}
	return &bare
}

// remember adds digest d (if any) to kept, up to maxPayloads.
func remember(kept []string, d string) []string {
	if d == "" || len(kept) >= maxPayloads || slices.Contains(kept, d) {
		return kept
	}
	return append(kept, d)
}
