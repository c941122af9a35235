package outbox

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store"
)

// BenchmarkDeliverOne measures one delivery that goes well: an
// acknowledgment from a memory store to a loopback receiver answering 200,
// logged as the gateway logs (JSON, warnings and worse).
func BenchmarkDeliverOne(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer srv.Close()
	routes, err := ParseRoutes([]byte(fmt.Sprintf(`{"RECEIVER-1": {"url": %q}}`, srv.URL)), DefaultPolicy())
	if err != nil {
		b.Fatal(err)
	}
	st := store.NewMemory(nil)
	w := NewWorker(WorkerConfig{Store: st, Routes: routes, Workers: 1, Timeout: 5 * time.Second,
		Log: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	_, ack := receiverDeliveries(b, "aaaaaaaa-0000-4000-8000-000000000005", "aaaaaaaa-0000-4000-8000-000000000006")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		it, err := ack.Item(time.Now())
		if err != nil {
			b.Fatal(err)
		}
		if err := st.Enqueue(ctx, it); err != nil {
			b.Fatal(err)
		}
		if ok, err := w.DeliverOne(ctx); !ok || err != nil {
			b.Fatalf("DeliverOne = %v, %v", ok, err)
		}
	}
}
