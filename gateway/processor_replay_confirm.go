package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping/cancel"
	"github.com/porxgate/porxgate/mapping/core"
)

// Confirming a refused replay of a claim, a return, a withdrawal or a
// cancellation. EPS refuses each of them when it is sent again after it
// took effect (what the EPS API publishes for these endpoints, and what
// the simulator answers):
//
//   - a claim (or claim amendment) again: PRESCRIPTION_INVALID_STATE_TRANSITION
//     (Spine 0012: the prescription is already Claimed) or
//     DISPENSE_AMEND_IDENTIFIER_MISMATCH (Spine 0021: the amendment is no
//     longer the last claim);
//   - a return again: PRESCRIPTION_INVALID_STATE_TRANSITION (it is To Be
//     Dispensed again), PRESCRIPTION_CANCELLED when the return made pending
//     cancellations of every item take effect, or
//     PRESCRIPTION_WITH_ANOTHER_DISPENSER when another pharmacy has since
//     downloaded it;
//   - a withdrawal again: PRESCRIPTION_INVALID_STATE_TRANSITION (nothing left
//     to withdraw) or DISPENSE_AMEND_IDENTIFIER_MISMATCH (the notification it
//     names is no longer the last dispense);
//   - a cancellation again: the item answered R-0006 "already cancelled"
//     instead of R-0001.
//
// The same message sent again (the same Claim, Task or Bundle identifier,
// which the EPS API makes the HL7 message id) is refused before any of
// these: 400 with Spine's acknowledgement code 202, "Duplicate HL7 ID
// Error", nothing applied. It is checked against the tracker in the same
// way; a cancellation refused so is answered with a Cancel Response built
// from what porxgate sent (confirmCancelResent).
//
// Each is then checked against the EPS tracker: the state EPS holds must be
// the one the message asked for, and must have been reached no earlier than
// porxgate's first attempt (the tracker's lastModified, with
// replayClockSkew for the two clocks). Then the replay is answered as the
// first processing was: AA, or the Cancel Response with R-0001 for the
// items the first sending cancelled. A refusal that EPS would also have
// given the first time (the state predates the attempt) stands.

// replayClockSkew is how far EPS's clock may be behind porxgate's when the
// tracker's lastModified is compared with the time of porxgate's attempt.
const replayClockSkew = 2 * time.Minute

// EPS issue codes of refusals that mean "already done" on a replay.
const (
	codeInvalidStateTransition = "PRESCRIPTION_INVALID_STATE_TRANSITION"
	codeAmendMismatch          = "DISPENSE_AMEND_IDENTIFIER_MISMATCH"
	codeWithAnotherDispenser   = "PRESCRIPTION_WITH_ANOTHER_DISPENSER"
	codePrescriptionCancelled  = "PRESCRIPTION_CANCELLED"
	codeDuplicateHL7ID         = upstream.DuplicateHL7ID
)

// Prescription statuses (EPS-task-business-status) the confirmations read.
const (
	rxToBeDispensed       = "0001"
	rxWithDispenser       = "0002"
	rxWithDispenserActive = "0003"
	rxCancelled           = "0005"
	rxClaimed             = "0008"
	rxNoClaimed           = "0009"
)

// Cancellation outcomes (medicationrequest-status-history) and the item
// status (medicationdispense-type) of a cancelled line item.
const (
	cancelHistoryDone     = "R-0001"
	cancelHistoryDoneText = "Prescription/item was cancelled"
	cancelHistoryAlready  = "R-0006"
	// cancelHistoryPending and cancelHistoryPendingActive: not cancelled,
	// with the dispenser (with dispenser - active), marked for
	// cancellation.
	cancelHistoryPending       = "R-0002"
	cancelHistoryPendingActive = "R-0003"
	itemStatusCancelled        = "0005"
	statusHistoryCodeField     = "status"
)

// confirmFunc checks with EPS whether a refused replay had already taken
// effect. It returns the answer the first processing would have had, nil
// when the refusal stands, or an error when it cannot be told.
type confirmFunc func(ctx context.Context, sent []byte, refusal *upstream.Response, attemptAt time.Time) (*upstream.Response, error)

// accepted turns a yes/no check into a confirmFunc answering AA.
func accepted(check func(context.Context, []byte) (bool, error)) confirmFunc {
	return func(ctx context.Context, sent []byte, refusal *upstream.Response, _ time.Time) (*upstream.Response, error) {
		ok, err := check(ctx, sent)
		if err != nil || !ok {
			return nil, err
		}
		return &upstream.Response{Status: http.StatusOK, Body: confirmedOutcome(), Header: refusal.Header,
			RequestID: refusal.RequestID, Attempts: refusal.Attempts}, nil
	}
}

