package outbox

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// TestDeliveryFraming: a delivery comes back whole, its body (newlines and
// all) byte for byte, whether queued framed (as this release writes it) or
// as JSON alone (as releases before it did); a broken entry is an error.
func TestDeliveryFraming(t *testing.T) {
	d := Delivery{MessageID: "M1", Kind: KindAnswer, Party: "P", Body: []byte("--b\r\n<a>\n{\"x\":1}\n</a>\r\n--b--"),
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Attempts: 2}
	it, err := d.Item(d.CreatedAt)
	if err != nil {
		t.Fatal(err)
	}
	head := d
	head.Body = nil
	framed, err := Frame(head, d.Body)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := json.Marshal(d)
	// This release queues it framed (FramedWrites), which the previous
	// release reads as the table's "framed" row does.
	if !bytes.Equal(it.Data, framed) {
		t.Fatalf("a delivery as queued is not framed:\n%q\nwant\n%q", it.Data, framed)
	}
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"as queued", it.Data, true},
		{"framed", framed, true},
		{"json alone (encoding/json)", old, true},
		{"broken head", []byte("{\"messageId\":\n<a/>"), false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeDelivery(tt.data)
			if (err == nil) != tt.ok {
				t.Fatalf("DecodeDelivery = %+v, %v; want ok %v", got, err, tt.ok)
			}
			if tt.ok && (got.MessageID != d.MessageID || string(got.Body) != string(d.Body) || got.Attempts != 2 || !got.CreatedAt.Equal(d.CreatedAt)) {
				t.Fatalf("DecodeDelivery = %+v, want %+v", got, d)
			}
		})
	}
}
