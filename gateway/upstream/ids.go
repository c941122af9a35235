package upstream

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"time"

	"github.com/porxgate/porxgate/internal/ids"
)

// Header names sent on every call.
const (
	HeaderRequestID     = "X-Request-ID"
	HeaderCorrelationID = "X-Correlation-ID"
	// HeaderSessionURID names the user's SDS role profile on user-attested
	// calls (the legacy ControlActEvent author's AgentPersonSDS id).
	HeaderSessionURID = "NHSD-Session-URID"
)

type ctxKey int

const (
	keyCorrelationID ctxKey = iota
	keySessionURID
	keyOperation
	keyCallStats
)

// WithCorrelationID returns a context whose upstream calls carry id as
// X-Correlation-ID (e.g. the ebXML ConversationId or the legacy message id),
// so one legacy exchange can be followed across every EPS call it causes.
// Without it each call gets a fresh correlation id.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, keyCorrelationID, id)
}

// CorrelationID returns the id set by WithCorrelationID, or "".
func CorrelationID(ctx context.Context) string {
	id, _ := ctx.Value(keyCorrelationID).(string)
	return id
}

// WithSessionURID returns a context whose upstream calls carry the user's
// SDS role profile id as NHSD-Session-URID; an empty id adds nothing.
func WithSessionURID(ctx context.Context, roleProfileID string) context.Context {
	if roleProfileID == "" {
		return ctx
	}
	return context.WithValue(ctx, keySessionURID, roleProfileID)
}

// SessionURID returns the id set by WithSessionURID, or "".
func SessionURID(ctx context.Context) string {
	id, _ := ctx.Value(keySessionURID).(string)
	return id
}

func withOperation(ctx context.Context, op string) context.Context {
	return context.WithValue(ctx, keyOperation, op)
}

func operationOf(ctx context.Context) string {
	if op, ok := ctx.Value(keyOperation).(string); ok {
		return op
	}
	return "other"
}

// callStats is filled by the transports for one logical call.
type callStats struct {
	// body is the call's request body (RequestBody).
	body     []byte
	attempts int
	// maybeDelivered is set once an attempt may have reached the server: it
	// got an answer (5xx) or failed after the connection was made.
	maybeDelivered bool
}

func withCallStats(ctx context.Context, s *callStats) context.Context {
	return context.WithValue(ctx, keyCallStats, s)
}

func callStatsOf(ctx context.Context) *callStats {
	s, _ := ctx.Value(keyCallStats).(*callStats)
	return s
}

// RequestBody returns the request body of the EPS call whose request
// carries ctx (nil for none), for a decorator of the client's transport
// (Config.Tap) to keep without reading a copy of it from the request:
// it is the caller's own bytes, which nothing writes during the call or
// after it.
func RequestBody(ctx context.Context) []byte {
	if s := callStatsOf(ctx); s != nil {
		return s.body
	}
	return nil
}

// newUUID returns a random (version 4) UUID in lower case.
func newUUID() string { return ids.NewUUID() }

// randomJitter returns a uniformly random duration in [0, max].
func randomJitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return time.Duration(binary.LittleEndian.Uint64(b[:]) % uint64(max+1))
}
