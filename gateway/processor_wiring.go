package gateway

import (
	"context"
	"log/slog"
)

// OpenProcessor builds the Processor the gateway runs messages through,
// given the upstream OpenUpstream built. It returns a stop function that
// releases what it started.
//
// Until the translators and the upstream client are wired in here, it
// returns Unsupported: every message is refused as NotSupported.
func OpenProcessor(ctx context.Context, cfg Config, up Upstream, log *slog.Logger) (Processor, func(), error) {
	return Unsupported{}, func() {}, nil
}