// refusalCodes lists the issue detail codes of EPS's OperationOutcome.
func refusalCodes(resp *upstream.Response) []string {
	if resp.Status < 400 || resp.Status >= 500 {
		return nil
	}
	oo, err := outcomeOf(resp)
	if err != nil || oo == nil {
		return nil
	}
	var codes []string
	for _, is := range oo.Issue {
		if is.Details == nil {
			continue
		}
		for _, c := range is.Details.Coding {
			codes = append(codes, c.Code)
		}
	}
	return codes
}

// refusedAs reports whether EPS's refusal carries one of codes.
func refusedAs(resp *upstream.Response, codes ...string) bool {
	for _, c := range refusalCodes(resp) {
		if slices.Contains(codes, c) {
			return true
		}
	}
	return false
}

// reachedSince reports whether the tracker's lastModified is not before
// porxgate's attempt (less replayClockSkew); unknown times do not refuse.
func reachedSince(view cancels.TrackerView, attemptAt time.Time) bool {
	if attemptAt.IsZero() || view.LastModified == "" {
		return true
	}
	lm, err := time.Parse(time.RFC3339, view.LastModified)
	if err != nil {
		return true
	}
	return !lm.Before(attemptAt.Add(-replayClockSkew))
}

// viewSince asks the tracker about prescription sf; ok is false when EPS
// does not hold it, or reached the state it shows before attemptAt
// (reachedSince): then it is not what porxgate's attempt did.
func (p *EPSProcessor) viewSince(ctx context.Context, sf string, attemptAt time.Time) (view cancels.TrackerView, ok bool, err error) {
	view, err = p.trackerView(ctx, sf)
	if errors.Is(err, cancels.ErrNotInTracker) {
		return view, false, nil
	}
	if err != nil {
		return view, false, err
	}
	return view, reachedSince(view, attemptAt), nil
}

// stateCheck is the condition a tracker view must meet.
type stateCheck func(view cancels.TrackerView) bool

// trackerConfirm asks the tracker about prescription sf and answers AA
// when check holds and the state was reached since attemptAt.
func (p *EPSProcessor) trackerConfirm(ctx context.Context, sf string, refusal *upstream.Response, attemptAt time.Time, check stateCheck) (*upstream.Response, error) {
	view, ok, err := p.viewSince(ctx, sf, attemptAt)
	if err != nil || !ok || !check(view) {
		return nil, err
	}
	return &upstream.Response{Status: http.StatusOK, Body: confirmedOutcome(), Header: refusal.Header,
		RequestID: refusal.RequestID, Attempts: refusal.Attempts}, nil
}

// sentClaim reads the short-form id of a Claim porxgate built.
func sentClaim(claimJSON []byte) (string, error) {
	res, err := fhir.DecodeResource(claimJSON)
	if err != nil {
		return "", fmt.Errorf("claim sent: %w", err)
	}
	c, ok := res.(*fhir.Claim)
	if !ok || c.Prescription == nil {
		return "", errors.New("claim sent: not a Claim with a prescription")
	}
	if g := fhir.FindExtension(c.Prescription.Extension, core.ExtensionGroupIdentifier); g != nil {
		if sf := fhir.FindExtension(g.Extension, "shortForm"); sf != nil && sf.ValueIdentifier != nil && sf.ValueIdentifier.Value != "" {
			return strings.ToUpper(sf.ValueIdentifier.Value), nil
		}
	}
	return "", errors.New("claim sent: no short-form prescription id")
}

// sentTask reads the short-form id and the dispenser's ODS code ("" when
// not named) of a return or withdraw Task porxgate built.
func sentTask(taskJSON []byte) (shortForm, dispenser string, err error) {
	res, err := fhir.DecodeResource(taskJSON)
	if err != nil {
		return "", "", fmt.Errorf("task sent: %w", err)
	}
	t, ok := res.(*fhir.Task)
	if !ok || t.GroupIdentifier == nil || t.GroupIdentifier.Value == "" {
		return "", "", errors.New("task sent: not a Task with a prescription group identifier")
	}
	if t.Owner != nil && t.Owner.Identifier != nil && t.Owner.Identifier.System == fhir.SystemODS {
		dispenser = t.Owner.Identifier.Value
	}
	for _, r := range t.Contained {
		if org, ok := r.(*fhir.Organization); ok && dispenser == "" {
			dispenser = fhir.FindIdentifier(org.Identifier, fhir.SystemODS)
		}
	}
	return strings.ToUpper(t.GroupIdentifier.Value), dispenser, nil
}

// confirmClaimed: a claim refused on a replay stands confirmed when the
// tracker shows the prescription claimed (or no-claimed) since the attempt.
func (p *EPSProcessor) confirmClaimed(ctx context.Context, sent []byte, refusal *upstream.Response, attemptAt time.Time) (*upstream.Response, error) {
	sf, err := sentClaim(sent)
	if err != nil {
		return nil, err
	}
	return p.trackerConfirm(ctx, sf, refusal, attemptAt, func(v cancels.TrackerView) bool {
		return v.Status == rxClaimed || v.Status == rxNoClaimed
	})
}

