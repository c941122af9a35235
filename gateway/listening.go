package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Listening is where a server's listeners are bound, as the kernel bound
// them: a port 0 asked for (--addr 127.0.0.1:0) is the port it was given.
// A caller that starts a server on port 0 learns its ports from it, so
// that no other process can take a port chosen free for it before it
// binds that port.
type Listening struct {
	// Addr is the front door's address (the simulator's, for `porxgate
	// sim`).
	Addr string `json:"addr"`
	// AdminAddr is the admin listener's address; "" when it is off.
	AdminAddr string `json:"admin_addr,omitempty"`
}

// WriteAddrFile writes l to path as one line of JSON,
// {"addr":"127.0.0.1:41234","admin_addr":"127.0.0.1:41235"}, whole or not
// at all (written beside it, then renamed over it), so that a reader that
// finds the file never reads it half written. remove removes it again
// (a file already gone is no error); it is for the end of the run, so
// that a file left behind names no address of a process that no longer
// listens (one killed with SIGKILL leaves it: a harness removes it before
// it starts the process again). An empty path writes nothing.
func WriteAddrFile(path string, l Listening) (remove func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	b, err := json.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("addr file %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, fmt.Errorf("addr file %s: %w", path, err)
	}
	_, werr := f.Write(append(b, '\n'))
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(f.Name(), 0o644)); err != nil {
		_ = os.Remove(f.Name())
		return nil, fmt.Errorf("addr file %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		_ = os.Remove(f.Name())
		return nil, fmt.Errorf("addr file %s: %w", path, err)
	}
	return func() { _ = os.Remove(path) }, nil
}
