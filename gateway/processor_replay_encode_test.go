package gateway

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// TestRecordedAnswerEncoding: the outcome log's records are written as
// encoding/json wrote them before recordedAnswer.encode took goccy/go-json
// (records written by an older replica and read by a newer one, and the
// other way round, are the same bytes), and read back whole.
func TestRecordedAnswerEncoding(t *testing.T) {
	at := time.Date(2026, 12, 7, 7, 12, 3, 123456789, time.UTC)
	for _, tc := range []struct {
		name string
		rec  recordedAnswer
	}{
		{"attempt", recordedAnswer{At: at, From: "YES-0000806"}},
		{"attempt, whole second, no sender", recordedAnswer{At: at.Truncate(time.Second)}},
		{"attempt, other zone", recordedAnswer{At: at.In(time.FixedZone("x", 3600)), From: "A"}},
		{"answer", recordedAnswer{Status: 200, Body: []byte(`{"resourceType":"OperationOutcome"}`), From: "YES-0000806"}},
		{"answer, bytes JSON escapes and base64 pads", recordedAnswer{Status: 400, Body: []byte{0, '<', '>', '&', 0xff, '\n', 0xe2, 0x80, 0xa8}}},
		{"answer, empty body", recordedAnswer{Status: 202, Body: []byte{}}},
		{"confirmed, handover", recordedAnswer{Status: 200, Body: []byte("x"), Confirmed: true, Handover: true, From: "a\"b\\c<d>&\u2028"}},
		{"zero", recordedAnswer{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.rec.encode()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("encode:\n got %s\nwant %s", got, want)
			}
			var back recordedAnswer
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			if back.Status != tc.rec.Status || !bytes.Equal(back.Body, tc.rec.Body) || back.Confirmed != tc.rec.Confirmed ||
				!back.At.Equal(tc.rec.At) || back.From != tc.rec.From || back.Handover != tc.rec.Handover {
				t.Fatalf("read back %+v, want %+v", back, tc.rec)
			}
		})
	}
}