// confirmReturned: a return refused on a replay stands confirmed when the
// tracker shows the prescription no longer with this dispenser: to be
// dispensed, cancelled (a pending cancellation took effect on the return),
// or since downloaded by another pharmacy.
func (p *EPSProcessor) confirmReturned(ctx context.Context, sent []byte, refusal *upstream.Response, attemptAt time.Time) (*upstream.Response, error) {
	sf, dispenser, err := sentTask(sent)
	if err != nil {
		return nil, err
	}
	return p.trackerConfirm(ctx, sf, refusal, attemptAt, func(v cancels.TrackerView) bool {
		switch v.Status {
		case rxToBeDispensed, rxCancelled:
			return true
		case rxWithDispenser, rxWithDispenserActive:
			return dispenser != "" && !strings.EqualFold(v.Owner, dispenser)
		}
		return false
	})
}

// confirmWithdrawn: a withdrawal refused on a replay stands confirmed when
// the tracker shows the prescription back with this dispenser (its last
// dispense undone) since the attempt.
func (p *EPSProcessor) confirmWithdrawn(ctx context.Context, sent []byte, refusal *upstream.Response, attemptAt time.Time) (*upstream.Response, error) {
	sf, dispenser, err := sentTask(sent)
	if err != nil {
		return nil, err
	}
	return p.trackerConfirm(ctx, sf, refusal, attemptAt, func(v cancels.TrackerView) bool {
		return (v.Status == rxWithDispenser || v.Status == rxWithDispenserActive) &&
			(dispenser == "" || strings.EqualFold(v.Owner, dispenser))
	})
}

// confirmCancelled: a cancellation whose items EPS now answers R-0006
// "already cancelled" is answered as the first sending was — R-0001 for
// each such item the tracker shows cancelled since the attempt; other
// items keep EPS's answer. The refusal stands if any R-0006 item cannot
// be confirmed.
func (p *EPSProcessor) confirmCancelled(ctx context.Context, sent []byte, refusal *upstream.Response, attemptAt time.Time) (*upstream.Response, error) {
	var doc map[string]any
	if err := json.Unmarshal(refusal.Body, &doc); err != nil || doc["resourceType"] != "Bundle" {
		return nil, nil // an OperationOutcome refusal (R-0008, R-5000…): stands
	}
	already, sf := cancelCodings(doc, cancelHistoryAlready)
	if len(already) == 0 || sf == "" {
		return nil, nil
	}
	view, ok, err := p.viewSince(ctx, sf, attemptAt)
	if err != nil || !ok {
		return nil, err
	}
	for item, coding := range already {
		if view.Items[item] != itemStatusCancelled && view.Status != rxCancelled {
			return nil, nil
		}
		coding["code"], coding["display"] = cancelHistoryDone, cancelHistoryDoneText
	}
	status := http.StatusOK
	if rest, _ := cancelCodings(doc, ""); len(rest) > 0 {
		status = http.StatusBadRequest // other items keep their own outcome, as Spine's AE
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("cancel answer: %w", err)
	}
	return &upstream.Response{Status: status, Body: body, Header: refusal.Header, RequestID: refusal.RequestID, Attempts: refusal.Attempts}, nil
}

// cancelCodings finds, in EPS's cancel response Bundle, each
// MedicationRequest's status-history coding (only those with code when
// code is not "", else those not R-0001) by line item id (upper case), and
// the prescription's short-form id.
func cancelCodings(doc map[string]any, code string) (map[string]map[string]any, string) {
	out := map[string]map[string]any{}
	mrs, sf := cancelItems(doc)
	for item, r := range mrs {
		coding := statusHistoryCoding(r)
		if coding == nil {
			continue
		}
		c, _ := coding["code"].(string)
		if (code != "" && c == code) || (code == "" && c != cancelHistoryDone) {
			out[item] = coding
		}
	}
	return out, sf
}

// statusHistoryCoding is a MedicationRequest's
// Extension-DM-PrescriptionStatusHistory status coding, nil when none.
func statusHistoryCoding(mr map[string]any) map[string]any {
	exts, _ := mr["extension"].([]any)
	for _, x := range exts {
		xm, _ := x.(map[string]any)
		if xm["url"] != cancel.ExtensionPrescriptionStatusHistory {
			continue
		}
		subs, _ := xm["extension"].([]any)
		for _, s := range subs {
			sm, _ := s.(map[string]any)
			if sm["url"] == statusHistoryCodeField {
				c, _ := sm["valueCoding"].(map[string]any)
				return c
			}
		}
	}
	return nil
}

