package outbox

import (
	"encoding/json"
	"testing"
	"time"
)

// TestDeliveryFraming: a delivery comes back whole, its body (newlines and
// all) byte for byte, whether queued framed or as JSON alone (as this
// release and older porxgates write it); a broken entry is an error.
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
	// What this release queues, the previous one (encoding/json) reads.
	var prev Delivery
	if err := json.Unmarshal(it.Data, &prev); err != nil || string(prev.Body) != string(d.Body) {
		t.Fatalf("a delivery as queued is not JSON the previous release reads: %v", err)
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
