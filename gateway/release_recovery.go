package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/outbox"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// No stranded release. A nominated release whose answer EPS sent but
// porxgate never read (the connection dropped after EPS released; the
// upstream client's retry, or a replay of the message, then releases
// nothing, since EPS releases a prescription to a dispenser once) would
// leave prescriptions "with dispenser" at a pharmacy that never saw them.
//
// Recovery uses what EPS supports: a patient release by prescription id
// from the dispenser that already holds the prescription downloads it
// again (EPS's repeat-release rule; the simulator models it). porxgate
// keeps, per nominated pharmacy, the prescriptions it submitted nominated
// to it and not yet delivered in a release answer (ReleaseIndex). When a
// nominated release may have lost an answer (its call was retried after an
// attempt that may have reached EPS, or the message is processed again
// after an attempt whose answer is unknown), porxgate asks the EPS tracker
// about each of them; those EPS shows with this dispenser are released
// again by id and delivered in this release response, which is recorded
// before it is acted on; every prescription a release answer delivers is
// taken off the index, so each goes out once. Only a prescription the
// tracker shows changed since this message's first attempt (less
// replayClockSkew) can have been released by it: one the dispenser got
// earlier (by another path, or in a delivery porxgate could not take off
// the index) is not delivered again. One the recovery could not examine
// (the tracker or the release again failed) is owed to the pharmacy
// (owedSet) with that first attempt's time, and its next nominated release
// asks about it again. Prescriptions porxgate did not
// submit cannot be found this way (EPS offers no search by dispenser): the
// error log names the dispenser for those.

// ReleaseIndex keeps the prescriptions submitted through porxgate per
// nominated pharmacy (store.Store satisfies it).
type ReleaseIndex interface {
	SetAdd(ctx context.Context, set string, ttl time.Duration, members ...string) error
	SetMembers(ctx context.Context, set string) ([]string, error)
	SetRemove(ctx context.Context, set string, members ...string) error
}

// nominationTTL is how long a nomination is kept: prescriptions are
// released long before they expire (EPS keeps them 180 days).
const nominationTTL = 180 * 24 * time.Hour

// nominationSet names the index set of a pharmacy.
func nominationSet(ods string) string { return "nominated:" + strings.ToUpper(ods) }

// owedSet names the set of a pharmacy's prescriptions that a release
// recovery could not examine (the tracker or the release again failed):
// each may be with the pharmacy, released in an answer that was lost, and
// its next nominated release asks about it again. A member is
// owedMember's "<short-form id>@<unix seconds of the lost attempt>".
func owedSet(ods string) string { return "nominated-owed:" + strings.ToUpper(ods) }

// owedMember is c's member of an owedSet.
func owedMember(c candidate) string { return c.sf + "@" + strconv.FormatInt(c.since.Unix(), 10) }

// handoverMember is the owedSet member of a prescription a SOAP answer
// delivers while the answer is handed to its sender (handover.go): owed
// as an undelivered one is (undeliveredSince), tagged with the request's
// wsa:MessageID. Gateways older than the tag read it as no member and drop
// it.
func handoverMember(sf, tag string) string {
	return owedMember(candidate{sf: sf, since: undeliveredSince}) + "@" + tag
}

// parseOwed reads an owedSet member; false when it is not one.
func parseOwed(m string) (string, time.Time, bool) {
	sf, at, ok := strings.Cut(m, "@")
	at, _, _ = strings.Cut(at, "@") // a handoverMember's tag
	secs, err := strconv.ParseInt(at, 10, 64)
	if !ok || sf == "" || err != nil {
		return "", time.Time{}, false
	}
	return sf, time.Unix(secs, 0).UTC(), true
}

// owedTag returns the tag of a handoverMember, "" for another member.
func owedTag(m string) string {
	_, rest, _ := strings.Cut(m, "@")
	_, tag, _ := strings.Cut(rest, "@")
	return tag
}

// NoteDeadLetter implements DeadLetterNoter. A nominated release that goes
// to the dead letters after an attempt whose answer is unknown (recorded,
// never answered) may have had EPS release prescriptions to the pharmacy
// that it never saw. Each of the pharmacy's nominations is owed to it
// (owedSet) against that first attempt, so that its next nominated release
// asks about them and delivers those EPS released since; before, only an
// operator's resend of the dead letter recovered them. A resend as well
// delivers nothing twice: whichever release delivers a prescription first
// takes it off the index and the owed set. The SOAP door notes so a
// nominated release it answers with a retryable fault (oweUnknown): the
// sender may send it again under a new wsa:MessageID.
func (p *EPSProcessor) NoteDeadLetter(ctx context.Context, in *Inbound) error {
	canon, fam, err := v3.Canonical(in.Interaction)
	if err != nil || canon != v3.NominatedReleaseRequest || p.outcomes == nil || p.index == nil {
		return nil
	}
	kept, found, err := p.outcomes.GetReply(ctx, outcomeKey(in, canon))
	if err != nil {
		return fmt.Errorf("nominated release %s: attempt record unreadable: %w", in.MessageID, err)
	}
	var rec recordedAnswer
	if !found || json.Unmarshal(kept, &rec) != nil || rec.Status != 0 || rec.At.IsZero() || checkRecordSender(in, rec) != nil {
		return nil // never sent, EPS's answer is recorded (kept for its resend), or another sender's
	}
	t := p.reg.ByInteraction(canon)
	if t == nil {
		return nil
	}
	body, _, err := t.ToFHIR(in.Payload, mapping.Env{Now: p.now().UTC(), NewID: p.newID, Family: fam})
	if err != nil {
		return nil // unreadable: never sent
	}
	owner := releaseOwner(body)
	if owner == "" {
		return nil
	}
	// Not while another release of the dispenser delivers one of them
	// (release_hold.go): it would stay owed once delivered.
	hold, err := p.holdDispenser(ctx, owner)
	if err != nil {
		return fmt.Errorf("nominated release %s: %w", in.MessageID, err)
	}
	defer hold.drop()
	noms, err := p.index.SetMembers(ctx, nominationSet(owner))
	if err != nil {
		return fmt.Errorf("nominated release %s: nominations of %s unreadable: %w", in.MessageID, owner, err)
	}
	if len(noms) == 0 {
		return nil
	}
	owed := make([]string, len(noms))
	for i, sf := range noms {
		owed[i] = owedMember(candidate{sf: sf, since: rec.At})
	}
	if err := p.index.SetAdd(ctx, owedSet(owner), nominationTTL, owed...); err != nil {
		return fmt.Errorf("nominated release %s: nominations of %s not kept as owed: %w", in.MessageID, owner, err)
	}
	p.log.Warn("nominated release goes to the dead letters after an attempt whose answer is unknown: the dispenser's next nominated release asks about its nominations",
		"message_id", in.MessageID, "dispenser", owner, "nominations", len(noms))
	return nil
}

