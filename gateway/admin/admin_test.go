package admin

import (
	"context"
	"html"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/internal/testlog"
)

// serveAdmin serves an admin app with one token of each role over a
// loopback socket and returns its base URL and journal.
func serveAdmin(t *testing.T) (string, *journal.Journal) {
	t.Helper()
	j := journal.New(journal.NewMemory(journal.Retention{}), journal.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go j.Run(ctx)
	s := New(AuthConfig{Tokens: []Token{NewToken("r", RoleReader, "reader-token-0123456789"), NewToken("a", RoleAdmin, "admin-token-0123456789")}},
		Deps{Journal: j, Mount: func(r fiber.Router) {
			r.Get("/things", func(c *fiber.Ctx) error { return c.SendString("things") })
			r.Post("/things/:id/resend", func(c *fiber.Ctx) error { return c.SendString("resent " + c.Params("id")) })
		}})
	return listen(t, s), j
}

// listen serves s on a loopback socket until the test ends and returns
// its base URL.
func listen(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.App().Listener(ln) }()
	t.Cleanup(func() { _ = s.App().Shutdown() })
	return "http://" + ln.Addr().String()
}

// written waits until j has written everything recorded.
func written(t *testing.T, j *journal.Journal) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := j.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

// getAs GETs path from base with a bearer token and returns the status
// and the body.
func getAs(t *testing.T, base, token, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAdminAPIRefusesBadQueries(t *testing.T) {
	base, j := serveAdmin(t)
	j.Record(journal.Event{Exchange: "M1", Interaction: "PORX_IN020101UK31", Step: &journal.Step{Kind: journal.StepLegacyRequest, Body: "<x/>"}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := j.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path, token string
		want                int
		body                string
	}{
		{"GET", "/admin/api/exchanges?limit=0", "reader-token-0123456789", 400, "limit"},
		{"GET", "/admin/api/exchanges?limit=abc", "reader-token-0123456789", 400, "limit"},
		{"GET", "/admin/api/exchanges?from=yesterday", "reader-token-0123456789", 400, "from"},
		{"GET", "/admin/api/exchanges?to=2026-13-01T00:00", "reader-token-0123456789", 400, "to"},
		{"GET", "/admin/api/exchanges?from=2026-01-01T00:00&interaction=PORX_IN020101UK31", "reader-token-0123456789", 200, `"id":"M1"`},
		{"GET", "/admin/api/exchanges/nope", "reader-token-0123456789", 404, "no exchange nope"},
		{"GET", "/admin/api/access?limit=-1", "admin-token-0123456789", 400, "limit"},
		{"GET", "/admin/things", "reader-token-0123456789", 200, "things"},
		{"POST", "/admin/things/7/resend", "reader-token-0123456789", 403, "admin role"},
		{"POST", "/admin/things/7/resend", "admin-token-0123456789", 200, "resent 7"},
		{"GET", "/admin/ui/exchange/M1", "reader-token-0123456789", 200, "Exchange M1"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, base+tt.path, nil)
		req.Header.Set("Authorization", "Bearer "+tt.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want || !strings.Contains(string(b), tt.body) {
			t.Errorf("%s %s = %d %s, want %d with %q", tt.method, tt.path, resp.StatusCode, b, tt.want, tt.body)
		}
	}
}

func TestAdminLoginCookie(t *testing.T) {
	base, _ := serveAdmin(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(base+PathLogin, map[string][]string{"token": {"wrong-token-0123456789"}, "next": {"/admin/ui/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "failed=1") || len(resp.Cookies()) != 0 {
		t.Errorf("wrong token: %d %s %v", resp.StatusCode, resp.Header.Get("Location"), resp.Cookies())
	}
	resp, err = noFollow.PostForm(base+PathLogin, map[string][]string{"token": {"reader-token-0123456789"}, "next": {"https://evil.example/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.Header.Get("Location") != PathPage || len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("sign-in: %d %s %+v", resp.StatusCode, resp.Header.Get("Location"), cookies)
	}
	req, _ := http.NewRequest(http.MethodGet, base+PathPage, nil)
	req.AddCookie(cookies[0])
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "Exchanges") {
		t.Errorf("page with the cookie: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodGet, base+PathPage, nil)
	req.Header.Set("Accept", "text/html")
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), PathLogin) {
		t.Errorf("browser without a cookie: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestResendButtonsForAdminsOnly: the page lists dead letters for every
// role that sees it, and offers the resend buttons only to admins.
func TestResendButtonsForAdminsOnly(t *testing.T) {
	j := journal.New(journal.NewMemory(journal.Retention{}), journal.Options{})
	live := func(context.Context) State {
		return State{DeadLetters: []DeadLetter{{ID: "delivery:D1", Stage: "delivery", MessageID: "D1", Party: "FCG71-807", Reason: "no route"}}}
	}
	s := New(AuthConfig{Tokens: []Token{NewToken("v", RoleViewer, "viewer-token-0123456789"), NewToken("r", RoleReader, "reader-token-0123456789"),
		NewToken("a", RoleAdmin, "admin-token-0123456789")}}, Deps{Journal: j, Live: live})
	base := listen(t, s)
	for _, tt := range []struct {
		token   string
		buttons bool
	}{{"viewer-token-0123456789", false}, {"reader-token-0123456789", false}, {"admin-token-0123456789", true}} {
		req, _ := http.NewRequest(http.MethodGet, base+PathPage, nil)
		req.Header.Set("Authorization", "Bearer "+tt.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(b)
		if !strings.Contains(page, "no route") {
			t.Errorf("%s: the dead letter is not listed", tt.token)
		}
		if got := strings.Contains(page, `data-id="delivery:D1"`) && strings.Contains(page, `data-party="FCG71-807"`); got != tt.buttons {
			t.Errorf("%s: resend buttons shown %v, want %v", tt.token, got, tt.buttons)
		}
	}
}

// TestAdminRefusesOtherSitesChanges: a state-changing request a browser
// marks as coming from another origin (Sec-Fetch-Site, or else Origin) is
// refused whatever its credentials; one from the page itself, or from a
// client that is not a browser, passes. Reads are not affected.
func TestAdminRefusesOtherSitesChanges(t *testing.T) {
	base, _ := serveAdmin(t)
	host := strings.TrimPrefix(base, "http://")
	tests := []struct {
		name, method, path string
		headers            map[string]string
		want               int
	}{
		{"no browser", "POST", "/admin/things/7/resend", nil, 200},
		{"the page (fetch)", "POST", "/admin/things/7/resend", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": base}, 200},
		{"same origin, no Sec-Fetch-Site", "POST", "/admin/things/7/resend", map[string]string{"Origin": base}, 200},
		{"another port of the host", "POST", "/admin/things/7/resend", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:1"}, 403},
		{"another site", "POST", "/admin/things/7/resend", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"another origin, no Sec-Fetch-Site", "POST", "/admin/things/7/resend", map[string]string{"Origin": "http://intranet.example"}, 403},
		{"opaque origin", "POST", "/admin/things/7/resend", map[string]string{"Origin": "null"}, 403},
		{"sign-in form of another site", "POST", PathLogin, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"reads pass", "GET", "/admin/things", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://intranet.example"}, 200},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, base+tt.path, nil)
		req.Header.Set("Authorization", "Bearer admin-token-0123456789")
		for k, v := range tt.headers {
			req.Header.Set(k, v)
		}
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got := resp.StatusCode
		if got == http.StatusSeeOther { // the sign-in form answers with a redirect
			got = 200
		}
		if got != tt.want || (tt.want == 403 && !strings.Contains(string(b), "another site")) {
			t.Errorf("%s: %s %s = %d %s, want %d (host %s)", tt.name, tt.method, tt.path, resp.StatusCode, b, tt.want, host)
		}
	}
}

// TestSignInKeepsTheWholeAddress: a browser sent to sign in on its way to
// a search comes back to the same search, every parameter of it (the
// address was put after ?next= unescaped: what followed its first & was
// lost).
func TestSignInKeepsTheWholeAddress(t *testing.T) {
	base, _ := serveAdmin(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	want := "/admin/ui/?id=9449304130&outcome=rejected&from=2026-03-01T10:00"
	req, _ := http.NewRequest(http.MethodGet, base+want, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, PathLogin) {
		t.Fatalf("browser without a cookie: %d %s", resp.StatusCode, loc)
	}
	resp, err = http.Get(base + loc)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `name="next" value="`+template.HTMLEscapeString(want)+`"`) {
		t.Fatalf("sign-in form (from %s) does not carry %s on:\n%s", loc, want, b)
	}
	resp, err = noFollow.PostForm(base+PathLogin, map[string][]string{"token": {"reader-token-0123456789"}, "next": {want}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Location"); got != want {
		t.Errorf("after signing in: to %q, want %q", got, want)
	}
}

// TestExchangeWithAnyID: an exchange whose id has characters a path
// escapes (a MessageId is whatever the sender wrote) opens from the list's
// link, on the page and in the API.
func TestExchangeWithAnyID(t *testing.T) {
	base, j := serveAdmin(t)
	const id = "msg 1/ü+x"
	j.Record(journal.Event{Exchange: id, Interaction: "PORX_IN020101UK31", Step: &journal.Step{Kind: journal.StepLegacyRequest, Body: "<x/>"}})
	written(t, j)
	get := func(path string) (int, string) {
		t.Helper()
		return getAs(t, base, "reader-token-0123456789", path)
	}
	_, list := get(PathPage)
	i := strings.Index(list, `href="`+PathPageExchange)
	if i < 0 {
		t.Fatalf("no link to the exchange on the list:\n%s", list)
	}
	href := list[i+len(`href="`):]
	href = html.UnescapeString(href[:strings.IndexByte(href, '"')])
	if code, body := get(href); code != 200 || !strings.Contains(html.UnescapeString(body), "<h1>Exchange "+id+"</h1>") {
		t.Errorf("GET %s = %d %s", href, code, body)
	}
	if code, body := get(PathExchanges + "/" + url.PathEscape(id)); code != 200 || !strings.Contains(body, `"id":"msg 1/ü+x"`) {
		t.Errorf("API: %d %s", code, body)
	}
}

// TestRatesOfABusyHour: with more exchanges in the last hour than the
// live state reads (5000), the rates are those of the time the exchanges
// read cover, and the state says so, since when in UTC: they were counted
// as if the 5000 newest were the whole hour, a rate of 83/min for
// 120/min.
func TestRatesOfABusyHour(t *testing.T) {
	now := time.Now().UTC()
	b := journal.NewMemory(journal.Retention{})
	evs := make([]journal.Event, 6000) // one every 0.5s, the newest now
	for i := range evs {
		evs[i] = journal.Event{Exchange: "M" + strconv.Itoa(i), At: now.Add(-time.Duration(len(evs)-1-i) * 500 * time.Millisecond),
			Interaction: "PORX_IN020101SM31", Outcome: &journal.Outcome{Result: "accepted"}}
	}
	if _, err := b.ApplyAll(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	s := New(AuthConfig{NoAuth: true}, Deps{Journal: journal.New(b, journal.Options{}), Now: func() time.Time { return now }})
	st := s.state(context.Background(), true)
	if len(st.Rates) != 1 {
		t.Fatalf("rates %+v", st.Rates)
	}
	if r := st.Rates[0]; r.PerMinute < 114 || r.PerMinute > 126 {
		t.Errorf("rate %.1f/min, want 120", r.PerMinute)
	}
	if !strings.Contains(strings.Join(st.Problems, " "), "newest 5000") || st.RatesSince.IsZero() {
		t.Errorf("problems %q, rates since %v: want it said that the rates cover the newest 5000 exchanges", st.Problems, st.RatesSince)
	}
	// Since when, in the zone of every time the page shows: it was written
	// bare ("since 16:32:00"), which an operator reads as local time.
	if since := st.RatesSince.Format(time.TimeOnly) + " UTC"; !strings.Contains(strings.Join(st.Problems, " "), since) {
		t.Errorf("problems %q: want the time they cover said in UTC (%s)", st.Problems, since)
	}
}

// TestNoDiffWithoutAShadowAnswer: when the shadow path gave no answer (its
// call failed), the exchange's page shows the comparison's error, not a
// line diff that has every line of the primary answer removed.
func TestNoDiffWithoutAShadowAnswer(t *testing.T) {
	base, j := serveAdmin(t)
	j.Record(journal.Event{Exchange: "M1", Interaction: "PORX_IN020101UK31", Step: &journal.Step{Kind: journal.StepV3Answer,
		Body: `<MCCI_IN010000UK13><acknowledgement typeCode="AA"/></MCCI_IN010000UK13>`}})
	j.Record(journal.Event{Exchange: "M1", Step: &journal.Step{Kind: journal.StepShadow, Title: "legacy path (shadow) answer", Note: "legacy path: connection refused"},
		Comparison: &journal.Comparison{Result: "error", Primary: "fhir", Error: "legacy path: connection refused"}})
	written(t, j)
	code, page := getAs(t, base, "reader-token-0123456789", PathPageExchange+"M1")
	if code != 200 || !strings.Contains(page, "connection refused") {
		t.Fatalf("page = %d\n%s", code, page)
	}
	if strings.Contains(page, `id="answer-diff"`) {
		t.Errorf("the page diffs the primary answer with a shadow answer that never came:\n%s", page)
	}
}

// TestProfilesNeedTheAdminRole: the runtime profiles under
// /admin/debug/pprof/ need the admin role: they include the process's
// command line (a --redis URL with its password, say) and can load the
// gateway (a CPU profile), neither for a reader, who is there to read
// exchanges.
func TestProfilesNeedTheAdminRole(t *testing.T) {
	j := journal.New(journal.NewMemory(journal.Retention{}), journal.Options{})
	s := New(AuthConfig{Tokens: []Token{NewToken("r", RoleReader, "reader-token-0123456789"), NewToken("a", RoleAdmin, "admin-token-0123456789")}},
		Deps{Journal: j, Mount: func(r fiber.Router) {
			r.Get("/debug/pprof/cmdline", func(c *fiber.Ctx) error { return c.SendString("porxgate --redis redis://:secret@redis:6379") })
			r.Get("/deadletters", func(c *fiber.Ctx) error { return c.SendString("[]") })
		}})
	base := listen(t, s)
	for _, tt := range []struct {
		path, token string
		want        int
	}{
		{"/admin/debug/pprof/cmdline", "reader-token-0123456789", 403},
		{"/admin/DEBUG/pprof/cmdline", "reader-token-0123456789", 403},
		{"/admin/debug/pprof/cmdline", "admin-token-0123456789", 200},
		{"/admin/deadletters", "reader-token-0123456789", 200},
	} {
		req, _ := http.NewRequest(http.MethodGet, base+tt.path, nil)
		req.Header.Set("Authorization", "Bearer "+tt.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("GET %s as %s = %d, want %d", tt.path, tt.token[:strings.IndexByte(tt.token, '-')], resp.StatusCode, tt.want)
		}
	}
}

// TestAccessRecordedWithTheJournalOff: with --journal off the admin
// listener still shows patient data (a dead letter's message); every look
// past authentication is then written to the log, who and what, without
// the query (which may hold an NHS number). It was recorded nowhere.
func TestAccessRecordedWithTheJournalOff(t *testing.T) {
	var logs testlog.Buffer
	s := New(AuthConfig{Tokens: []Token{NewToken("r", RoleReader, "reader-token-0123456789")}},
		Deps{Log: slog.New(slog.NewTextHandler(&logs, nil)), Mount: func(r fiber.Router) {
			r.Get("/deadletters/item", func(c *fiber.Ctx) error { return c.SendString("<PORX_IN020101UK31/>") })
		}})
	base := listen(t, s)
	req, _ := http.NewRequest(http.MethodGet, base+"/admin/deadletters/item?id=9449304130", nil)
	req.Header.Set("Authorization", "Bearer reader-token-0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "/admin/deadletters/item") {
			line = l
		}
	}
	for _, want := range []string{"who=token:r", "role=reader", "method=GET", "path=/admin/deadletters/item", "status=200"} {
		if !strings.Contains(line, want) {
			t.Errorf("access log line %q lacks %q (logs:\n%s)", line, want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "9449304130") {
		t.Errorf("the query reached the log:\n%s", logs.String())
	}
}
