package release

import (
	"fmt"
	"strings"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// The gateway's answer to a legacy release request, made as Spine would
// make it from what EPS said to the $release the request became: a release
// response (nominated PORX_IN070101UK31, patient PORX_IN070103UK31) with the
// released prescriptions, or a Prescription Release Rejection
// (PORX_IN110101UK30). Both acknowledge the request's transmission id and
// refer to its payload id. Spine refuses a nominated download that finds
// nothing with 0006 (no more prescriptions); a patient release whose
// prescription EPS withheld (its signature failed EPS's check, and EPS has
// returned it to Spine) is refused with 5000 and that reason.

// ReleaseRequestInfo is what the gateway keeps of a legacy release request
// to answer it.
type ReleaseRequestInfo struct {
	// Interaction is the request's interaction id as sent (UK or SM).
	Interaction string
	// MessageID is the transmission id, which the answer acknowledges.
	MessageID string
	// RequestID is the release request's own id, which the answer refers to.
	RequestID string
	// ShortFormID is the prescription asked for (patient release only).
	ShortFormID string
	// OwnerODS is the dispensing organisation's ODS code.
	OwnerODS string
	// SenderASID and ReceiverASID are the request's transmission devices.
	SenderASID, ReceiverASID string
}

// ReadReleaseRequestInfo reads the ids of a v3 release request.
func ReadReleaseRequestInfo(request []byte) (ReleaseRequestInfo, error) {
	r, root, err := v3.Parse(request)
	if err != nil {
		return ReleaseRequestInfo{}, err
	}
	canon, _, err := v3.Canonical(root.El.Tag)
	if err != nil || (canon != v3.PatientReleaseRequest && canon != v3.NominatedReleaseRequest) {
		return ReleaseRequestInfo{}, &v3.Error{Interaction: root.El.Tag, Path: root.Path(), Msg: "not a release request (PORX_IN060102, PORX_IN132004)"}
	}
	w, subject := v3.ReadWrapper(root)
	pl := subject.Child(releaseRequestPayload(canon))
	info := ReleaseRequestInfo{
		Interaction: root.El.Tag, MessageID: w.ID, RequestID: pl.Child("id").Attr("root"),
		SenderASID: w.SenderASID, ReceiverASID: w.ReceiverASID,
	}
	if canon == v3.PatientReleaseRequest {
		info.ShortFormID = pl.Child("pertinentInformation").Child("pertinentPrescriptionID").Child("value").Attr("extension")
	}
	if ap := pl.Opt("author").Opt("AgentPerson"); ap.Exists() {
		info.OwnerODS = core.V3ID(core.RepresentedOrganization(ap).Child("id"), v3.OIDODS)
	}
	if err := r.Err(); err != nil {
		return ReleaseRequestInfo{}, err
	}
	return info, nil
}

// ReleaseReplyEnds are the transmission ends of an answer porxgate sends a
// dispenser as Spine would.
type ReleaseReplyEnds struct {
	// SenderASID is porxgate's own ASID answering as Spine, also the
	// ControlActEvent author1. Empty: Spine's (DefaultReceiverASID).
	SenderASID string
	// ReceiverASID is the dispenser's ASID. Empty: the request's sender.
	ReceiverASID string
}

// ReleaseOutcome says what the answer to a release request is.
type ReleaseOutcome struct {
	// Interaction is the answer's interaction id.
	Interaction string
	// Request holds the request's ids.
	Request ReleaseRequestInfo
	// Released counts the prescriptions in a release response.
	Released int
	// Withheld counts the prescriptions EPS did not pass (failedPrescriptions).
	Withheld int
	// Rejection is the reason of a rejection; nil for a release response.
	Rejection *core.SpineCode
	// DispenserODS is the ODS code of the dispenser holding the prescription
	// (a rejection 0004), when EPS names it.
	DispenserODS string
	// Unmapped lists FHIR codes no table row knew (see V3Error.Unmapped).
	Unmapped []string
	// Unwritten lists the prescriptions EPS released that porxgate could
	// not write as v3, left out of a release response that carries the
	// others (Released counts only those). EPS holds them as with the
	// dispenser, which has not seen them: the caller must keep them in
	// sight (see docs/mappings/release.md). Empty when every one was
	// written; when none could be, ReleaseAnswerFromEPS fails instead.
	Unwritten []UnwrittenPrescription
}

// UnwrittenPrescription is a prescription of a $release answer that could
// not be written as v3.
type UnwrittenPrescription struct {
	// ShortFormID is its short-form prescription id; "" when unreadable.
	ShortFormID string
	// Err says why, with the element's path in the answer.
	Err error
}

// ReleaseAnswerFromEPS makes the answer to a legacy release request from
// EPS's answer to the $release it became (the body and HTTP status): a
// Parameters gives a release response, or a rejection when it releases
// nothing (leaving out, and naming in ReleaseOutcome.Unwritten, a
// prescription it cannot write; it fails when none it released can be
// written); an OperationOutcome gives a rejection, unless it carries only
// acknowledgement codes (…17.32: Spine's MCCI AR), which is an error here:
// AckFromOutcome answers it. Nothing returned refers to body, which the
// caller may reuse.
func ReleaseAnswerFromEPS(request, body []byte, httpStatus int, ends ReleaseReplyEnds, env core.Env) ([]byte, ReleaseOutcome, error) {
	b, out, err := releaseAnswerFromEPS(request, body, httpStatus, ends, env)
	return b, out.owned(), err
}

// owned returns o with its own copies of the strings it took from EPS's
// answer, which releaseAnswerFromEPS decodes in place
// (fhir.DecodeResourceBorrowed): the rejection's code and text, the
// dispenser's ODS code, the unmapped codes and the short-form ids of the
// prescriptions left out. The request's ids are the request's own (read
// from a message of their own), and errors are made of copies and
// formatted text (TestReleaseAnswerKeepsNothingOfItsInput).
func (o ReleaseOutcome) owned() ReleaseOutcome {
	if o.Rejection != nil {
		r := *o.Rejection
		r.System, r.Code, r.Display = strings.Clone(r.System), strings.Clone(r.Code), strings.Clone(r.Display)
		o.Rejection = &r
	}
	o.DispenserODS = strings.Clone(o.DispenserODS)
	if o.Unmapped != nil {
		unmapped := make([]string, len(o.Unmapped))
		for i, u := range o.Unmapped {
			unmapped[i] = strings.Clone(u)
		}
		o.Unmapped = unmapped
	}
	if o.Unwritten != nil {
		unwritten := make([]UnwrittenPrescription, len(o.Unwritten))
		for i, u := range o.Unwritten {
			unwritten[i] = UnwrittenPrescription{ShortFormID: strings.Clone(u.ShortFormID), Err: u.Err}
		}
		o.Unwritten = unwritten
	}
	return o
}

// releaseAnswerFromEPS is ReleaseAnswerFromEPS, its outcome's strings
// still views of body where they came from it.
func releaseAnswerFromEPS(request, body []byte, httpStatus int, ends ReleaseReplyEnds, env core.Env) ([]byte, ReleaseOutcome, error) {
	info, err := ReadReleaseRequestInfo(request)
	if err != nil {
		return nil, ReleaseOutcome{}, fmt.Errorf("release request: %w", err)
	}
	if env.NewID == nil {
		return nil, ReleaseOutcome{}, fmt.Errorf("release answer: no id generator (Env.NewID)")
	}
	canon, fam, _ := v3.Canonical(info.Interaction)
	out := ReleaseOutcome{Request: info}
	h := &releaseHead{creationTime: env.Now.UTC().Format(core.V3TimeLayout), id: env.NewID(),
		messageRef: info.MessageID, requestRef: info.RequestID,
		receiverASID: core.FirstNonEmpty(ends.ReceiverASID, info.SenderASID, core.DefaultSenderASID),
		senderASID:   core.FirstNonEmpty(ends.SenderASID, core.DefaultReceiverASID)}
	h.systemASID, h.payloadID, h.effectiveTime = h.senderASID, h.id, h.creationTime

	// Decoded in place: ReleaseAnswerFromEPS gives back only what it wrote
	// and copies (ReleaseOutcome.owned).
	res, err := fhir.DecodeResourceBorrowed(body)
	var undecoded []UnwrittenPrescription
	undecodedWithheld := 0
	if err != nil && httpStatus/100 == 2 {
		// One prescription that does not decode must not keep the others
		// from the dispenser: read the answer without it.
		if kept, left, withheld, serr := withoutUndecodable(body); serr == nil {
			if r, kerr := fhir.DecodeResourceBorrowed(kept); kerr == nil {
				res, err, undecoded, undecodedWithheld = r, nil, left, withheld
			}
		}
	}
	if err != nil {
		return nil, out, fmt.Errorf("EPS $release answer (HTTP %d): %w", httpStatus, err)
	}
	switch r := res.(type) {
	case *fhir.Parameters:
		if httpStatus >= 300 {
			return nil, out, fmt.Errorf("EPS $release answer: HTTP %d with a Parameters body", httpStatus)
		}
		h.interaction = v3.InFamily(v3.NominatedReleaseResponse, fam)
		if canon == v3.PatientReleaseRequest {
			h.interaction = v3.InFamily(v3.PatientReleaseResponse, fam)
		}
		c := core.NewBundleContext(&fhir.Bundle{ResourceType: "Bundle"}, h.interaction)
		a := gatherReleaseAnswer(c, r)
		if err := c.Err(); err != nil {
			return nil, out, err
		}
		out.Withheld = len(a.failed) + undecodedWithheld
		// The prescriptions are written in a Space of env's Scratch,
		// given back once the answer is serialised: nothing returned
		// refers to it.
		sp := env.Scratch.Get()
		defer env.Scratch.Put(sp)
		comps, sigs, unwritten := writeReleasedPrescriptions(c, a.passed, env, true, sp)
		out.Unwritten = append(undecoded, unwritten...)
		if len(comps) == 0 && len(out.Unwritten) > 0 {
			// Nothing the dispenser can take although EPS released to it:
			// a permanent failure for the caller (dead letter, EPS's
			// answer kept for a resend after a fix), never a release
			// response or a "no more prescriptions".
			return nil, out, fmt.Errorf("EPS $release answer: no prescription it released can be written: %w", out.Unwritten[0].Err)
		}
		if len(comps) == 0 {
			return releaseRefusal(h, &out, canon, fam)
		}
		if a.effective != "" {
			h.effectiveTime = a.effective
		}
		h.ackTypeCode = core.AckAccepted
		doc, subject := buildReleaseWrapper(h)
		out.Released = len(comps)
		if canon == v3.NominatedReleaseRequest {
			h.batch = defaultBatch(len(comps))
		}
		writeReleaseResponseBody(subject, h, comps)
		b, err := writeSignedDocument(c, doc, sigs)
		out.Interaction = h.interaction
		return b, out, err
	case *fhir.OperationOutcome:
		// Spine's MCCI AR (…17.32 codes alone, e.g. 202 duplicate) is no
		// rejection: the caller answers it with AckFromOutcome.
		if ve, err := core.V3ErrorFromOutcome(r, max(httpStatus, 400), core.ErrorFamilyRelease); err == nil && ve.TypeCode == core.AckRejected {
			return nil, out, fmt.Errorf("EPS $release answer (HTTP %d): only acknowledgement codes, no rejection reason: answer with AckFromOutcome", httpStatus)
		}
		h.interaction, h.ackTypeCode = v3.InFamily(v3.ReleaseRejection, fam), core.AckError
		c := core.NewBundleContext(&fhir.Bundle{ResourceType: "Bundle"}, h.interaction)
		status := httpStatus
		if status < 400 {
			status = 400
		}
		rej := gatherRejection(c, r, status)
		if err := c.Err(); err != nil {
			return nil, out, err
		}
		out.Interaction, out.Rejection, out.Unmapped = h.interaction, &rej.reason, rej.unmapped
		if rej.org != nil {
			out.DispenserODS = fhir.FindIdentifier(rej.org.Identifier, fhir.SystemODS)
		}
		b, err := buildReleaseRejection(c, h, r, rej)
		return b, out, err
	}
	return nil, out, fmt.Errorf("EPS $release answer (HTTP %d): resourceType %s, want Parameters or OperationOutcome", httpStatus, res.GetResourceType())
}

// releaseRefusal answers a $release that released nothing with a rejection:
// 0006 for a nominated download, 5000 naming EPS's signature check for a
// patient release.
func releaseRefusal(h *releaseHead, out *ReleaseOutcome, canon string, fam v3.Family) ([]byte, ReleaseOutcome, error) {
	h.interaction, h.ackTypeCode = v3.InFamily(v3.ReleaseRejection, fam), core.AckError
	reason := core.SpineCode{System: v3.OIDDispenseErrorCode}
	if canon == v3.NominatedReleaseRequest {
		e := core.FindByV3Code(core.DispenseErrors[:], "0006")
		reason.Code, reason.Display = e.V3Code, e.Display
	} else {
		reason.Code = "5000"
		reason.Display = core.UnableToProcess + " - the prescription was not released: its signature failed the EPS check and it was returned to Spine"
		if out.Withheld == 0 {
			reason.Display = core.UnableToProcess + " - EPS released no prescription"
		}
	}
	out.Interaction, out.Rejection = h.interaction, &reason
	c := core.NewBundleContext(&fhir.Bundle{ResourceType: "Bundle"}, h.interaction)
	b, err := buildReleaseRejection(c, h, &fhir.OperationOutcome{}, releaseRejection{reason: reason})
	return b, *out, err
}