// releasedTo is what the answer to a $release (requestJSON) delivers to
// its dispenser; nil when it delivers nothing.
func releasedTo(requestJSON []byte, resp *upstream.Response) *outbox.Released {
	if resp.Status != 200 {
		return nil
	}
	owner, ids := releaseOwner(requestJSON), releasedIDs(resp.Body)
	if owner == "" || len(ids) == 0 {
		return nil
	}
	return &outbox.Released{Dispenser: strings.ToUpper(owner), Prescriptions: ids}
}

// undeliveredSince is the attempt time an undelivered release response's
// prescriptions are owed against (owedMember): the dispenser is known
// never to have seen them in it, so whenever the tracker shows one came to
// the dispenser, its next nominated release delivers it (a recovered one
// in that response came long before it).
var undeliveredSince = time.Unix(0, 0).UTC()

// NoteUndelivered implements UndeliveredNoter. A nominated release
// response that goes to the dead letters undelivered (the pharmacy's MHS
// failing past its route's retries or persist duration, or refusing it)
// leaves the prescriptions EPS released in it with the pharmacy, unseen,
// and already off its nominations (forgetDelivered). Each is owed to the
// pharmacy (owedSet), so that its next nominated release delivers those
// EPS still shows with it; before, they were stranded unless an operator
// resent the dead letter, and lost with it once the capped list dropped
// it. The dead letter is marked Owed: it is not resent, which would
// deliver them a second time. Whichever release delivers one first takes
// it off the owed set.
func (p *EPSProcessor) NoteUndelivered(ctx context.Context, dl *outbox.DeadLetter) error {
	r := dl.Released
	if r == nil || p.index == nil || r.Dispenser == "" || len(r.Prescriptions) == 0 {
		return nil
	}
	// Not while another release of the dispenser delivers one of them
	// (release_hold.go): it would stay owed once delivered.
	hold, err := p.holdDispenser(ctx, r.Dispenser)
	if err != nil {
		return fmt.Errorf("undelivered release response %s: %w", dl.MessageID, err)
	}
	defer hold.drop()
	owed := make([]string, len(r.Prescriptions))
	for i, sf := range r.Prescriptions {
		owed[i] = owedMember(candidate{sf: sf, since: undeliveredSince})
	}
	if err := p.index.SetAdd(ctx, owedSet(r.Dispenser), nominationTTL, owed...); err != nil {
		return fmt.Errorf("undelivered release response %s: prescriptions of %s not kept as owed: %w", dl.MessageID, r.Dispenser, err)
	}
	dl.Owed = true
	dl.Reason += fmt.Sprintf("; the prescriptions it released (%s) are owed to dispenser %s and go out with its next nominated release: not to be resent",
		strings.Join(r.Prescriptions, ", "), r.Dispenser)
	p.log.Warn("release response undelivered: the prescriptions it released are owed to the dispenser, whose next nominated release delivers them",
		"delivery_id", dl.MessageID, "message_id", dl.RefToMessageID, "dispenser", r.Dispenser, "prescriptions", len(r.Prescriptions))
	return nil
}

// NoteDelivered implements UndeliveredNoter. A release response whose
// pharmacy's MHS acknowledged it asynchronously has delivered what it
// released, even when a worker, its last attempt failed on its own
// exchange, noted it owed on its way to the dead letters as the
// acknowledgment came (outbox.Worker.MarkAcknowledged): its prescriptions
// leave the owed set, or the pharmacy's next nominated release would
// deliver them a second time.
func (p *EPSProcessor) NoteDelivered(ctx context.Context, d outbox.Delivery) error {
	r := d.Released
	if r == nil || p.index == nil || r.Dispenser == "" || len(r.Prescriptions) == 0 {
		return nil
	}
	owed := make([]string, len(r.Prescriptions))
	for i, sf := range r.Prescriptions {
		owed[i] = owedMember(candidate{sf: sf, since: undeliveredSince})
	}
	if err := p.index.SetRemove(ctx, owedSet(r.Dispenser), owed...); err != nil {
		return fmt.Errorf("acknowledged release response %s: prescriptions of %s not taken off those owed: %w", d.MessageID, r.Dispenser, err)
	}
	return nil
}

// noteNomination indexes a prescription EPS accepted under its nominated
// pharmacy, if it has one.
func (p *EPSProcessor) noteNomination(ctx context.Context, bundleJSON []byte) {
	if p.index == nil {
		return
	}
	a, ok := nominationAddition(bundleJSON)
	if !ok {
		return
	}
	if err := p.index.SetAdd(ctx, a.Set, a.TTL, a.Members...); err != nil {
		p.log.Warn("nomination not indexed: a lost release answer could not recover it", "prescription", a.Members[0], "index", a.Set, "err", err)
	}
}

