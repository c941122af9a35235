package gateway

import (
	"context"
	"log/slog"

	"github.com/porxgate/porxgate/gateway/cancels"
	"github.com/porxgate/porxgate/mapping"
)

// OpenProcessor builds the Processor the gateway runs messages through: the
// EPS processor over every translator in the mapping registry and the
// upstream OpenUpstream built, tracking pending cancellations in pending
// (nil: they are only logged) and recording EPS's answers for replays in
// outcomes (the store; nil: none recorded). With no upstream (nil) it returns
// Unsupported, so every message is refused as NotSupported. The returned
// stop function releases what it started.
func OpenProcessor(ctx context.Context, cfg Config, up *EPSClient, log *slog.Logger, pending *cancels.Service, outcomes OutcomeLog) (Processor, func(), error) {
	if up == nil {
		return Unsupported{}, func() {}, nil
	}
	p := NewEPSProcessor(mapping.NewRegistry(), up.PartyAPI(), nil, nil, log.With("component", "processor"))
	if outcomes != nil {
		p.WithOutcomeLog(outcomes, DefaultOutcomeTTL)
	}
	if pending != nil {
		p.WithCancellations(pending)
	}
	return p, func() {}, nil
}
