// Package testlog holds what tests need to read what a logger wrote from
// several goroutines: a buffer safe for their concurrent writes. It is
// for tests only; nothing in the gateway imports it.
package testlog

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer safe for the writes of several goroutines'
// loggers (or exporters) and a test's reads.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
