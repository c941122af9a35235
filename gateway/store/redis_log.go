package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// DefaultRedisLogQuiet is how long NewRedisLogger holds back a line the
// Redis client repeats word for word.
const DefaultRedisLogQuiet = time.Minute

// redisLogSeen bounds how many distinct lines a RedisLogger remembers.
const redisLogSeen = 64

// RedisLogger carries the Redis client's own log lines (a pool that cannot
// dial, a Sentinel failover followed) into log, as lines of the process's
// log, instead of the client's default: plain text on stderr among the
// JSON lines, which log pipelines cannot read. While Redis is down the
// client writes the same line for every command (several a second, tens
// of thousands an hour); a line repeated word for word is written once per
// Quiet, with how many times it was held back ("repeated"). Install one
// per process with redis.SetLogger; make it with NewRedisLogger.
type RedisLogger struct {
	// Log receives the lines: Sentinel's news of a master at info, the
	// rest at warn.
	Log *slog.Logger
	// Quiet is how long a line is held back after it was written; 0 holds
	// nothing back.
	Quiet time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu   sync.Mutex
	seen map[string]*redisLogLine
}

// redisLogLine is when a line was last written and how often it was held
// back since.
type redisLogLine struct {
	at   time.Time
	held int
}

// NewRedisLogger returns a RedisLogger writing to log that holds repeated
// lines back for DefaultRedisLogQuiet.
func NewRedisLogger(log *slog.Logger) *RedisLogger {
	return &RedisLogger{Log: log, Quiet: DefaultRedisLogQuiet}
}

// Printf implements the client's logging interface.
func (l *RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, v...))
	held, write := l.note(msg)
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

// note records msg and says whether to write it now, with how many times
// it was held back since it was last written.
func (l *RedisLogger) note(msg string) (held int, write bool) {
	if l.Quiet <= 0 {
		return 0, true
	}
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.seen[msg]; ok {
		if now.Sub(r.at) < l.Quiet {
			r.held++
			return 0, false
		}
		held = r.held
	}
	if l.seen == nil {
		l.seen = map[string]*redisLogLine{}
	}
	if len(l.seen) >= redisLogSeen {
		for k, r := range l.seen {
			if now.Sub(r.at) >= l.Quiet {
				delete(l.seen, k)
			}
		}
		if len(l.seen) >= redisLogSeen {
			return held, true // too many distinct lines at once: write, do not remember
		}
	}
	l.seen[msg] = &redisLogLine{at: now}
	return held, true
}