// forgetNomination takes a prescription EPS refused off its nominated
// pharmacy's index set.
func (p *EPSProcessor) forgetNomination(ctx context.Context, bundleJSON []byte) {
	if p.index == nil {
		return
	}
	a, ok := nominationAddition(bundleJSON)
	if !ok {
		return
	}
	if err := p.index.SetRemove(ctx, a.Set, a.Members...); err != nil {
		p.log.Warn("refused prescription not taken off the nominations", "prescription", a.Members[0], "index", a.Set, "err", err)
	}
}

// prescriptionFields is what the release index reads of a
// prescription-order Bundle: its MedicationRequests' short-form id, line
// items and nominated pharmacy. Only these fields are decoded
// (goccy/go-json): the whole FHIR model of the Bundle cost as much as a
// tenth of the gateway's time per message.
type prescriptionFields struct {
	ResourceType string `json:"resourceType"`
	Entry        []struct {
		Resource struct {
			ResourceType    string            `json:"resourceType"`
			GroupIdentifier *fhir.Identifier  `json:"groupIdentifier"`
			Identifier      []fhir.Identifier `json:"identifier"`
			DispenseRequest *struct {
				Performer *struct {
					Identifier *fhir.Identifier `json:"identifier"`
				} `json:"performer"`
			} `json:"dispenseRequest"`
		} `json:"resource"`
	} `json:"entry"`
}

// prescription returns the short-form id (upper case), the number of line
// items and the nominated pharmacy ("" for none: the first performer) of
// the MedicationRequests, as sentPrescriptionIn and nominatedIn read them.
func (b *prescriptionFields) prescription() (shortForm string, items int, ods string) {
	for _, e := range b.Entry {
		mr := e.Resource
		if mr.ResourceType != "MedicationRequest" {
			continue
		}
		if g := mr.GroupIdentifier; g != nil && g.System == fhir.SystemShortFormID {
			shortForm = strings.ToUpper(g.Value)
		}
		for _, id := range mr.Identifier {
			if id.System == fhir.SystemLineItemID {
				items++
			}
		}
		if dr := mr.DispenseRequest; ods == "" && dr != nil && dr.Performer != nil && dr.Performer.Identifier != nil {
			ods = dr.Performer.Identifier.Value
		}
	}
	return shortForm, items, ods
}

// nominationAddition is the index entry of a prescription-order Bundle:
// its short-form id in its nominated pharmacy's set; false when it names
// no nominated pharmacy (or cannot be read).
func nominationAddition(bundleJSON []byte) (store.SetAddition, bool) {
	var b prescriptionFields
	if err := gojson.Unmarshal(bundleJSON, &b); err != nil {
		return store.SetAddition{}, false
	}
	shortForm, items, ods := b.prescription()
	if shortForm == "" || items == 0 || ods == "" {
		return store.SetAddition{}, false
	}
	return store.SetAddition{Set: nominationSet(ods), TTL: nominationTTL, Members: []string{shortForm}}, true
}

// nominatedPharmacy returns the ODS code of a prescription's nominated
// pharmacy (MedicationRequest.dispenseRequest.performer), "" when none.
func nominatedPharmacy(bundleJSON []byte) string {
	b, err := fhir.ParseBundle(bundleJSON)
	if err != nil {
		return ""
	}
	return nominatedIn(b)
}

// nominatedIn is nominatedPharmacy over a Bundle already decoded.
func nominatedIn(b *fhir.Bundle) string {
	for _, mr := range fhir.EntriesOf[*fhir.MedicationRequest](b) {
		if dr := mr.DispenseRequest; dr != nil && dr.Performer != nil && dr.Performer.Identifier != nil && dr.Performer.Identifier.Value != "" {
			return dr.Performer.Identifier.Value
		}
	}
	return ""
}

// releaseOwner returns the owner ODS code of a $release Parameters.
func releaseOwner(paramsJSON []byte) string {
	var ps struct {
		Parameter []struct {
			Name     string `json:"name"`
			Resource struct {
				Identifier []fhir.Identifier `json:"identifier"`
			} `json:"resource"`
		} `json:"parameter"`
	}
	if json.Unmarshal(paramsJSON, &ps) != nil {
		return ""
	}
	for _, prm := range ps.Parameter {
		if prm.Name == "owner" {
			for _, id := range prm.Resource.Identifier {
				if id.Value != "" {
					return id.Value
				}
			}
		}
	}
	return ""
}

// releaseAnswerDoc is a $release answer kept raw, so that merging
// prescriptions into it leaves every value byte for byte as EPS sent it.
type releaseAnswerDoc struct {
	top    map[string]json.RawMessage
	params []map[string]json.RawMessage
}

// parseReleaseAnswer reads a $release Parameters.
func parseReleaseAnswer(body []byte) (*releaseAnswerDoc, error) {
	d := &releaseAnswerDoc{}
	if err := json.Unmarshal(body, &d.top); err != nil {
		return nil, fmt.Errorf("release answer: %w", err)
	}
	if err := json.Unmarshal(d.top["parameter"], &d.params); err != nil {
		return nil, fmt.Errorf("release answer parameters: %w", err)
	}
	return d, nil
}

