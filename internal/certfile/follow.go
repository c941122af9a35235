package certfile

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"time"
)

// followed is a value read from files and read again when one of them
// changes (its modification time or size): while the files hold one that
// does not load, the value that loaded last stays in use and the files
// are read again at each call until they load; each refusal is told once
// (onRefused). Pair, Pool and CRLs are each one.
//
// Each call stats the files, so that a change is seen at the very next
// handshake or request. That is cheap enough not to ration
// (BenchmarkCurrent, 2 cores: about 2.6 µs for a one-file Pool, 6.5 µs for
// a Pair, against about 1 ms for the TLS handshake that asks): at most a
// few per cent of a handshake with mutual TLS and a CRL, a few µs per
// delivery request.
type followed[T any] struct {
	what  string // the files, for a refusal: "certificate a.pem / key a.key"
	paths []string
	load  func(prev T) (T, error) // prev: the value in use

	mu        sync.Mutex
	val       T
	stamps    []stamp
	onRefused func(error)
	refused   string // the last refusal reported, so that each is told once
}

// follow reads the value with first (the start's checks, which may be
// stricter or laxer than a renewal's) and follows paths with load
// thereafter, which is given the value in use.
func follow[T any](what string, paths []string, first func() (T, error), load func(prev T) (T, error)) (*followed[T], error) {
	stamps := stampsOf(paths) // before reading: a change while it is read is seen next time
	v, err := first()
	if err != nil {
		return nil, err
	}
	return &followed[T]{what: what, paths: paths, load: load, val: v, stamps: stamps}, nil
}

// setOnRefused sets f to be told of each refusal.
func (f *followed[T]) setOnRefused(fn func(error)) {
	f.mu.Lock()
	f.onRefused = fn
	f.mu.Unlock()
}

// current returns the value, read again first when a file changed.
func (f *followed[T]) current() T {
	stamps := stampsOf(f.paths)
	f.mu.Lock()
	defer f.mu.Unlock()
	if slices.Equal(stamps, f.stamps) {
		return f.val
	}
	v, err := f.load(f.val)
	if err != nil {
		// Half rewritten, gone, or not usable: keep the value that
		// worked, and look again next time.
		if msg := err.Error(); msg != f.refused && f.onRefused != nil {
			f.refused = msg
			f.onRefused(fmt.Errorf("%s changed but not taken up: %w", f.what, err))
		}
		return f.val
	}
	f.val, f.stamps, f.refused = v, stamps, ""
	return f.val
}

// stamp is what tells that a file changed: its modification time and
// size (a rewrite within the file system's clock tick changes the size,
// if not the time). The zero stamp: it cannot be read.
type stamp struct {
	mod  time.Time
	size int64
}

func stampsOf(paths []string) []stamp {
	out := make([]stamp, len(paths))
	for i, p := range paths {
		if fi, err := os.Stat(p); err == nil {
			out[i] = stamp{mod: fi.ModTime(), size: fi.Size()}
		}
	}
	return out
}
