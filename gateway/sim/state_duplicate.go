package sim

import "strings"

// A message sent to EPS again with the message id of one the prescription
// took — a prescription-order, cancellation or dispense notification
// (Bundle.identifier), a return or withdrawal (Task.identifier), a claim
// (Claim.identifier): the EPS API makes each the HL7 message id it sends to
// Spine — is not applied again. It is what a client retrying after the
// answer was lost, or a sender's MHS sending twice, does. Spine finds the
// id in the prescription's change log (check_for_replay, eps-spine-shared
// interactions/common.py: nothing is applied or stored) and the EPS API
// answers such a message 400 with Spine's acknowledgement code 202,
// "Duplicate HL7 ID Error": an issue of code invalid with a
// Spine-ErrorOrWarningCode coding (spine-response-handler.ts passes an
// acknowledgementDetail code of another system through that way; the
// corpus's spine-responses/sync_error.xml is Spine's AR). The change log
// is pruned past SCN_MAX (512) changes (record.py), so each prescription
// keeps the ids of the last maxHistory messages it took: they are
// forgotten with it (state_evict.go). A message refused the first time
// (a cancellation refused for every item included) is not in the log:
// sent again, it is processed again. A prescription-order sent again under
// a new id is refused DUPLICATE_PRESCRIPTION_ID, as before.

// replayed refuses, ReasonDuplicateMessage, a message (what names its
// kind) whose id p took already (among the last maxHistory).
func (p *Prescription) replayed(id, what string) error {
	if !p.tookMessage(id) {
		return nil
	}
	return refuse(ReasonDuplicateMessage, p.ShortFormID, "%s %s was taken already", what, id)
}

// tookMessage reports whether p took a message with id id (among the
// last maxHistory). Ids compare without regard to case (a v3 sender
// writes UUIDs in upper case, FHIR in lower).
func (p *Prescription) tookMessage(id string) bool {
	if id == "" {
		return false
	}
	for i := len(p.messageIDs) - 1; i >= 0; i-- {
		if strings.EqualFold(p.messageIDs[i], id) {
			return true
		}
	}
	return false
}

// noteMessage records the id of a message p took, keeping the last
// maxHistory; an empty id is not kept.
func (p *Prescription) noteMessage(id string) {
	if id == "" {
		return
	}
	p.messageIDs = keepLast(append(p.messageIDs, id), maxHistory)
}
