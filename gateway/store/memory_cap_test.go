package store

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMemoryReplyCap: past the cap the oldest replies go first, whatever
// their TTL; a reply put again counts once, and the newest stay.
func TestMemoryReplyCap(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(nil)
	m.replyCap = 10 * 1000
	body := []byte(strings.Repeat("x", 990)) // 1,000 bytes with a ten-byte key
	for i := range 30 {
		key := "reply:" + strconv.Itoa(1000+i)
		if err := m.PutReply(ctx, key, body, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := m.PutReply(ctx, "reply:1029", body, time.Hour); err != nil { // the same key again and again
			t.Fatal(err)
		}
	}
	if m.replyBytes > m.replyCap {
		t.Fatalf("%d bytes kept, cap %d", m.replyBytes, m.replyCap)
	}
	if _, ok, _ := m.GetReply(ctx, "reply:1000"); ok {
		t.Error("the oldest reply is still kept past the cap")
	}
	for _, k := range []string{"reply:1028", "reply:1029"} {
		if _, ok, _ := m.GetReply(ctx, k); !ok {
			t.Errorf("newest reply %s dropped", k)
		}
	}
	if _, found, _ := m.ReserveReply(ctx, "reply:1029", body, time.Hour); !found {
		t.Error("ReserveReply did not find a kept reply")
	}
	if len(m.replyOrder) > 2*len(m.replies)+1024 {
		t.Errorf("%d order entries for %d replies", len(m.replyOrder), len(m.replies))
	}
}
