package journal

import (
	"strings"
	"testing"
	"time"
)

// TestRetriedRequestIsKeptOnce: a message tried again and again (it waits
// out an EPS outage with a try every 5 s, breaker-open's default) records
// each try, but its payload, and each attachment's, once: every try
// recorded the legacy request whole. An hour's outage made 720 copies of
// each waiting message's payload (10 MB of a 14 KB prescription), so a
// thousand waiting messages wrote 10 GB into a journal capped at 256 MiB:
// the cap dropped every other exchange kept, the week's history an
// operator looks at after an outage, and each copy cost Redis its bytes.
// A try with another payload under the same id is kept whole.
func TestRetriedRequestIsKeptOnce(t *testing.T) {
	t0 := time.Now().UTC().Truncate(time.Millisecond)
	body := busyMessages(1, t0)[0].Step.Body
	attachment := strings.Repeat("attachment ", 500)
	const tries = 60 // five minutes of an outage
	for name, b := range backends(t, Retention{MaxAge: time.Hour}) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			for i := range tries {
				at := t0.Add(time.Duration(i) * 5 * time.Second)
				evs := []Event{
					{Exchange: "OUTAGE", At: t0, Interaction: "PORX_IN020101SM31", Transport: "ebxml", IDs: IDs{MessageIDs: []string{"OUTAGE"}},
						Step: &Step{At: at, Kind: StepLegacyRequest, Title: "legacy request over ebxml", ContentType: "application/xml", Body: body}},
					{Exchange: "OUTAGE", At: at, Step: &Step{Kind: StepLegacyRequest, Title: "legacy request attachment <a>", ContentType: "text/plain", Body: attachment}},
					{Exchange: "OUTAGE", At: at.Add(time.Millisecond), Outcome: &Outcome{Result: OutcomeInProgress},
						Step: &Step{Kind: StepFault, Title: "EPS unavailable: the message waits in the store and is tried again", Note: "503"}},
				}
				if _, err := b.ApplyAll(ctx, evs); err != nil {
					t.Fatal(err)
				}
			}
			changed := strings.Replace(body, "BUSY", "CHANGED", 1)
			if err := b.Apply(ctx, Event{Exchange: "OUTAGE", At: t0.Add(time.Hour / 2),
				Step: &Step{Kind: StepLegacyRequest, Title: "legacy request over ebxml", ContentType: "application/xml", Body: changed}}); err != nil {
				t.Fatal(err)
			}
			x, err := b.Get(ctx, "OUTAGE")
			if err != nil || x == nil {
				t.Fatalf("exchange: %v, %v", x, err)
			}
			requests := 0
			var bodies []string
			for _, st := range x.Steps {
				if st.Kind != StepLegacyRequest {
					continue
				}
				requests++
				if st.Body != "" {
					bodies = append(bodies, st.Body)
				} else if st.Note == "" {
					t.Errorf("a try without its payload says nothing of it: %+v", st)
				}
			}
			if requests != 2*tries+1 {
				t.Errorf("%d request steps, want %d: each try recorded", requests, 2*tries+1)
			}
			if len(bodies) != 3 || bodies[0] != body || bodies[1] != attachment || bodies[2] != changed {
				t.Errorf("%d payloads kept, want 3: the request's, the attachment's, once each, and the changed request's", len(bodies))
			}
			st, err := b.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if most := int64(3*len(body) + len(attachment) + tries*2048); st.Bytes > most {
				t.Errorf("the exchange takes %d bytes; want at most %d (its payloads once, and each try's steps)", st.Bytes, most)
			}
		})
	}
}