// passed returns the entries of passedPrescriptions and its parameter index (-1 when absent).
func (d *releaseAnswerDoc) passed() ([]json.RawMessage, map[string]json.RawMessage, int) {
	for i, prm := range d.params {
		var name string
		if json.Unmarshal(prm["name"], &name) != nil || name != "passedPrescriptions" {
			continue
		}
		var bundle map[string]json.RawMessage
		if json.Unmarshal(prm["resource"], &bundle) != nil || bundle == nil {
			return nil, nil, -1
		}
		var entries []json.RawMessage
		_ = json.Unmarshal(bundle["entry"], &entries)
		return entries, bundle, i
	}
	return nil, nil, -1
}

// shortFormIDs returns the short-form ids of the prescriptions in entries.
func shortFormIDs(entries []json.RawMessage) []string {
	var out []string
	for _, e := range entries {
		if sf, ok := entryShortForm(e); ok {
			out = append(out, sf)
		}
	}
	return out
}

// entryShortForm returns the short-form id of the prescription in a
// passedPrescriptions entry (a Bundle whose MedicationRequests carry it
// and a line item at least, as sentPrescriptionOf reads it); false when
// it cannot be read. Only those fields are decoded (prescriptionFields):
// decoding each prescription's Bundle whole made reading a release
// answer's ids cost more than a millisecond, every time it was read.
func entryShortForm(e json.RawMessage) (string, bool) {
	var entry struct {
		Resource prescriptionFields `json:"resource"`
	}
	if gojson.Unmarshal(e, &entry) != nil || entry.Resource.ResourceType != "Bundle" {
		return "", false
	}
	sf, items, _ := entry.Resource.prescription()
	if sf == "" || items == 0 {
		return "", false
	}
	return sf, true
}

// releasedIDs returns the short-form ids a $release answer releases: of
// the prescriptions in the entries of the first parameter named
// passedPrescriptions (shortFormIDs), nil when the answer cannot be read
// so far. It reads the answer as parseReleaseAnswer and passed do, but in
// one pass that keeps only that parameter's entries (goccy/go-json).
func releasedIDs(body []byte) []string {
	var a struct {
		Parameter []struct {
			Name     any             `json:"name"`
			Resource json.RawMessage `json:"resource"`
		} `json:"parameter"`
	}
	if gojson.Unmarshal(body, &a) != nil {
		return nil
	}
	for _, prm := range a.Parameter {
		if name, _ := prm.Name.(string); name != "passedPrescriptions" {
			continue
		}
		var bundle struct {
			Entry []json.RawMessage `json:"entry"`
		}
		if gojson.Unmarshal(prm.Resource, &bundle) != nil {
			return nil
		}
		return shortFormIDs(bundle.Entry)
	}
	return nil
}

// addPassed appends entries to passedPrescriptions and returns the answer.
func (d *releaseAnswerDoc) addPassed(more []json.RawMessage) ([]byte, error) {
	entries, _, _ := d.passed()
	return d.setPassed(append(entries, more...))
}

// keepPassed keeps in passedPrescriptions the entries whose prescription
// keep accepts (and those whose short-form id cannot be read), and returns
// the answer.
func (d *releaseAnswerDoc) keepPassed(keep func(shortForm string) bool) ([]byte, error) {
	entries, _, _ := d.passed()
	var kept []json.RawMessage
	for _, e := range entries {
		if sf, ok := entryShortForm(e); !ok || keep(sf) {
			kept = append(kept, e)
		}
	}
	return d.setPassed(kept)
}

// setPassed makes entries passedPrescriptions and returns the answer.
func (d *releaseAnswerDoc) setPassed(entries []json.RawMessage) ([]byte, error) {
	_, bundle, i := d.passed()
	if i < 0 {
		return nil, errors.New("release answer has no passedPrescriptions")
	}
	if entries == nil {
		entries = []json.RawMessage{}
	}
	var err error
	if bundle["entry"], err = json.Marshal(entries); err != nil {
		return nil, err
	}
	bundle["total"] = json.RawMessage(fmt.Sprint(len(entries)))
	if d.params[i]["resource"], err = json.Marshal(bundle); err != nil {
		return nil, err
	}
	if d.top["parameter"], err = json.Marshal(d.params); err != nil {
		return nil, err
	}
	return json.Marshal(d.top)
}

// recoverRelease adds to a nominated release answer the prescriptions an
// earlier, lost answer released to the same dispenser (see above): when
// lost, this message's own (first attempted at attemptAt), examining every
// nomination of the dispenser; and, lost or not, those an earlier recovery
// of the dispenser's could not examine (owedSet), each against the attempt
// whose answer was lost. On any failure it returns resp unchanged and says
// so in the log. noOwed reports that it found nothing owed to the
// dispenser and so did nothing: what the answer delivers need not be
// looked for there again (recordDelivered), the dispenser's release hold
// held throughout.
//
// It runs under the dispenser's release hold, and asks EPS nothing once
// the hold is lost (releaseHold.held): another release of the dispenser
// may then run, answered by EPS with a prescription this recovery would
// find indexed and with the dispenser, and deliver it as well. A recovery
// that loses its hold delivers nothing it recovered (each may be another
// release's too): what it did not deliver is owed to the dispenser, once
// it has the hold again, if still nominated (owedUnderHold).
func (p *EPSProcessor) recoverRelease(ctx context.Context, hold *releaseHold, requestJSON []byte, resp *upstream.Response, attemptAt time.Time, lost bool) (out *upstream.Response, noOwed bool) {
	resp = p.recoverInto(ctx, hold, requestJSON, resp, attemptAt, lost, &noOwed)
	return resp, noOwed
}

