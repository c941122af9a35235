package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/porxgate/porxgate/gateway/logctx"
)

// RedisLogger carries the Redis client's own log lines (a pool that cannot
// dial, a Sentinel failover followed) into log, as lines of the process's
// log, instead of the client's default: plain text on stderr among the
// JSON lines, which log pipelines cannot read. While Redis is down the
// client writes the same line for every command (several a second, tens
// of thousands an hour); a line repeated word for word is written once a
// minute (Repeats), with how many times it was held back ("repeated").
// Install one per process with redis.SetLogger.
type RedisLogger struct {
	// Log receives the lines: Sentinel's news of a master at info, the
	// rest at warn.
	Log *slog.Logger
	// Repeats holds repeated lines back.
	Repeats logctx.Repeats
}

// NewRedisLogger returns a RedisLogger writing to log.
func NewRedisLogger(log *slog.Logger) *RedisLogger {
	return &RedisLogger{Log: log}
}

// Printf implements the client's logging interface.
func (l *RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	held, write := l.Repeats.Note(msg)
	if !write {
		return
	}
	level := slog.LevelWarn
	if strings.HasPrefix(msg, "sentinel: ") && !strings.Contains(msg, "failed") && !strings.Contains(msg, "error") {
		level = slog.LevelInfo
	}
	args := []any{"detail", msg}
	if held > 0 {
		args = append(args, "repeated", held)
	}
	l.Log.Log(ctx, level, "redis client", args...)
}
