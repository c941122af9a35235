package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/porxgate/porxgate/internal/ids"
	"github.com/porxgate/porxgate/internal/loadgen"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/mapping/cancel"
	v3 "github.com/porxgate/porxgate/v3"
)

// cancelTemplate makes the legacy Cancel Request (UK family) of the load
// template's prescription, every line item, and returns it with the
// template's short-form id (to be replaced by each prescription's own).
func cancelTemplate() ([]byte, string, error) {
	var b map[string]any
	if err := json.Unmarshal(loadgen.PrescriptionOrder, &b); err != nil {
		return nil, "", fmt.Errorf("cancel template: %w", err)
	}
	shortForm := loadgen.CancelUpdate(b)
	if shortForm == "" {
		return nil, "", fmt.Errorf("cancel template: no short-form prescription id")
	}
	// Its own message id (Bundle.identifier: the CancellationRequest id),
	// made fresh per cancellation (cancellations): the prescription-order's
	// it was copied from is an id EPS took already (Spine's 202 Duplicate
	// HL7 ID Error).
	b["identifier"] = map[string]any{"system": "https://tools.ietf.org/html/rfc4122", "value": cancelTemplateID}
	update, err := json.Marshal(b)
	if err != nil {
		return nil, "", fmt.Errorf("cancel template: %w", err)
	}
	payload, err := cancel.CancelToV3(update, mapping.Meta{}, mapping.Env{Now: time.Now().UTC(), NewID: ids.NewUUID, Family: v3.FamilyUK})
	if err != nil {
		return nil, "", fmt.Errorf("cancel template: %w", err)
	}
	return payload, shortForm, nil
}

// cancelTemplateID is the template cancellation's message id, replaced
// by a fresh one in each cancellation.
const cancelTemplateID = "c0ffee00-0000-4000-8000-00000000ca9c"

// cancellations makes a Cancel Request for each prescription of reqs, each
// with message ids of its own.
func (s *Suite) cancellations(reqs []*request) ([]*request, error) {
	tpl, tplShort, err := cancelTemplate()
	if err != nil {
		return nil, err
	}
	out := make([]*request, 0, len(reqs))
	for _, r := range reqs {
		id := strings.ToUpper(ids.NewUUID())
		p := bytes.ReplaceAll(tpl, []byte(tplShort), []byte(r.shortForm))
		msgID := ids.NewUUID()
		p = bytes.ReplaceAll(p, []byte(cancelTemplateID), []byte(msgID))
		p = bytes.ReplaceAll(p, []byte(strings.ToUpper(cancelTemplateID)), []byte(strings.ToUpper(msgID)))
		out = append(out, &request{id: id, shortForm: r.shortForm, payload: loadgen.WithTransmissionID(p, id), action: v3.CancelRequest})
	}
	return out, nil
}

// cancelCode reads the cancellation outcome (…17.19) of a Cancel Response.
func cancelCode(payload string) string {
	doc := etree.NewDocument()
	if err := doc.ReadFromString(payload); err != nil {
		return ""
	}
	if e := doc.FindElement("//CancellationResponse/pertinentInformation3/pertinentResponse/value"); e != nil {
		return e.SelectAttrValue("code", "")
	}
	return ""
}

// tallyCancels waits for the cancellations' answers and adds them to res:
// each acknowledged one must be answered once with a Cancel Response
// saying cancelled (0001) — a "0006 already cancelled" for a cancellation
// whose own first sending cancelled it is a false rejection — and EPS must
// hold the prescription cancelled.
func (s *Suite) tallyCancels(ctx context.Context, res *Result, reqs []*request) {
	s.waitAnswered(ctx, reqs)
	time.Sleep(500 * time.Millisecond) // let late duplicates show
	for _, r := range reqs {
		res.Sent++
		acked, refused, _ := r.state()
		if refused {
			res.Refused++
			res.FalseRejections++
		}
		if !acked {
			continue
		}
		res.Acknowledged++
		cancelled, err := s.epsCancelled(ctx, r.shortForm)
		if err != nil {
			res.Err = err
		}
		if !cancelled {
			res.Lost++
		}
		a := s.mhs.answerTo(r.id)
		if a == nil {
			res.AckUnanswered++
			continue
		}
		res.Answered++
		if len(a.payloads) > 1 {
			res.AnsweredTwice++
		}
		for _, p := range a.payloads {
			if code := cancelCode(p); code != "0001" {
				s.logf("cancellation %s of %s answered %q", r.id, r.shortForm, code)
				res.FalseRejections++
				break
			}
		}
	}
}

// epsCancelled asks the simulator's tracker whether EPS holds the
// prescription cancelled.
func (s *Suite) epsCancelled(ctx context.Context, shortForm string) (bool, error) {
	b, err := s.tracker(ctx, shortForm)
	if err != nil {
		return false, err
	}
	return bytes.Contains(b, []byte(`"code":"0005"`)), nil
}
