package journal

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/internal/testlog"
)

// TestAccessNotRecordedIsLogged: a look at patient data the access
// journal cannot keep — its queue full, or its backend failing — is
// logged instead, as with the journal off (who, what without its query),
// so that none goes unrecorded. It used to be dropped and only counted.
func TestAccessNotRecordedIsLogged(t *testing.T) {
	look := func(who string) Access {
		return Access{Door: "admin", Who: who, Role: "reader", Method: "GET", What: "/admin/api/exchanges?id=9449304130", Status: 200, Remote: "10.0.0.9"}
	}
	t.Run("queue full", func(t *testing.T) {
		var logs testlog.Buffer
		j := New(NewMemory(Retention{}), Options{Queue: 1, Log: slog.New(slog.NewTextHandler(&logs, nil))})
		j.RecordAccess(look("token:first")) // no writer running: it waits in the queue
		j.RecordAccess(look("token:second"))
		out := logs.String()
		if strings.Contains(out, "token:first") || !strings.Contains(out, "token:second") ||
			!strings.Contains(out, "path=/admin/api/exchanges") || !strings.Contains(out, "remote=10.0.0.9") {
			t.Errorf("log, want the second access only, with its path:\n%s", out)
		}
		if strings.Contains(out, "9449304130") {
			t.Errorf("the log carries the query's NHS number:\n%s", out)
		}
	})
	t.Run("backend failing", func(t *testing.T) {
		var logs testlog.Buffer
		j, srv := redisJournal(t, Options{BatchWait: -1, Log: slog.New(slog.NewTextHandler(&logs, nil))})
		stop := startRun(t, j)
		defer stop()
		srv.Kill(t)
		j.RecordAccess(look("token:third"))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := j.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		if out := logs.String(); !strings.Contains(out, "access not recorded") || !strings.Contains(out, "token:third") || strings.Contains(out, "9449304130") {
			t.Errorf("log, want the access without its query:\n%s", out)
		}
	})
}
