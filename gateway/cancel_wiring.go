package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	"github.com/porxgate/porxgate/v3"
)

// settleTimeout bounds the work a dispense notification or return does on
// the pending cancellations of its prescription.
const settleTimeout = 10 * time.Second

// WithCancellations makes the processor track the cancellations EPS
// answers as pending and resolve them when a dispense notification or
// return for the prescription goes through. It returns p.
func (p *EPSProcessor) WithCancellations(c *Cancellations) *EPSProcessor {
	p.cancels = c
	return p
}

// answerFor makes the answer to in from EPS's answer, and does the
// pending-cancellation work that goes with it: a pending Cancel Response
// is tracked before it is answered (a tracking failure is an error, so the
// message is processed again and nothing is lost); a dispense notification
// or return EPS accepted resolves the prescription's pending cancellations
// (best effort: what fails here the poller resolves later).
func (p *EPSProcessor) answerFor(ctx context.Context, in *Inbound, canon string, body []byte, meta mapping.Meta, resp *upstream.Response, env mapping.Env) (Answer, error) {
	if canon == v3.CancelRequest && p.cancels != nil {
		a, outcome, err := p.cancelReply(in, canon, meta, resp, env)
		if err != nil {
			return Answer{}, Permanent(fmt.Errorf("%s %s: mapping EPS's answer: %w", in.Interaction, in.MessageID, err))
		}
		if outcome != nil && outcome.Pending {
			if err := p.cancels.track(ctx, in, *outcome); err != nil {
				return Answer{}, fmt.Errorf("%s %s: %w", in.Interaction, in.MessageID, err)
			}
		}
		return a, nil
	}
	a, err := p.answerer(canon)(in, canon, meta, resp, env)
	if err != nil {
		return Answer{}, Permanent(fmt.Errorf("%s %s: mapping EPS's answer: %w", in.Interaction, in.MessageID, err))
	}
	if p.cancels != nil && resp.Status >= 200 && resp.Status < 300 {
		switch canon {
		case v3.DispenseNotification, v3.DispenseProposalReturn:
			sctx, cancel := context.WithTimeout(ctx, settleTimeout)
			p.cancels.settle(sctx, in, canon, body)
			cancel()
		}
	}
	return a, nil
}
