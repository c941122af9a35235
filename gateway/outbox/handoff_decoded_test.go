package outbox

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
)

// TestHandoffDecodedIsNotDecodedAgain: a delivery handed to an idle
// worker with the Delivery its item was made from (GiveDecoded) is sent
// as handed, without decoding the item; handed with the lease alone
// (Give), the item is decoded as one claimed from the store is. The item
// here is not readable, so that a decode shows: with the Delivery it is
// delivered, without it dead-lettered as unreadable.
func TestHandoffDecodedIsNotDecodedAgain(t *testing.T) {
	var mu sync.Mutex
	var got [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, b)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	routes, err := ParseRoutes([]byte(`{"A83008-807354": {"url": "`+srv.URL+`"}}`), DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		decoded   bool
		delivered bool
	}{
		{"handed with its delivery", true, true},
		{"handed without", false, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := store.NewMemory(nil)
			w := NewWorker(WorkerConfig{Store: st, Routes: routes, Workers: 1, Poll: time.Hour, Timeout: 5 * time.Second})
			h, cancel, done := runReserved(t, w)
			defer func() { cancel(); <-done }()
			ctx := context.Background()
			now := time.Now()
			id := []string{"AAAAAAAA-0000-4000-8000-00000000000A", "AAAAAAAA-0000-4000-8000-00000000000B"}[i]
			d, err := NewAnswer(Addressing{OurParty: "YES-0000806", TheirParty: "A83008-807354", CPAID: "S20001A000100",
				ConversationID: "C1", RefToMessageID: "R1"}, "MCCI_IN010000UK13", []byte(`<MCCI_IN010000UK13 xmlns="urn:hl7-org:v3"/>`), id, now)
			if err != nil {
				t.Fatal(err)
			}
			it := store.Item{Queue: Queue, ID: d.MessageID, Data: []byte("not an outbox entry"), Due: now.Add(time.Minute), Token: "held"}
			if _, err := st.Accept(ctx, "test:"+id, time.Hour, it); err != nil {
				t.Fatal(err)
			}
			if tt.decoded {
				h.GiveDecoded(it.HeldLease(), d)
			} else {
				h.Give(it.HeldLease())
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				n, err := st.QueueLen(ctx, Queue)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the handed delivery is still in the outbox")
				}
				time.Sleep(time.Millisecond)
			}
			dead, err := st.DeadLetters(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			sent := len(got) > 0 && bytes.Equal(got[len(got)-1], d.Body)
			got = nil
			mu.Unlock()
			if sent != tt.delivered || (len(dead) == 0) != tt.delivered {
				t.Fatalf("sent the handed message %v, %d dead letters; want sent %v", sent, len(dead), tt.delivered)
			}
		})
	}
}
