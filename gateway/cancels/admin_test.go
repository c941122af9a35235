package cancels

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestAdminViewIsBounded: GET /admin/cancellations lists at most the
// oldest limit tracked cancellations (default 100, ?limit=N up to 1000)
// while its count stays the number tracked. Unbounded, the view read every
// record with its request (20 000 pending took 5.6 s, past its 5 s limit,
// and some 200 MB a request) and answered 503.
func TestAdminViewIsBounded(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	tr := NewRedis(newClient(t, srv), "admin:", Options{})
	const n = 150
	for i := range n {
		if ok, err := tr.Track(ctx, rec(fmt.Sprintf("P%03d", i), i, t0.Add(time.Duration(i)*time.Second))); err != nil || !ok {
			t.Fatalf("track %d: %v %v", i, ok, err)
		}
	}
	c := NewService(ServiceOptions{Tracker: tr, Log: quietLog(), Now: func() time.Time { return t0.Add(time.Hour) }})
	app := fiber.New()
	app.Get(PathAdmin, c.ServeAdmin)
	cases := []struct {
		query      string
		wantStatus int
		wantShown  int
	}{
		{"", 200, 100},
		{"?limit=3", 200, 3},
		{"?limit=1000", 200, n},
		{"?limit=0", 400, 0},
		{"?limit=1001", 400, 0},
		{"?limit=x", 400, 0},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			resp, err := app.Test(httptest.NewRequest("GET", PathAdmin+tc.query, nil), 10_000)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, tc.wantStatus, body)
			}
			if tc.wantStatus != 200 {
				return
			}
			var v struct {
				Count         int          `json:"count"`
				Pending       int          `json:"pending"`
				Cancellations []AdminEntry `json:"cancellations"`
			}
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatal(err)
			}
			if v.Count != n || v.Pending != n || len(v.Cancellations) != tc.wantShown {
				t.Fatalf("count %d pending %d shown %d; want %d %d %d", v.Count, v.Pending, len(v.Cancellations), n, n, tc.wantShown)
			}
			for i, e := range v.Cancellations {
				if want := fmt.Sprintf("P%03d", i); e.PrescriptionID != want {
					t.Fatalf("entry %d is %s, want %s (oldest first)", i, e.PrescriptionID, want)
				}
			}
		})
	}
}

// TestAdminExpiredShowNoNextPoll: an expired cancellation in the admin
// view shows no next poll: it is never polled again.
func TestAdminExpiredShowNoNextPoll(t *testing.T) {
	api := &cannedTracker{status: 503, body: []byte(`{}`)}
	r := newPollerRig(t, api)
	ctx := context.Background()
	r.clock.add(25 * time.Hour) // past the rig's 24 h maximum age
	r.c.pollDue(ctx, newRateLimiter(1000))
	r.c.sweep(ctx)
	app := fiber.New()
	app.Get(PathAdmin, r.c.ServeAdmin)
	resp, err := app.Test(httptest.NewRequest("GET", PathAdmin, nil), 10_000)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Expired []map[string]any `json:"expired"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	if len(v.Expired) != 1 {
		t.Fatalf("%d expired, want 1", len(v.Expired))
	}
	if np, ok := v.Expired[0]["nextPoll"]; ok {
		t.Errorf("expired cancellation shows next poll %v", np)
	}
}
