package upstream

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// Header names sent on every call.
const (
	HeaderRequestID     = "X-Request-ID"
	HeaderCorrelationID = "X-Correlation-ID"
)

type ctxKey int

const (
	keyCorrelationID ctxKey = iota
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

// newUUID returns a random (version 4) UUID in lower case.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// randomJitter returns a uniformly random duration in [0, max].
func randomJitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return time.Duration(binary.LittleEndian.Uint64(b[:]) % uint64(max+1))
}
