package outbox

import (
	"encoding/json"
	"testing"
	"time"
)

// TestDeliveryFraming: a delivery queued framed comes back whole, its body
// (newlines and all) byte for byte; one queued as JSON alone, as older
// porxgates wrote it, still reads; a broken entry is an error.
func TestDeliveryFraming(t *testing.T) {
	d := Delivery{MessageID: "M1", Kind: KindAnswer, Party: "P", Body: []byte("--b\r\n<a>\n{\"x\":1}\n</a>\r\n--b--"),
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Attempts: 2}
	it, err := d.Item(d.CreatedAt)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := json.Marshal(d)
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"framed", it.Data, true},
		{"json alone", old, true},
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
