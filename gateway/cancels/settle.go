package cancels

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/porxgate/porxgate/fhir"
	v3 "github.com/porxgate/porxgate/v3"
)

// Sources of a resolution (Outcome.Source).
const (
	sourceDispense     = "dispense-notification"
	sourceReturn       = "return"
	sourceTracker      = "tracker"
	sourcePrescription = "prescription"
	// sourceSuperseded ends, unanswered, a cancellation awaiting its
	// prescription that a later cancel request of the item replaced
	// (Service.supersede): its Outcome has no Code.
	sourceSuperseded = "superseded"
)

// settlement is what a dispenser's message that EPS accepted says about
// the pending cancellations of its prescription.
type settlement struct {
	// PrescriptionID is the short-form id (upper case).
	PrescriptionID string
	// Source is sourceDispense, sourceReturn or sourcePrescription.
	Source string
	// DispenserODS and DispenserName name the dispenser, when the message does.
	DispenserODS, DispenserName string
	// Items maps the line items a dispense notification names (upper case)
	// to their dispense status, and those of a prescription to ""; nil for
	// a return, which names none.
	Items map[string]string
}

// settlementOf reads the FHIR message the gateway sent EPS for a dispense
// notification (a dispense-notification Bundle), a return (a Task) or a
// prescription (a prescription-order Bundle).
func settlementOf(canon string, body []byte) (settlement, error) {
	switch canon {
	case v3.DispenseNotification:
		return dispenseSettlement(body)
	case v3.DispenseProposalReturn:
		return returnSettlement(body)
	case v3.ParentPrescription, v3.ParentPrescriptionNonUrgent:
		return prescriptionSettlement(body)
	}
	return settlement{}, fmt.Errorf("%s settles no cancellation", canon)
}

// dispenseSettlement reads the prescription, items and statuses of a
// dispense-notification Bundle: each MedicationDispense's type and the
// MedicationRequest its authorizingPrescription points at.
func dispenseSettlement(body []byte) (settlement, error) {
	b, err := fhir.ParseBundle(body)
	if err != nil {
		return settlement{}, fmt.Errorf("dispense notification: %w", err)
	}
	s := settlement{Source: sourceDispense, Items: map[string]string{}}
	if hs := fhir.EntriesOf[*fhir.MessageHeader](b); len(hs) > 0 && hs[0].Sender != nil && hs[0].Sender.Identifier != nil {
		s.DispenserODS = hs[0].Sender.Identifier.Value
	}
	mds := fhir.EntriesOf[*fhir.MedicationDispense](b)
	if len(mds) == 0 {
		return settlement{}, errors.New("dispense notification: no MedicationDispense")
	}
	for i, md := range mds {
		c := fhir.FindCoding(md.Type, fhir.CodeSystemMedicationDispenseType)
		if c == nil || c.Code == "" {
			return settlement{}, fmt.Errorf("dispense notification: MedicationDispense %d: no %s type", i, fhir.CodeSystemMedicationDispenseType)
		}
		mr := authorizingRequestOf(b, md)
		if mr == nil {
			return settlement{}, fmt.Errorf("dispense notification: MedicationDispense %d: authorizingPrescription names no MedicationRequest", i)
		}
		item := strings.ToUpper(fhir.FindIdentifier(mr.Identifier, fhir.SystemLineItemID))
		if item == "" || mr.GroupIdentifier == nil || mr.GroupIdentifier.Value == "" {
			return settlement{}, fmt.Errorf("dispense notification: MedicationDispense %d: no line item id or prescription id", i)
		}
		pid := strings.ToUpper(mr.GroupIdentifier.Value)
		if s.PrescriptionID != "" && s.PrescriptionID != pid {
			return settlement{}, fmt.Errorf("dispense notification: items of prescriptions %s and %s", s.PrescriptionID, pid)
		}
		s.PrescriptionID = pid
		s.Items[item] = c.Code
	}
	s.DispenserName = organizationName(bundleResources(b), s.DispenserODS)
	return s, nil
}

// authorizingRequestOf returns the MedicationRequest a MedicationDispense's
// authorizingPrescription points at: contained, or an entry of b.
func authorizingRequestOf(b *fhir.Bundle, md *fhir.MedicationDispense) *fhir.MedicationRequest {
	for _, ref := range md.AuthorizingPrescription {
		if r, ok := md.FindContained(ref.Reference).(*fhir.MedicationRequest); ok {
			return r
		}
		if r, ok := b.Resolve(ref.Reference).(*fhir.MedicationRequest); ok {
			return r
		}
	}
	for _, r := range md.Contained {
		if mr, ok := r.(*fhir.MedicationRequest); ok {
			return mr
		}
	}
	return nil
}