// recoverInto is recoverRelease, setting *noOwed.
func (p *EPSProcessor) recoverInto(ctx context.Context, hold *releaseHold, requestJSON []byte, resp *upstream.Response, attemptAt time.Time, lost bool, noOwed *bool) *upstream.Response {
	owner := releaseOwner(requestJSON)
	if p.index == nil || owner == "" || resp.Status != 200 {
		return resp
	}
	owed, err := p.index.SetMembers(ctx, owedSet(owner))
	if err != nil {
		p.log.Error("the prescriptions an earlier release recovery could not examine could not be read", "dispenser", owner, "err", err)
		if lost {
			p.countRecovery(recoveryFailed)
		}
		return resp
	}
	if !lost && len(owed) == 0 {
		*noOwed = true
		return resp
	}
	doc, err := parseReleaseAnswer(resp.Body)
	if err != nil && !nothingToRelease(resp) {
		return resp
	}
	// doc is nil when EPS answered it had nothing (more) to release.
	have := map[string]bool{}
	inAnswer := 0 // prescriptions in EPS's answer
	if doc != nil {
		entries, _, _ := doc.passed()
		inAnswer = len(entries)
		for _, id := range shortFormIDs(entries) {
			have[id] = true
		}
	}
	since := map[string]time.Time{}
	if lost {
		cands, err := p.index.SetMembers(ctx, nominationSet(owner))
		if err != nil {
			p.log.Error("release answer may have been lost and the nominations could not be read", "dispenser", owner, "err", err)
			p.countRecovery(recoveryFailed)
			return resp
		}
		for _, sf := range cands {
			since[sf] = attemptAt
		}
	}
	var owedGone []string // owed entries of prescriptions this recovery settles
	owedAt := map[string][]string{}
	for _, m := range owed {
		sf, at, ok := parseOwed(m)
		if !ok {
			owedGone = append(owedGone, m)
			continue
		}
		owedAt[sf] = append(owedAt[sf], m)
		if cur, ok := since[sf]; !ok || at.Before(cur) {
			since[sf] = at
		}
	}
	todo := make([]candidate, 0, len(since))
	for sf, at := range since {
		if !have[sf] { // one this answer delivers leaves the index once it is recorded (forgetDelivered)
			todo = append(todo, candidate{sf: sf, since: at})
		}
	}
	slices.SortFunc(todo, func(a, b candidate) int { return strings.Compare(a.sf, b.sf) })
	outcomes := p.examineCandidates(upstream.StopRetriesOn(ctx, hold.lostSignal()), hold, requestJSON, owner, todo)
	if !hold.held() {
		// Each recovered one may be another release's answer too.
		for i := range outcomes {
			if outcomes[i].result == candidateRecovered {
				outcomes[i] = candidateOutcome{}
			}
		}
	}
	// Into the answer while it holds fewer than a batch; the rest go out
	// with the dispenser's next release.
	room := releaseBatch - inAnswer
	for i := range outcomes {
		if o := &outcomes[i]; o.result == candidateRecovered {
			if len(o.entries) > room {
				*o = candidateOutcome{result: candidateFull}
				continue
			}
			room -= len(o.entries)
		}
	}
	var owedNew []string
	for i, c := range todo {
		switch outcomes[i].result {
		case candidateMissed, candidateFull:
			if len(owedAt[c.sf]) == 0 {
				owedNew = append(owedNew, owedMember(c))
			}
		case candidateSkipped, candidateStale:
			owedGone = append(owedGone, owedAt[c.sf]...) // a recovered one leaves once delivered
		}
	}
	var delivered map[string]bool // missed, and since delivered by another release (owedUnderHold)
	if len(owedNew) > 0 && !hold.held() {
		owedNew, delivered = p.owedUnderHold(ctx, hold, owner, owedNew)
	}
	if len(owedNew) > 0 {
		if err := p.index.SetAdd(ctx, owedSet(owner), nominationTTL, owedNew...); err != nil {
			p.log.Error("prescriptions a release recovery could not examine could not be kept for the dispenser's next release", "dispenser", owner, "err", err)
		}
	}
	if len(owedGone) > 0 {
		if err := p.index.SetRemove(ctx, owedSet(owner), owedGone...); err != nil {
			p.log.Warn("settled prescriptions not taken off those owed to the dispenser", "dispenser", owner, "err", err)
		}
	}
	var more []json.RawMessage
	var recovered, missed, stale, full []string
	// first is the first recovered, whose answer frames them all when EPS
	// had nothing more to release.
	var first *candidateOutcome
	for i, c := range todo { // in the index's (sorted) order, whatever order the answers came in
		sf := c.sf
		switch o := outcomes[i]; o.result {
		case candidateStale:
			stale = append(stale, sf)
		case candidateMissed:
			if !delivered[sf] {
				missed = append(missed, sf)
			}
		case candidateRecovered:
			if first == nil {
				first = &outcomes[i]
			} else {
				more = append(more, o.entries...)
			}
			recovered = append(recovered, sf)
		case candidateFull:
			full = append(full, sf)
		}
	}
	if len(full) > 0 {
		p.log.Info("release recovery: the release response holds a batch of prescriptions already; those recovered beyond it are owed to the dispenser and go out with its next nominated release",
			"dispenser", owner, "batch", releaseBatch, "owed", full)
	}
	if first != nil {
		if doc == nil {
			doc, err = parseReleaseAnswer(first.answer)
			if err != nil {
				p.log.Error("recovered prescriptions could not be framed as a release answer", "dispenser", owner, "recovered", recovered, "err", err)
				p.countRecovery(recoveryFailed)
				return resp
			}
		} else {
			more = append(slices.Clip(first.entries), more...)
		}
	}
	if len(stale) > 0 {
		// Off the index, so that later recoveries do not ask about them
		// again (the set's TTL is renewed by every new nomination).
		if err := p.index.SetRemove(ctx, nominationSet(owner), stale...); err != nil {
			p.log.Warn("nominations that can no longer be released to this dispenser not taken off the index", "dispenser", owner, "err", err)
		}
	}
	if len(missed) > 0 {
		p.log.Error("release recovery incomplete: these prescriptions may have been released to this dispenser in an answer that was lost and could not be recovered; the dispenser's next nominated release asks about them again",
			"dispenser", owner, "unrecovered", missed)
	}
	if first == nil {
		if len(missed) > 0 {
			p.countRecovery(recoveryFailed)
		} else {
			p.countRecovery(recoveryNone)
		}
		return resp
	}
	body, err := doc.addPassed(more)
	if err != nil {
		p.countRecovery(recoveryFailed)
		return resp
	}
	// A release of the dispenser whose hold ran out while EPS answered
	// it with one of these leaves it out (release_hold_lapse.go).
	if err := p.noteRecovered(ctx, owner, recovered); err != nil {
		p.log.Error("release recovery: what it recovered is not delivered (not noted); each is owed to the dispenser and asked about at its next nominated release",
			"dispenser", owner, "recovered", recovered, "err", err)
		p.oweRecovered(ctx, owner, todo, outcomes, owedAt)
		p.countRecovery(recoveryFailed)
		return resp
	}
	p.countRecovery(recoveryRecovered)
	p.log.Warn("nominated release: recovered prescriptions EPS released to this dispenser in an answer that was lost",
		"dispenser", owner, "recovered", recovered)
	out := *resp
	out.Body = body
	return &out
}