// confirmCancelResent: a cancellation EPS refused as a message it took
// already (202 Duplicate HL7 ID Error, an OperationOutcome) is answered as
// the first sending was, from the cancellation porxgate sent: each item
// the tracker shows cancelled (or the whole prescription cancelled) since
// the attempt R-0001; each still with the dispenser, the prescription with
// one, pending (R-0002, or R-0003 when with dispenser - active) with that
// dispenser as performer. Any other item (the tracker cannot say what the
// first sending did to it) leaves the refusal standing.
func (p *EPSProcessor) confirmCancelResent(ctx context.Context, sent []byte, refusal *upstream.Response, attemptAt time.Time) (*upstream.Response, error) {
	var doc map[string]any
	if err := json.Unmarshal(sent, &doc); err != nil {
		return nil, fmt.Errorf("cancellation sent: %w", err)
	}
	if doc["resourceType"] != "Bundle" {
		return nil, errors.New("cancellation sent: not a Bundle")
	}
	items, sf := cancelItems(doc)
	if len(items) == 0 || sf == "" {
		return nil, errors.New("cancellation sent: no short-form id or line items")
	}
	view, ok, err := p.viewSince(ctx, sf, attemptAt)
	if err != nil || !ok {
		return nil, err
	}
	status := http.StatusOK
	for item, mr := range items {
		code := cancelHistoryDone
		switch {
		case view.Items[item] == itemStatusCancelled || view.Status == rxCancelled:
		case !pendingItem(view.Items[item]) || view.Owner == "":
			return nil, nil
		case view.Status == rxWithDispenser:
			code, status = cancelHistoryPending, http.StatusBadRequest
		case view.Status == rxWithDispenserActive:
			code, status = cancelHistoryPendingActive, http.StatusBadRequest
		default:
			return nil, nil
		}
		c, err := core.CancellationFromFHIR(code, "")
		if err != nil {
			return nil, fmt.Errorf("cancel answer: %w", err)
		}
		setStatusHistory(mr, c.FHIR.Code, c.FHIR.Display)
		if code != cancelHistoryDone {
			dr, _ := mr["dispenseRequest"].(map[string]any)
			if dr == nil {
				dr = map[string]any{}
				mr["dispenseRequest"] = dr
			}
			dr["performer"] = map[string]any{"identifier": map[string]any{"system": fhir.SystemODS, "value": view.Owner}}
		}
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("cancel answer: %w", err)
	}
	return &upstream.Response{Status: status, Body: body, Header: refusal.Header, RequestID: refusal.RequestID, Attempts: refusal.Attempts}, nil
}

// pendingItem reports the item statuses (medicationdispense-type) under
// which a cancellation of an item with the dispenser stays pending: with
// dispenser, owing, or none given.
func pendingItem(status string) bool {
	return status == "0008" || status == "0004" || status == ""
}

// cancelItems finds, in a cancellation Bundle (porxgate's, or EPS's
// answer), each MedicationRequest by line item id (upper case), and the
// prescription's short-form id.
func cancelItems(doc map[string]any) (map[string]map[string]any, string) {
	out, sf := map[string]map[string]any{}, ""
	entries, _ := doc["entry"].([]any)
	for _, e := range entries {
		em, _ := e.(map[string]any)
		r, _ := em["resource"].(map[string]any)
		if r == nil || r["resourceType"] != "MedicationRequest" {
			continue
		}
		if g, _ := r["groupIdentifier"].(map[string]any); g != nil {
			if v, _ := g["value"].(string); v != "" {
				sf = strings.ToUpper(v)
			}
		}
		ids, _ := r["identifier"].([]any)
		for _, id := range ids {
			im, _ := id.(map[string]any)
			if v, _ := im["value"].(string); im["system"] == fhir.SystemLineItemID && v != "" {
				out[strings.ToUpper(v)] = r
			}
		}
	}
	return out, sf
}

// setStatusHistory puts the status-history coding (code, display) on a
// MedicationRequest, as EPS answers each cancelled item: its
// Extension-DM-PrescriptionStatusHistory, replaced when there is one.
func setStatusHistory(mr map[string]any, code, display string) {
	ext := map[string]any{"url": cancel.ExtensionPrescriptionStatusHistory, "extension": []any{
		map[string]any{"url": statusHistoryCodeField, "valueCoding": map[string]any{
			"system": fhir.CodeSystemStatusHistory, "code": code, "display": display}},
	}}
	exts, _ := mr["extension"].([]any)
	kept := make([]any, 0, len(exts)+1)
	for _, x := range exts {
		if xm, _ := x.(map[string]any); xm["url"] != cancel.ExtensionPrescriptionStatusHistory {
			kept = append(kept, x)
		}
	}
	mr["extension"] = append(kept, ext)
}
