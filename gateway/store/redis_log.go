package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// RedisLogger carries the Redis client's own log lines (a pool that cannot
// dial, a Sentinel failover followed) into log, as lines of the process's
// log, instead of the client's default: plain text on stderr among the
// JSON lines, which log pipelines cannot read. Install it once per process
// with redis.SetLogger.
type RedisLogger struct {
	// Log receives the lines: Sentinel's news of a master at info, the
	// rest at warn.
	Log *slog.Logger
}

// Printf implements the client's logging interface.
func (l RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	level := slog.LevelWarn
	if strings.HasPrefix(msg, "sentinel: ") && !strings.Contains(msg, "failed") && !strings.Contains(msg, "error") {
		level = slog.LevelInfo
	}
	l.Log.Log(ctx, level, "redis client", "detail", msg)
}
