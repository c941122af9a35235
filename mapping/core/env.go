package core

import (
	"strings"
	"time"

	v3 "github.com/porxgate/porxgate/v3"
)

// Env carries what a translation may not make up itself: the time and fresh
// ids, and the family of interaction ids to answer in.
type Env struct {
	// Now is the time to stamp on messages made now (creationTime and the like).
	Now time.Time
	// NewID returns a fresh UUID (any case; builders upper-case as v3 needs).
	NewID func() string
	// Family is the interaction id family to write v3 in: UK (legacy systems,
	// the default) or SM (the EPS API's own examples).
	Family v3.Family
	// KeepV3 makes a Translator's ToFHIR keep the v3 message in
	// Meta.V3Original whenever the FHIR alone would not give it back (an
	// originalText, a determinerCode, a comment... that EPS FHIR has no
	// element for), and its ToV3 write that message back while the FHIR is
	// unchanged: porxgate's own v3 → FHIR → v3 is then lossless
	// (docs/mappings/accepting.md). The gateway leaves it false: what it
	// forwards to EPS is the same either way.
	KeepV3 bool
	// Scratch, when set, lends a translation memory to build its v3 trees
	// in, which the translation gives back before it returns, for the
	// next message (see v3.Scratch): set it to one Scratch for all the
	// translations of a process. Nil builds every tree of fresh memory.
	Scratch *v3.Scratch
	// Released reads and writes a ParentPrescription as one Spine has
	// released (a release response's): its line items' additional
	// instructions are taken apart as the EPS API's release translation
	// takes them (response/release/additional-instructions.ts), and written
	// back so (the controlled drug words and note as they stand, the
	// mark-up escaped once). It is the reading twin of
	// BundleContext.Released, and reaches the check that writes back what
	// was read. False: a prescriber's ParentPrescription.
	Released bool
}

// WriteFamily returns the interaction id family to write in: Family, or UK
// when unset.
func (e Env) WriteFamily() v3.Family {
	if e.Family == "" {
		return v3.FamilyUK
	}
	return e.Family
}

// Meta holds the values that travel beside a FHIR body rather than inside
// it: the v3 transmission wrapper's sender, receiver and ControlActEvent
// author, which EPS FHIR carries in HTTP headers (NHSD-Session-URID and the
// like) or leaves to the gateway's configuration.
type Meta struct {
	// MessageID is the v3 transmission id (the FHIR request's X-Request-ID).
	MessageID string
	// Interaction is the v3 interaction id the message came as.
	Interaction string
	// SenderASID and ReceiverASID are the transmission wrapper's devices.
	SenderASID, ReceiverASID string
	// Agent is the ControlActEvent author; nil means DefaultAgent().
	Agent *v3.Agent
	// SystemASID is the ControlActEvent author1 system.
	SystemASID string
	// V3Original is the v3 message a FHIR body was made from, kept (with
	// Env.KeepV3) when the FHIR alone would not give it back.
	V3Original *V3Original
}

// Copy returns m with copies of its strings and Agent, so that it shares
// no memory with the message it was read from (which a translation that
// read it in a v3.Space gives back for reuse). The strings are copied
// into one allocation, the Agent into another.
func (m Meta) Copy() Meta {
	var a v3.Agent
	if m.Agent != nil {
		a = *m.Agent
	}
	fields := [...]*string{&m.MessageID, &m.Interaction, &m.SenderASID, &m.ReceiverASID, &m.SystemASID,
		&a.RoleProfileID, &a.UserID, &a.JobRoleCode}
	n := 0
	for _, f := range fields {
		n += len(*f)
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range fields {
		b.WriteString(*f)
	}
	all := b.String()
	for _, f := range fields {
		*f, all = all[:len(*f)], all[len(*f):]
	}
	if m.Agent != nil {
		m.Agent = &a
	}
	return m
}

// DefaultAgent returns the ControlActEvent author the EPS FHIR API writes
// when the request names no user session, and so what porxgate writes when a
// FHIR message reaches it without one.
func DefaultAgent() v3.Agent {
	return v3.Agent{RoleProfileID: "555254240100", UserID: "555254239107", JobRoleCode: "UNKNOWN"}
}

// Default ASIDs written when Meta names none: the EPS API's own (sender) and
// Spine's (receiver), as in its examples.
const (
	DefaultSenderASID   = "200000001285"
	DefaultReceiverASID = "567456789789"
)

// Wrapper returns the v3 transmission wrapper for a message made from FHIR,
// filling what Meta leaves empty with the defaults.
func (m Meta) Wrapper(interaction, id, creationTime string) v3.Wrapper {
	w := v3.Wrapper{
		ID:           id,
		CreationTime: creationTime,
		Interaction:  interaction,
		SenderASID:   m.SenderASID,
		ReceiverASID: m.ReceiverASID,
		SystemASID:   m.SystemASID,
		Author:       m.Agent,
	}
	if w.SenderASID == "" {
		w.SenderASID = DefaultSenderASID
	}
	if w.ReceiverASID == "" {
		w.ReceiverASID = DefaultReceiverASID
	}
	if w.SystemASID == "" {
		w.SystemASID = w.SenderASID
	}
	if w.Author == nil {
		a := DefaultAgent()
		w.Author = &a
	}
	return w
}

// MetaFromWrapper keeps the wrapper values of a v3 message for the way back.
func MetaFromWrapper(w v3.Wrapper) Meta {
	return Meta{
		MessageID:    w.ID,
		Interaction:  w.Interaction,
		SenderASID:   w.SenderASID,
		ReceiverASID: w.ReceiverASID,
		Agent:        w.Author,
		SystemASID:   w.SystemASID,
	}
}

// FixedEnv returns the Env that tests and examples translate with so their
// output is exact: FixedEnvAt 2024-06-07T08:09:10Z in the UK family.
func FixedEnv() Env {
	return FixedEnvAt(time.Date(2024, 6, 7, 8, 9, 10, 0, time.UTC), v3.FamilyUK)
}

// FixedEnvAt returns a deterministic Env: the clock pinned at now, the given
// interaction id family, ids counting up from
// 00000000-0000-4000-8000-000000000001, one sequence per call, and a
// Scratch of its own.
func FixedEnvAt(now time.Time, family v3.Family) Env {
	return Env{Now: now, Family: family, NewID: CountingIDs(), Scratch: v3.NewScratch()}
}

// CountingIDs returns a generator of predictable UUIDs counting up from
// 00000000-0000-4000-8000-000000000001: for exact tests and examples, and
// for resources that are only written back, never sent.
func CountingIDs() func() string {
	n := 0
	return func() string {
		n++
		// One allocation, as a random id costs: fmt.Sprintf boxed n as
		// well, which made benchmarks count an allocation an id that
		// the gateway does not make.
		id := [36]byte{}
		copy(id[:], "00000000-0000-4000-8000-000000000000")
		for i, v := len(id)-1, n; v > 0 && i >= len(id)-12; i, v = i-1, v/10 {
			id[i] = byte('0' + v%10)
		}
		return string(id[:])
	}
}