// prescriptionSettlement reads the prescription id and line items of a
// prescription-order Bundle.
func prescriptionSettlement(body []byte) (settlement, error) {
	b, err := fhir.ParseBundle(body)
	if err != nil {
		return settlement{}, fmt.Errorf("prescription: %w", err)
	}
	s := settlement{Source: sourcePrescription, Items: map[string]string{}}
	for i, mr := range fhir.EntriesOf[*fhir.MedicationRequest](b) {
		item := strings.ToUpper(fhir.FindIdentifier(mr.Identifier, fhir.SystemLineItemID))
		if item == "" || mr.GroupIdentifier == nil || mr.GroupIdentifier.Value == "" {
			return settlement{}, fmt.Errorf("prescription: MedicationRequest %d: no line item id or prescription id", i)
		}
		s.PrescriptionID = strings.ToUpper(mr.GroupIdentifier.Value)
		s.Items[item] = ""
	}
	if len(s.Items) == 0 {
		return settlement{}, errors.New("prescription: no MedicationRequest")
	}
	return s, nil
}

// returnSettlement reads the prescription and dispenser of a return Task.
func returnSettlement(body []byte) (settlement, error) {
	res, err := fhir.DecodeResource(body)
	if err != nil {
		return settlement{}, fmt.Errorf("return: %w", err)
	}
	t, ok := res.(*fhir.Task)
	if !ok {
		return settlement{}, fmt.Errorf("return: resourceType %s, want Task", res.GetResourceType())
	}
	if t.GroupIdentifier == nil || t.GroupIdentifier.Value == "" {
		return settlement{}, errors.New("return: Task without groupIdentifier")
	}
	s := settlement{Source: sourceReturn, PrescriptionID: strings.ToUpper(t.GroupIdentifier.Value)}
	if t.Owner != nil && t.Owner.Identifier != nil {
		s.DispenserODS = t.Owner.Identifier.Value
	}
	for _, r := range t.Contained {
		if org, ok := r.(*fhir.Organization); ok && s.DispenserODS == "" {
			s.DispenserODS = fhir.FindIdentifier(org.Identifier, fhir.SystemODS)
		}
	}
	s.DispenserName = organizationName(t.Contained, s.DispenserODS)
	return s, nil
}

// organizationName finds the name of the organisation with ODS code ods
// among resources; "" when none.
func organizationName(resources []fhir.Resource, ods string) string {
	if ods == "" {
		return ""
	}
	for _, r := range resources {
		if org, ok := r.(*fhir.Organization); ok && strings.EqualFold(fhir.FindIdentifier(org.Identifier, fhir.SystemODS), ods) && org.Name != "" {
			return org.Name
		}
	}
	return ""
}

// bundleResources lists a Bundle's entry resources and the resources their
// MedicationDispenses contain.
func bundleResources(b *fhir.Bundle) []fhir.Resource {
	var out []fhir.Resource
	for _, e := range b.Entry {
		out = append(out, e.Resource)
		if md, ok := e.Resource.(*fhir.MedicationDispense); ok {
			out = append(out, md.Contained...)
		}
	}
	return out
}

// settleTimeout bounds the work a dispense notification or return does on
// the pending cancellations of its prescription.
const settleTimeout = 10 * time.Second

// Settles reports whether messages of interaction canon (UK family) that
// EPS accepted settle pending cancellations: dispense notifications,
// returns, and prescriptions (a cancellation that came before its
// prescription is carried out when the prescription comes).
func Settles(canon string) bool {
	switch canon {
	case v3.DispenseNotification, v3.DispenseProposalReturn, v3.ParentPrescription, v3.ParentPrescriptionNonUrgent:
		return true
	}
	return false
}