// owedUnderHold returns those of owedNew (owedSet members of missed
// nominations of owner) to keep owed once the recovery's lost release
// hold is taken again: those still nominated. Another release of the
// dispenser that ran while it was lost may have delivered some; one owed
// after that would be delivered again by the dispenser's next release.
// It returns too the prescriptions no longer nominated (delivered). Without
// the hold, or the nominations unreadable, none is kept (logged): they
// stay nominated, unowed.
func (p *EPSProcessor) owedUnderHold(ctx context.Context, hold *releaseHold, owner string, owedNew []string) (keep []string, delivered map[string]bool) {
	if err := hold.retake(ctx); err != nil {
		p.log.Error("release recovery lost the dispenser's hold: the nominations it could not examine are not kept owed and may be stranded with the dispenser",
			"dispenser", owner, "not_owed", owedNew, "err", err)
		return nil, nil
	}
	noms, err := p.index.SetMembers(ctx, nominationSet(owner))
	if err != nil {
		p.log.Error("release recovery lost the dispenser's hold, and its nominations could not be read again: those it could not examine are not kept owed",
			"dispenser", owner, "not_owed", owedNew, "err", err)
		return nil, nil
	}
	nominated := make(map[string]bool, len(noms))
	for _, sf := range noms {
		nominated[sf] = true
	}
	delivered = map[string]bool{}
	for _, m := range owedNew {
		sf, _, ok := parseOwed(m)
		switch {
		case ok && nominated[sf]:
			keep = append(keep, m)
		case ok:
			delivered[sf] = true
		}
	}
	if len(delivered) > 0 {
		p.log.Info("release recovery lost the dispenser's hold: the nominations it did not deliver that another release delivered meanwhile are not owed",
			"dispenser", owner, "delivered_elsewhere", len(delivered))
	}
	return keep, delivered
}

// recoveryWorkers bounds the nominated prescriptions one release recovery
// examines at once (a tracker question, then perhaps a release again). One
// at a time, a pharmacy with hundreds of them held its replayed download
// for hundreds of round trips to EPS; with thousands, no more than this
// many calls are ever in flight.
const recoveryWorkers = 8

// recoveryBudget bounds how long one release recovery starts examining
// prescriptions: those not started by then are owed to the dispenser
// (owedSet), asked about at its next nominated release, so that a pharmacy
// with thousands of nominations does not hold its release (and the other
// releases waiting for its hold) for as long as thousands of round trips.
const recoveryBudget = 20 * time.Second

// candidateResult is what the recovery made of one nominated prescription.
type candidateResult int

const (
	// candidateMissed: not known whether the lost answer released it (the
	// tracker or the release again failed, or it was never examined): it
	// is owed to the dispenser (owedSet), asked about again at its next
	// nominated release. The zero value, so that a candidate never
	// examined counts as missed.
	candidateMissed candidateResult = iota
	// candidateSkipped: not this dispenser's to recover (not in the
	// tracker, with no dispenser or another).
	candidateSkipped
	// candidateStale: never to be delivered by this release (final, or
	// with this dispenser since before the message's first attempt).
	candidateStale
	// candidateRecovered: released again; entries are its answer's.
	candidateRecovered
	// candidateFull: released again, but the answer holds a batch
	// (releaseBatch) already: owed to the dispenser (owedSet), delivered
	// by its next nominated release.
	candidateFull
)

// releaseBatch is the most prescriptions one nominated release response
// carries: Spine's batch (EPS releases up to 25 a request, and the
// response's pertinentBatchInfo code 2 says 25). A recovery adds to an
// answer no more than fill it.
const releaseBatch = 25

// candidateOutcome is one prescription's examination.
type candidateOutcome struct {
	result  candidateResult
	entries []json.RawMessage
	// answer is the release answer entries came in.
	answer []byte
	// refused: the circuit breaker refused a call, so EPS was not asked
	// (a candidate to try again once the breaker lets calls through).
	refused bool
}

