package sim

import "strings"

// A dispense notification sent to EPS again with the message id
// (Bundle.identifier) of one the prescription took — a client retrying
// after the answer was lost, a sender's MHS sending it twice — is not
// applied again. Spine finds the id in the prescription's change log
// (check_for_replay, eps-spine-shared interactions/common.py: nothing is
// applied or stored) and the EPS API answers such a message 400 with
// Spine's acknowledgement code 202, "Duplicate HL7 ID Error", as a
// Spine-ErrorOrWarningCode coding (the EPS API's live contract tests,
// which send the same example Bundles again; spine-response-handler.ts
// passes an acknowledgementDetail code through that way; the corpus's
// spine-responses/sync_error.xml is Spine's AR). The change log is pruned
// past SCN_MAX (512) changes (record.py), so the State keeps the ids of
// the last maxHistory dispense notifications each prescription took: they
// are forgotten with it (state_evict.go). A notification refused the
// first time is not in the log: sent again, it is processed again.

// tookMessage reports whether p took a dispense notification with
// message id id (among the last maxHistory). Ids compare without regard
// to case (a v3 sender writes UUIDs in upper case, FHIR in lower).
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

// noteMessage records the message id of a dispense notification p took,
// keeping the last maxHistory; an empty id is not kept.
func (p *Prescription) noteMessage(id string) {
	if id == "" {
		return
	}
	p.messageIDs = keepLast(append(p.messageIDs, id), maxHistory)
}
