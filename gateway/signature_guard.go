package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping"
	ackmap "github.com/porxgate/porxgate/mapping/ack"
	"github.com/porxgate/porxgate/mapping/core"
	prescribemap "github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// The signature guard (issue 10, item 4). A signed Parent Prescription
// travels to EPS as FHIR, and EPS (and Spine after it) verify the
// prescriber's signature over the v3 that EPS derives from that FHIR. Before
// the Bundle goes upstream the guard derives, as EPS will, the v3 of the
// FHIR porxgate is about to send and compares its signature fragments with
// the fragments of the v3 the prescriber signed. If they differ nothing is
// sent: the prescriber gets the answer EPS gives a prescription whose
// signature does not match it, the log names the first differing element,
// and porxgate_signature_guard_refusals_total counts the refusal.

// signatureMismatchDiagnostics is the EPS API's diagnostics for a
// prescription whose signature does not match it
// (packages/coordinator/src/services/verification/signature-verification.ts,
// "Signature doesn't match prescription"), which $process-message answers
// with HTTP 400 and an issue of code "invalid" (routes/process.ts,
// createCreationSignatureIssue).
const signatureMismatchDiagnostics = "Signature doesn't match prescription"

// signatureMismatchOutcome is EPS's OperationOutcome for that refusal; the
// ack mapping turns it into the MCCI rejection the prescriber gets.
func signatureMismatchOutcome() *fhir.OperationOutcome {
	return &fhir.OperationOutcome{Issue: []fhir.Issue{{Severity: "error", Code: "invalid", Diagnostics: signatureMismatchDiagnostics}}}
}

// newGuardRefusals returns the (unregistered) refusal counter.
func newGuardRefusals() prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{
		Name: "porxgate_signature_guard_refusals_total",
		Help: "Signed Parent Prescriptions not sent upstream because the signature fragments derived from porxgate's FHIR differ from those the prescriber signed.",
	})
}

// RegisterMetrics registers the processor's counters on reg.
func (p *EPSProcessor) RegisterMetrics(reg prometheus.Registerer) error {
	if err := reg.Register(p.guardRefusals); err != nil {
		return fmt.Errorf("register signature guard counter: %w", err)
	}
	if err := reg.Register(p.unwrittenReleased); err != nil {
		return fmt.Errorf("register unwritten released prescriptions counter: %w", err)
	}
	return p.metrics.register(reg)
}

// isPrescription reports whether the canonical interaction is a Parent
// Prescription (urgent or not).
func isPrescription(canon string) bool {
	return canon == v3.ParentPrescription || canon == v3.ParentPrescriptionNonUrgent
}

// checkSignature is the guard: nil when the prescription is unsigned or the
// fragments of the ParentPrescription EPS derives from body (the FHIR about
// to be sent; porxgate's own extensions, which EPS ignores, play no part)
// equal those of the signed v3 payload; otherwise the reason, naming the
// first differing element.
//
// The v3 → FHIR mapping has already written the ParentPrescription back from
// the FHIR it made and compared it with the payload, every signed part
// included (mapping/prescribe/carry.go); only a part that would not come
// back is carried in ExtensionV3Original, which EPS does not read. So FHIR
// without that extension derives, as EPS derives it, the fragments that were
// signed, and the guard passes it at once; FHIR with it is derived as EPS
// would and compared fragment by fragment, which also names the element.
func checkSignature(payload, body []byte, env mapping.Env) error {
	if !bytes.Contains(body, []byte(core.ExtensionV3Original)) {
		return nil
	}
	_, signed, err := v3.Parse(payload)
	if err != nil {
		return fmt.Errorf("signed prescription: %w", err)
	}
	if !isSigned(signed) {
		return nil
	}
	rederived, err := prescribemap.EPSParentPrescription(body, env)
	if err != nil {
		return fmt.Errorf("ParentPrescription EPS derives from the FHIR to send: %w", err)
	}
	return v3.CompareSignatureFragments(signed, rederived)
}

// isSigned reports whether the prescription's author carries a signature
// (signatureText with an element, not a nullFlavor).
func isSigned(root v3.Node) bool {
	return prescribemap.IsSigned(root.El.FindElement("ControlActEvent/subject/ParentPrescription"))
}

// guardElement is what a refusal names: the first differing element, or
// the path of the part porxgate could not hash (e.g. an xsi:type inside a
// signed fragment); "" when the error names neither.
func guardElement(guardErr error) string {
	var d *v3.FragmentsDiff
	if errors.As(guardErr, &d) {
		return d.Element
	}
	var e *v3.Error
	if errors.As(guardErr, &e) {
		return e.Path
	}
	return ""
}

// refuseSignature answers a guarded prescription without sending it.
func (p *EPSProcessor) refuseSignature(in *Inbound, canon string, meta mapping.Meta, guardErr error, env mapping.Env) (*Outcome, error) {
	p.guardRefusals.Inc()
	element := guardElement(guardErr)
	p.log.Warn("signature guard: prescription not sent, its signature would not verify against the FHIR",
		"interaction", in.Interaction, "message_id", in.MessageID, "first_differing_element", element, "err", guardErr)
	ack, _, err := ackmap.AckFromOutcome(signatureMismatchOutcome(), http.StatusBadRequest, ackmap.AckRequest{
		RequestID: meta.MessageID, Interaction: canon, SenderASID: p.asid, ReceiverASID: meta.SenderASID,
	}, env)
	if err != nil {
		return nil, Permanent(fmt.Errorf("%s %s: signature guard: %w (and no rejection could be made: %v)", in.Interaction, in.MessageID, guardErr, err))
	}
	b, err := ackmap.BuildAckWith(env.Scratch, ack)
	if err != nil {
		return nil, Permanent(fmt.Errorf("%s %s: signature guard: %w (and no rejection could be built: %v)", in.Interaction, in.MessageID, guardErr, err))
	}
	return p.deliver(in, Answer{Interaction: v3.ApplicationAcknowledgement, Payload: b}), nil
}