// examineCandidates examines cands for recoverRelease, at most
// recoveryWorkers at a time, and returns their outcomes in cands' order.
// Once the context ends no further candidate is started. Once the breaker
// refuses a call none is started either: the candidates left are tried one
// at a time until one passes (a half-open breaker lets only a few calls
// through at once, then closes) and then all together again, or, when it
// refuses that one too (open), are left missed without a call.
func (p *EPSProcessor) examineCandidates(ctx context.Context, hold *releaseHold, requestJSON []byte, owner string, cands []candidate) []candidateOutcome {
	out := make([]candidateOutcome, len(cands))
	pending := make([]int, len(cands))
	for i := range pending {
		pending[i] = i
	}
	deadline := p.now().Add(recoveryBudget)
	stop := func() bool { return ctx.Err() != nil || p.now().After(deadline) || !hold.held() }
	defer func() {
		if stop() && ctx.Err() == nil && hold.held() {
			n := 0
			for i := range out {
				if out[i].result == candidateMissed {
					n++
				}
			}
			p.log.Warn("release recovery ran out of time: the nominated prescriptions not examined are owed to the dispenser and asked about at its next release",
				"dispenser", owner, "budget", recoveryBudget, "owed", n)
		}
	}()
	for len(pending) > 0 && !stop() {
		rest := p.examineRound(ctx, stop, hold, requestJSON, owner, cands, pending, out)
		if len(rest) == 0 || stop() {
			break
		}
		i := rest[0]
		if out[i] = p.examineCandidate(ctx, hold, requestJSON, owner, cands[i]); out[i].refused {
			p.log.Warn("release recovery: the EPS circuit breaker is open; the nominated prescriptions not yet examined are asked about at the dispenser's next release",
				"dispenser", owner, "not_examined", len(rest))
			break
		}
		pending = rest[1:]
	}
	return out
}

// examineRound examines the candidates at pending on recoveryWorkers
// goroutines, writing each outcome to out, and returns, in order, those
// not examined: refused by the breaker, or not started because it refused
// one, the context ended or stop said so (the recovery's time is up).
func (p *EPSProcessor) examineRound(ctx context.Context, stop func() bool, hold *releaseHold, requestJSON []byte, owner string, cands []candidate, pending []int, out []candidateOutcome) []int {
	var refused atomic.Bool
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(recoveryWorkers, len(pending)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = p.examineCandidate(ctx, hold, requestJSON, owner, cands[i])
				if out[i].refused {
					refused.Store(true)
				}
			}
		}()
	}
	started := 0
