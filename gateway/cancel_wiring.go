package gateway

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/gateway/store"
	"github.com/porxgate/porxgate/gateway/upstream"
	"github.com/porxgate/porxgate/mapping"
	v3 "github.com/porxgate/porxgate/v3"
)

// cancelConfig takes the cancellation settings of a Config.
func cancelConfig(cfg Config) cancels.Config {
	return cancels.Config{
		PollInterval: cfg.CancelPollInterval, Backoff: cfg.CancelBackoff, MaxBackoff: cfg.CancelMaxBackoff,
		MaxAge: cfg.CancelMaxAge, Rate: cfg.CancelPollRate, Lease: cfg.Lease,
	}
}

// OpenCancellations builds the pending-cancellation handling Run wires
// in: the tracker on the gateway's store and the poller on the upstream's
// EPS tracker (no polling without an upstream).
func OpenCancellations(cfg Config, st store.Store, up *EPSClient, log *slog.Logger) *cancels.Service {
	opts := cancels.ServiceOptions{Config: cancelConfig(cfg), Log: log.With("component", "cancellations")}
	opts.Tracker = cancels.OpenTracker(st, opts.Config)
	if up != nil {
		opts.EPS = up.PartyTrackerAPI()
	}
	return cancels.NewService(opts)
}

// EnableCancellations wires pending-cancellation handling into the server:
// its Subsequent Cancel Responses go through this server's outbox, GET
// cancels.PathAdmin (on the admin listener) lists them, /metrics reports
// them, and ServeAndWork runs its poller. Call it before serving.
func (s *Server) EnableCancellations(c *cancels.Service) {
	s.cancels = c
	c.Attach(cancels.Outbox{Queue: s.store, Routes: s.msg.routes, Wake: s.msg.delivery.Wake}, s.metrics.Registry)
}

// WithCancellations makes the processor track the cancellations EPS
// answers as pending and resolve them when a dispense notification or
// return for the prescription goes through. It returns p.
func (p *EPSProcessor) WithCancellations(c *cancels.Service) *EPSProcessor {
	p.cancels = c
	return p
}

// cancelExchange is what the pending-cancellation handling needs of in.
func cancelExchange(in *Inbound) cancels.Exchange {
	return cancels.Exchange{EbXML: in.Transport == TransportEbXML, MessageID: in.MessageID, ConversationID: in.ConversationID,
		FromParty: in.FromParty, ToParty: in.ToParty, CPAID: in.CPAID, TraceParent: in.TraceParent, Payload: in.Payload,
		LogAttrs: correlation(in)}
}

// answerFor makes the answer to in from EPS's answer, and does the
// pending-cancellation work that goes with it: a Cancel Response that
// Spine follows up later (pending, or not found: cancels.FollowedUp) is
// tracked before it is answered (a tracking failure is an error, so the
// message is processed again and nothing is lost); a dispense
// notification, return or prescription EPS accepted resolves the prescription's pending
// cancellations (best effort: what fails here the poller resolves later).
func (p *EPSProcessor) answerFor(ctx context.Context, in *Inbound, canon string, body []byte, meta mapping.Meta, resp *upstream.Response, env mapping.Env) (Answer, error) {
	track := p.cancels != nil && !isShadowRun(ctx) // a shadow run acts on nothing (compare_wiring.go)
	if canon == v3.CancelRequest && track {
		a, outcome, err := p.cancelReply(in, canon, meta, resp, env)
		if err != nil {
			return Answer{}, Permanent(fmt.Errorf("%s %s: mapping EPS's answer: %w", in.Interaction, in.MessageID, err))
		}
		if outcome != nil && cancels.FollowedUp(*outcome) {
			if err := p.cancels.Track(ctx, cancelExchange(in), *outcome); err != nil {
				return Answer{}, fmt.Errorf("%s %s: %w", in.Interaction, in.MessageID, err)
			}
		}
		return a, nil
	}
	if operations[canon] == opRelease && !isShadowRun(ctx) {
		a, outcome, err := p.releaseReply(in, canon, meta, resp, env)
		if err != nil {
			return Answer{}, Permanent(fmt.Errorf("%s %s: mapping EPS's answer: %w", in.Interaction, in.MessageID, err))
		}
		if outcome != nil && len(outcome.Unwritten) > 0 {
			p.oweUnwritten(ctx, in, canon, outcome)
		}
		return a, nil
	}
	a, err := p.answerer(canon)(in, canon, meta, resp, env)
	if err != nil {
		return Answer{}, Permanent(fmt.Errorf("%s %s: mapping EPS's answer: %w", in.Interaction, in.MessageID, err))
	}
	if track && resp.Status >= 200 && resp.Status < 300 && cancels.Settles(canon) {
		p.cancels.Settle(ctx, cancelExchange(in), canon, body)
	}
	return a, nil
}
