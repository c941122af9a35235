package outbox

import (
	"bytes"
	"fmt"

	json "github.com/goccy/go-json"
)

// Frame encodes a queue entry: head (the entry without its message) as
// JSON, a newline, then the message byte for byte. A message inside the
// JSON would travel as base64, a third longer, and cost an encoding and a
// decoding on every queue step; framed it is copied once. JSON as
// encoded here never holds a raw newline, so the first one ends the head.
func Frame(head any, msg []byte) ([]byte, error) {
	h, err := json.Marshal(head)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(h)+1+len(msg))
	out = append(out, h...)
	out = append(out, '\n')
	return append(out, msg...), nil
}

// Unframe reads what Frame wrote into head and returns the message, which
// shares b's memory; framed is false when b is JSON alone (an entry
// queued by an older porxgate, its message inside), then msg is nil.
func Unframe(b []byte, head any) (msg []byte, framed bool, err error) {
	h, msg, framed := bytes.Cut(b, []byte{'\n'})
	if err := json.Unmarshal(h, head); err != nil {
		return nil, false, fmt.Errorf("queue entry: %w", err)
	}
	return msg, framed, nil
}
