package gateway

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// TestAdmissionRefusesBeyondTheBound: with one message in hand and a bound
// of one, the next is refused at once with a retryable fault (HTTP 500,
// TMS code 200, NumBusy) over a real socket; once the first is done,
// messages are taken again.
func TestAdmissionRefusesBeyondTheBound(t *testing.T) {
	var busy atomic.Int64
	a := newAdmission(1, slog.New(slog.DiscardHandler), func(*fiber.Ctx, Transport) { busy.Add(1) })
	release, entered := make(chan struct{}), make(chan struct{}, 1)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Post("/x", a.wrap(TransportEbXML, func(c *fiber.Ctx) error {
		if c.Query("hold") != "" {
			entered <- struct{}{}
			<-release
		}
		return c.SendStatus(fiber.StatusAccepted)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	defer func() { _ = app.Shutdown() }()
	url := "http://" + ln.Addr().String() + "/x"
	post := func(q string) (int, string) {
		t.Helper()
		resp, err := http.Post(url+q, "text/xml", bytes.NewReader(nil))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	held := make(chan int, 1)
	go func() {
		resp, err := http.Post(url+"?hold=1", "text/xml", bytes.NewReader(nil))
		if err != nil {
			held <- 0
			return
		}
		resp.Body.Close()
		held <- resp.StatusCode
	}()
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the first message never reached the handler")
	}
	code, body := post("")
	if code != http.StatusInternalServerError || !strings.Contains(body, ">200<") || !strings.Contains(body, "910010:") {
		t.Fatalf("second message: HTTP %d %s, want 500 with a retryable busy fault", code, body)
	}
	if busy.Load() != 1 {
		t.Fatalf("%d refusals counted, want 1", busy.Load())
	}
	close(release)
	if c := <-held; c != http.StatusAccepted {
		t.Fatalf("held message: HTTP %d", c)
	}
	if code, body := post(""); code != http.StatusAccepted {
		t.Fatalf("after the first was done: HTTP %d %s, want 202", code, body)
	}
}
