package store

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/store/redistest"
)

// TestKeyLayoutDocumented: every key the Redis store writes is one the
// key layout of the package doc (doc.go) lists, which the README sends
// operators to ("the layout is documented in gateway/store's package
// doc"). The named sets (nominations, prescriptions owed), the holds and
// the write probe of /readyz were missing from it.
func TestKeyLayoutDocumented(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "layout:"
	var patterns []*regexp.Regexp
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^//\t<prefix>(\S+)`).FindAllStringSubmatch(string(doc), -1) {
		names = append(names, "<prefix>"+m[1])
		parts := regexp.MustCompile(`<[a-z]+>`).Split(m[1], -1)
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		patterns = append(patterns, regexp.MustCompile("^"+regexp.QuoteMeta(prefix)+strings.Join(parts, ".+")+"$"))
	}
	if len(patterns) == 0 {
		t.Fatal("no key layout found in doc.go")
	}

	srv := redistest.Start(t)
	r := openRedis(t, srv, prefix)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := time.Now()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err = r.MarkSeen(ctx, "soap:X:1", time.Hour)
	must("MarkSeen", err)
	_, err = r.Accept(ctx, "ebxml:X:2", time.Hour, Item{Queue: "inbox", ID: "X:2", Data: []byte("m"), Due: now})
	must("Accept", err)
	must("Enqueue", r.Enqueue(ctx, Item{Queue: "outbox", ID: "a", Data: []byte("a"), Due: now.Add(time.Hour)}))
	l, err := r.Claim(ctx, "inbox", now, time.Minute)
	must("Claim", err)
	must("Complete", r.Complete(ctx, l, Finish{DeadLetter: []byte("{}")}))
	_, err = r.Requeue(ctx, []byte("{}"), Item{Queue: "inbox", ID: "X:2", Data: []byte("m"), Due: now})
	must("Requeue", err)
	l, err = r.Claim(ctx, "inbox", now, time.Minute)
	must("Claim", err)
	must("Retry", r.Retry(ctx, l, []byte("m"), now.Add(time.Hour)))
	_, err = r.Drop(ctx, "outbox", "a")
	must("Drop", err)
	must("PutReply", r.PutReply(ctx, "eps-outcome:X:2", []byte("r"), time.Hour))
	_, err = r.KeepReply(ctx, "soap:X:1", []byte("k"), time.Hour)
	must("KeepReply", err)
	_, _, err = r.ReserveReply(ctx, "eps-outcome:X:3", []byte("a"), time.Hour, SetAddition{Set: "nominated:ODS1", TTL: time.Hour, Members: []string{"m"}})
	must("ReserveReply", err)
	must("SetAdd", r.SetAdd(ctx, "owed:ODS1", time.Hour, "m"))
	_, err = r.HoldKey(ctx, "release:ODS1", "t", time.Hour)
	must("HoldKey", err)
	must("CheckWritable", r.CheckWritable(ctx))

	keys, err := r.client.Keys(ctx, prefix+"*").Result()
	must("KEYS", err)
	for _, k := range keys {
		documented := false
		for _, p := range patterns {
			documented = documented || p.MatchString(k)
		}
		if !documented {
			t.Errorf("key %q is not in the package doc's key layout (%s)", k, strings.Join(names, ", "))
		}
	}
}