// Settle resolves the pending cancellations of the prescription a
// dispense notification, return or prescription (that EPS accepted) is
// about, and sends their Subsequent Cancel Responses. A dispense
// notification settles the items it names by their new status; a return
// settles whatever the EPS tracker then shows settled (the return names no
// items; the tracker is asked only while some cancellation is pending); a
// prescription settles the cancellations of its items that were awaiting
// it, when the EPS tracker shows them carried out (it is asked only when
// one of its items has such a cancellation). A cancellation awaiting its
// prescription resolves only as cancelled (0001): whatever else is seen of
// it is left to the poller, which ends it unanswered. Problems are logged:
// the poller resolves what is left. body is the FHIR message the gateway
// sent EPS for it; the work is bounded by settleTimeout.
func (c *Service) Settle(ctx context.Context, in Exchange, canon string, body []byte) {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	if canon == v3.ParentPrescription || canon == v3.ParentPrescriptionNonUrgent {
		// Every prescription passes here, and few cancellations await
		// theirs: the count (read at most once a second) spares the rest
		// reading the Bundle again, and building a logger (1 % of the
		// gateway's CPU in a profile at 150 prescriptions a second).
		n, err := c.awaitingNow(ctx)
		if err != nil {
			c.logger(in).Warn("cancellations awaiting a prescription could not be counted; left to the poller", "err", err)
			return
		}
		if n == 0 {
			return
		}
	}
	log := c.logger(in)
	s, err := settlementOf(canon, body)
	if err != nil {
		log.Warn("cannot tell which pending cancellations this message settles; left to the poller", "err", err)
		return
	}
	log = log.With("prescription", s.PrescriptionID)
	var items map[string]string // line item → cancellation code
	switch {
	case s.Source == sourcePrescription:
		items = c.awaitedSettled(ctx, log, s)
	case s.Items != nil:
		items = map[string]string{}
		for item, st := range s.Items {
			if code, ok := settledCode(st); ok {
				items[item] = code
			}
		}
	default:
		items = c.returnSettled(ctx, log, s)
	}
	for item, code := range items {
		rec, err := c.tracker.Get(ctx, s.PrescriptionID, item)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			log.Warn("pending cancellation could not be read; left to the poller", "line_item", item, "err", err)
			continue
		}
		if rec.AwaitingPrescription && code != cancelCodeCancelled {
			continue // not carried out as the prescription came: the poller ends it
		}
		o := Outcome{Code: code, Source: s.Source, DispenserODS: s.DispenserODS, DispenserName: s.DispenserName, At: c.now().UTC()}
		claim, ok, err := c.tracker.Resolve(ctx, s.PrescriptionID, item, o, c.now())
		if err != nil {
			log.Warn("pending cancellation could not be resolved; left to the poller", "line_item", item, "err", err)
			continue
		}
		if !ok {
			continue // not tracked, or resolved already
		}
		c.m.resolved.WithLabelValues(s.Source).Inc()
		c.deliver(ctx, claim)
	}
}

// returnSettled asks the EPS tracker, after a return, which items of the
// prescription are settled, while some cancellation is pending: line item
// → cancellation code.
func (c *Service) returnSettled(ctx context.Context, log *slog.Logger, s settlement) map[string]string {
	st, err := c.tracker.Stats(ctx, c.now())
	if err != nil {
		log.Warn("pending cancellations could not be counted; left to the poller", "err", err)
		return nil
	}
	if st.Pending == 0 {
		return nil
	}
	v, err := c.askTracker(ctx, s.PrescriptionID)
	if err != nil {
		if !errors.Is(err, ErrNotInTracker) {
			log.Warn("the EPS tracker could not be asked after a return; left to the poller", "err", err)
		}
		return nil
	}
	items := map[string]string{}
	for item := range v.Items {
		if code, ok, _ := v.itemCode(item); ok {
			items[item] = code
		}
	}
	return items
}

// awaitedSettled asks the EPS tracker, after a prescription, whether the
// cancellations of its items that were awaiting it were carried out, when
// one of its items has such a cancellation: line item → 0001.
func (c *Service) awaitedSettled(ctx context.Context, log *slog.Logger, s settlement) map[string]string {
	awaited := false
	for item := range s.Items {
		rec, err := c.tracker.Get(ctx, s.PrescriptionID, item)
		if err != nil && !errors.Is(err, ErrNotFound) {
			log.Warn("pending cancellation could not be read; left to the poller", "line_item", item, "err", err)
			continue
		}
		if err == nil && rec.AwaitingPrescription && rec.State == StatePending {
			awaited = true
			break
		}
	}
	if !awaited {
		return nil
	}
	v, err := c.askTracker(ctx, s.PrescriptionID)
	if err != nil {
		log.Warn("the EPS tracker could not be asked after the prescription a cancellation awaited; left to the poller", "err", err)
		return nil
	}
	items := map[string]string{}
	for item := range s.Items {
		if code, ok := v.awaitedCode(item); ok {
			items[item] = code
		}
	}
	return items
}

// askTracker asks the EPS tracker about one prescription.
func (c *Service) askTracker(ctx context.Context, prescriptionID string) (TrackerView, error) {
	if c.api == nil {
		return TrackerView{}, errors.New("no EPS tracker to ask (no upstream)")
	}
	resp, err := c.api.TrackerGet(ctx, url.Values{"focus:identifier": {prescriptionID}})
	if err != nil {
		return TrackerView{}, fmt.Errorf("EPS tracker %s: %w", prescriptionID, err)
	}
	if resp.Status != 200 {
		return TrackerView{}, fmt.Errorf("EPS tracker %s: answered %d", prescriptionID, resp.Status)
	}
	return ParseTrackerAnswer(resp.Body, prescriptionID)
}