feed:
	for _, i := range pending {
		if refused.Load() || stop() {
			break
		}
		select {
		case next <- i:
			started++
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	var rest []int
	for n, i := range pending {
		if n >= started || out[i].refused {
			rest = append(rest, i)
		}
	}
	return rest
}

// candidate is a nominated prescription a recovery examines: its
// short-form id, and the first attempt of the release whose lost answer
// may have released it (a change the tracker shows before it, less
// replayClockSkew, was not that release's).
type candidate struct {
	sf    string
	since time.Time
}

// examineCandidate asks the EPS tracker about the nominated prescription
// c.sf and, when a lost release answer (first attempted at c.since)
// released it to owner, releases it again by id. Once owner's release
// hold is lost it does not: the candidate is missed.
func (p *EPSProcessor) examineCandidate(ctx context.Context, hold *releaseHold, requestJSON []byte, owner string, c candidate) candidateOutcome {
	sf := c.sf
	view, err := p.trackerView(ctx, sf)
	if errors.Is(err, cancels.ErrNotInTracker) {
		return candidateOutcome{result: candidateSkipped}
	}
	if err != nil {
		if errors.Is(err, upstream.ErrBreakerOpen) {
			return candidateOutcome{refused: true}
		}
		// Not known whether the lost answer released it: it may be
		// stranded with this dispenser.
		p.log.Warn("release recovery: the EPS tracker could not be asked about a nominated prescription", "prescription", sf, "dispenser", owner, "err", err)
		return candidateOutcome{}
	}
	if finalStatus(view.Status) {
		return candidateOutcome{result: candidateStale} // never to be released to anyone
	}
	if !strings.EqualFold(view.Owner, owner) || (view.Status != "0002" && view.Status != "0003") {
		return candidateOutcome{result: candidateSkipped}
	}
	if !reachedSince(view, c.since) {
		// With this dispenser since before this message was first sent:
		// not released by it, so not lost with its answer; it reached the
		// dispenser some other way.
		return candidateOutcome{result: candidateStale}
	}
	if !hold.held() {
		return candidateOutcome{}
	}
	again, err := p.api.Release(ctx, withGroupIdentifier(requestJSON, sf))
	if errors.Is(err, upstream.ErrBreakerOpen) {
		return candidateOutcome{refused: true}
	}
	if err != nil || again.Status != 200 {
		p.log.Warn("prescription with this dispenser could not be released again", "prescription", sf, "dispenser", owner, "err", err)
		return candidateOutcome{}
	}
	d, err := parseReleaseAnswer(again.Body)
	if err != nil {
		return candidateOutcome{}
	}
	es, _, _ := d.passed()
	if len(es) == 0 {
		// Withheld (failedPrescriptions: its signature failed EPS's check):
		// EPS returned it to Spine, so it is not with the dispenser.
		return candidateOutcome{result: candidateSkipped}
	}
	return candidateOutcome{result: candidateRecovered, entries: es, answer: again.Body}
}

// nothingToRelease reports EPS's answer to a release that released
// nothing: Spine refuses an empty download (reason 0006, "No more
// prescriptions available"), and the EPS API answers that with an
// OperationOutcome whose issues are all informational, under HTTP 200
// (coordinator spine-response-handler.ts, utils/status-code.ts), not with
// an empty Parameters.
func nothingToRelease(resp *upstream.Response) bool {
	oo, err := outcomeOf(resp)
	return resp.Status == 200 && err == nil && oo != nil
}

// finalStatus reports the prescription statuses (EPS-task-business-status)
// from which no release can follow: expired, cancelled, dispensed, not
// dispensed, claimed, no-claimed.
func finalStatus(status string) bool {
	switch status {
	case "0004", "0005", "0006", "0007", "0008", "0009":
		return true
	}
	return false
}

// withGroupIdentifier returns a nominated $release Parameters turned into a
// patient release of one prescription: a group-identifier parameter added.
func withGroupIdentifier(paramsJSON []byte, shortFormID string) []byte {
	var top map[string]json.RawMessage
	if json.Unmarshal(paramsJSON, &top) != nil {
		return paramsJSON
	}
	var params []json.RawMessage
	_ = json.Unmarshal(top["parameter"], &params)
	gi, _ := json.Marshal(map[string]any{"name": "group-identifier",
		"valueIdentifier": map[string]string{"system": fhir.SystemShortFormID, "value": shortFormID}})
	params = append(params, gi)
	top["parameter"], _ = json.Marshal(params)
	b, err := json.Marshal(top)
	if err != nil {
		return paramsJSON
	}
	return b
}

// forgetDelivered takes the prescriptions a release answer delivers to its
// dispenser off the index: they are no longer the dispenser's unseen. The
// owed members tagged keepTag (the answer's own handover, "" for none)
// stay until it is handed over. It returns, by tag, those it delivers of
// other requests' answers never handed over (release_handover.go).
func (p *EPSProcessor) forgetDelivered(ctx context.Context, requestJSON []byte, resp *upstream.Response, keepTag string) map[string][]string {
	if p.index == nil || resp.Status != 200 {
		return nil
	}
	owner := releaseOwner(requestJSON)
	ids := releasedIDs(resp.Body)
	if owner == "" || len(ids) == 0 {
		return nil
	}
	if err := p.index.SetRemove(ctx, nominationSet(owner), ids...); err != nil {
		p.log.Warn("released prescriptions not taken off the nominations; a later recovery may deliver them again", "dispenser", owner, "err", err)
	}
	owed, err := p.index.SetMembers(ctx, owedSet(owner))
	if err != nil || len(owed) == 0 {
		if err != nil {
			p.log.Warn("released prescriptions not taken off those owed to the dispenser; its next release may deliver them again", "dispenser", owner, "err", err)
		}
		return nil
	}
	gone, unwritten := owedDelivered(owed, ids, keepTag)
	if len(gone) == 0 {
		return nil
	}
	if err := p.index.SetRemove(ctx, owedSet(owner), gone...); err != nil {
		p.log.Warn("released prescriptions not taken off those owed to the dispenser; its next release may deliver them again", "dispenser", owner, "err", err)
	}
	return unwritten
}

// owedDelivered returns the members of owed (a dispenser's owedSet) that
// an answer delivering ids settles, all but those tagged keepTag when it
// is not "", and, by tag, the prescriptions among them of other requests'
// answers never handed over.
func owedDelivered(owed, ids []string, keepTag string) (gone []string, unwritten map[string][]string) {
	for _, m := range owed {
		sf, _, ok := parseOwed(m)
		if !ok || !slices.Contains(ids, sf) {
			continue
		}
		switch tag := owedTag(m); {
		case keepTag != "" && tag == keepTag:
			continue
		case tag != "":
			if unwritten == nil {
				unwritten = map[string][]string{}
			}
			unwritten[tag] = append(unwritten[tag], sf)
		}
		gone = append(gone, m)
	}
	return gone, unwritten
}

// ReleaseLog is an OutcomeLog that records an answer and takes what it
// delivers off the release index in one atomic step (store.Memory and
// store.Redis satisfy it).
type ReleaseLog interface {
	PutReplyRemoving(ctx context.Context, key string, body []byte, ttl time.Duration, removals ...store.SetRemoval) error
}

// recordDelivered records rec, EPS's answer resp to the $release
// requestJSON, under key, and takes what it delivers off the index as
// forgetDelivered does, which it returns as forgetDelivered does. With a
// ReleaseLog the record and the removals are one step, and the owed set
// is not read when noOwed says it holds nothing (recoverRelease read it,
// the dispenser's release hold held since): one round trip where the
// record, the nominations, the owed set's read and its removal took one
// each. An error is the record's.
func (p *EPSProcessor) recordDelivered(ctx context.Context, key string, rec recordedAnswer, requestJSON []byte, resp *upstream.Response, keepTag string, noOwed bool) (map[string][]string, error) {
	rl, ok := p.outcomes.(ReleaseLog)
	owner := releaseOwner(requestJSON)
	var ids []string
	if ok && p.index != nil && resp.Status == 200 && owner != "" {
		ids = releasedIDs(resp.Body)
	}
	if len(ids) == 0 {
		if err := p.record(ctx, key, rec); err != nil {
			return nil, err
		}
		return p.forgetDelivered(ctx, requestJSON, resp, keepTag), nil
	}
	removals := []store.SetRemoval{{Set: nominationSet(owner), Members: ids}}
	var unwritten map[string][]string
	if !noOwed {
		owed, err := p.index.SetMembers(ctx, owedSet(owner))
		if err != nil {
			p.log.Warn("released prescriptions not taken off those owed to the dispenser; its next release may deliver them again", "dispenser", owner, "err", err)
		}
		var gone []string
		gone, unwritten = owedDelivered(owed, ids, keepTag)
		removals = append(removals, store.SetRemoval{Set: owedSet(owner), Members: gone})
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode EPS answer: %w", err)
	}
	if err := rl.PutReplyRemoving(ctx, key, b, p.outcomeTTL, removals...); err != nil {
		return nil, err
	}
	return unwritten, nil
}
