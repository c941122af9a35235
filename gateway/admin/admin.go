package admin

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/gateway/logctx"
	"github.com/porxgate/porxgate/internal/deadline"
)

// Paths of the admin listener.
const (
	// PathPage is the page: live state and recent exchanges.
	PathPage = "/admin/ui/"
	// PathPageExchange shows one exchange (append its id).
	PathPageExchange = "/admin/ui/exchange/"
	// PathLogin is the page's sign-in form.
	PathLogin = "/admin/ui/login"
	// PathAssets serves the page's stylesheet and script.
	PathAssets = "/admin/ui/assets"
	// PathExchanges searches the journal (JSON).
	PathExchanges = "/admin/api/exchanges"
	// PathState is the live state (JSON).
	PathState = "/admin/api/state"
	// PathAccess is the access journal (JSON).
	PathAccess = "/admin/api/access"
)

//go:embed assets
var assets embed.FS

// DeadLetter is one dead letter as the page lists it (no body).
type DeadLetter struct {
	// ID names it for a resend: "<stage>:<MessageId>".
	ID          string    `json:"id"`
	At          time.Time `json:"at"`
	Stage       string    `json:"stage"`
	MessageID   string    `json:"messageId"`
	Interaction string    `json:"interaction"`
	Party       string    `json:"party"`
	Reason      string    `json:"reason"`
}

// Rate is how many exchanges of an interaction ended with an outcome in
// the last hour.
type Rate struct {
	Interaction string  `json:"interaction"`
	Outcome     string  `json:"outcome"`
	LastHour    int     `json:"lastHour"`
	PerMinute   float64 `json:"perMinute"`
}

// State is the live state an operator needs.
type State struct {
	// At is when the gateway's part (queues, breakers, cancellations, dead
	// letters) was read: at most LiveEvery before it is served.
	At time.Time `json:"at"`
	// Store and Upstream name the backing store and the upstream.
	Store    string `json:"store"`
	Upstream string `json:"upstream"`
	// Queues are the queue lengths by name (inbox, outbox).
	Queues map[string]int `json:"queues"`
	// Breakers are the circuit breakers' states by operation.
	Breakers map[string]string `json:"breakers"`
	// PendingCancellations is how many cancellations wait on a dispenser;
	// -1 when not tracked.
	PendingCancellations int `json:"pendingCancellations"`
	// DeadLetters are the newest dead letters; DeadLetterCount is how many
	// the store keeps in all, -1 when it could not be read.
	DeadLetters     []DeadLetter `json:"deadLetters"`
	DeadLetterCount int          `json:"deadLetterCount"`
	// Routes says whether a routing table is configured.
	Routes bool `json:"routesConfigured"`
	// Comparison names the comparison mode ("off", or "fhir primary, legacy shadow at ...").
	Comparison string `json:"comparison"`
	// Rates count exchanges by interaction and outcome (from the journal)
	// in the hour before RatesAt, or since RatesSince when the hour holds
	// more exchanges than one look reads (maxRated). They are counted at
	// most once every ratesEvery, for every poller: RatesAt is when.
	Rates      []Rate    `json:"rates"`
	RatesSince time.Time `json:"ratesSince,omitzero"`
	RatesAt    time.Time `json:"ratesAt,omitzero"`
	// Comparisons count comparison results in the last hour (as Rates,
	// counted at RatesAt).
	Comparisons map[string]int `json:"comparisons"`
	// Journal is what the journal holds; JournalDropped what it dropped.
	Journal        journal.Stats `json:"journal"`
	JournalDropped uint64        `json:"journalDropped"`
	JournalBackend string        `json:"journalBackend"`
	// Problems say what could not be read.
	Problems []string `json:"problems,omitempty"`
	// Unknown names the figures above that could not be read this time
	// (UnknownInbox, UnknownDeadLetterCount...): their values mean nothing
	// (a count of 0 is not "none"), and Problems say why.
	Unknown []string `json:"unknown,omitempty"`
}

// Names of the figures of State that State.Unknown lists.
const (
	UnknownInbox                = "queues.inbox"
	UnknownOutbox               = "queues.outbox"
	UnknownPendingCancellations = "pendingCancellations"
	UnknownDeadLetters          = "deadLetters"
	UnknownDeadLetterCount      = "deadLetterCount"
	UnknownJournal              = "journal"
	UnknownRates                = "rates"
)

// Known reports whether figure (an Unknown… name) was read.
func (s State) Known(figure string) bool { return !slices.Contains(s.Unknown, figure) }

// Deps are what the admin listener shows.
type Deps struct {
	// Journal is the exchange journal; nil: off.
	Journal *journal.Journal
	// Live fills the gateway's part of the live state.
	Live func(ctx context.Context) State
	// Mount registers the gateway's own /admin/* views on r (a group at
	// /admin); GETs need the reader role, other methods admin, and
	// anything under PathDebug admin too. A GET's UserContext is bounded
	// to stateBudget (storeRead), as the listener's own views are.
	Mount func(r fiber.Router)
	// Log receives errors.
	Log *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Server is the admin listener's app.
type Server struct {
	auth AuthConfig
	d    Deps
	app  *fiber.App
	page *pages
	// rates are the rates last counted, and live the gateway's part of
	// the live state last read, each shared by every poller.
	rates shared[counted]
	live  shared[State]
}

// New builds the admin app.
func New(auth AuthConfig, d Deps) *Server {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Live == nil {
		d.Live = func(context.Context) State { return State{} }
	}
	s := &Server{auth: auth, d: d, page: newPages()}
	s.app = fiber.New(fiber.Config{
		AppName: "porxgate-admin", DisableStartupMessage: true,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			code := fiber.StatusInternalServerError
			if fe, ok := err.(*fiber.Error); ok {
				code = fe.Code
			}
			return c.Status(code).JSON(fiber.Map{"error": err.Error()})
		},
	})
	s.app.Use(s.gate)
	s.app.Get("/", func(c *fiber.Ctx) error { return c.Redirect(PathPage) })
	s.app.Get("/admin", func(c *fiber.Ctx) error { return c.Redirect(PathPage) })
	s.app.Use(PathAssets, filesystem.New(filesystem.Config{Root: http.FS(assets), PathPrefix: "assets", MaxAge: 300}))
	s.app.Get(PathLogin, s.loginForm)
	s.app.Post(PathLogin, s.login)
	s.app.Get(PathPage, need(RoleViewer, s.listPage))
	s.app.Get(PathPageExchange+":id", need(RoleReader, s.exchangePage))
	s.app.Get(PathExchanges, need(RoleReader, s.searchAPI))
	s.app.Get(PathExchanges+"/:id", need(RoleReader, s.exchangeAPI))
	s.app.Get(PathState, need(RoleViewer, s.stateAPI))
	s.app.Get(PathAccess, need(RoleAdmin, s.accessAPI))
	if d.Mount != nil {
		g := s.app.Group("/admin", func(c *fiber.Ctx) error {
			want := RoleAdmin
			if (c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead) && !debugPath(c.Path()) {
				want = RoleReader
			}
			if roleOf(c) < want {
				return fiber.NewError(fiber.StatusForbidden, "needs the "+want.String()+" role")
			}
			if want == RoleReader {
				return storeRead(c)
			}
			return c.Next()
		})
		d.Mount(g)
	}
	return s
}

// PathDebug is where the gateway's runtime views (Go's profiles) are: they
// need the admin role, as they show the process's command line (a --redis
// URL's password, say) and can load it (a CPU profile).
const PathDebug = "/admin/debug/"

// debugPath reports whether path is under PathDebug (paths are matched
// case-blind, as Fiber routes them).
func debugPath(path string) bool {
	return len(path) >= len(PathDebug) && strings.EqualFold(path[:len(PathDebug)], PathDebug)
}

// App returns the Fiber app to serve.
func (s *Server) App() *fiber.App { return s.app }

// open reports whether a path needs no authentication (sign-in and assets).
func open(path string) bool {
	return path == PathLogin || strings.HasPrefix(path, PathAssets+"/")
}

// gate authenticates every request and journals every authenticated one.
func (s *Server) gate(c *fiber.Ctx) error {
	if open(c.Path()) {
		if err := fromAnotherSite(c); err != nil {
			return err
		}
		return c.Next()
	}
	if c.Path() == "/favicon.ico" {
		return c.SendStatus(fiber.StatusNoContent)
	}
	w := s.auth.authenticate(c)
	if w.role == RoleNone {
		if strings.Contains(c.Get(fiber.HeaderAccept), "text/html") {
			return c.Redirect(PathLogin + "?next=" + url.QueryEscape(c.OriginalURL()))
		}
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="porxgate admin"`)
		return c.Status(fiber.StatusUnauthorized).JSON(fiber.Map{"error": "authentication required: a bearer token or a client certificate"})
	}
	c.Locals("who", w)
	err := fromAnotherSite(c)
	if err == nil {
		err = c.Next()
	}
	if c.Path() == PathState {
		return err // live state holds no patient data; the page polls it
	}
	status := c.Response().StatusCode()
	if err != nil {
		status = fiber.StatusInternalServerError
		if fe, ok := err.(*fiber.Error); ok {
			status = fe.Code
		}
	}
	s.recordAccess(c, w, status)
	return err
}

// recordAccess journals an access past authentication. With the journal
// off the listener still shows patient data (a dead letter's message), so
// the access is logged instead: who and what, the path without its query
// (a search may hold an NHS number), which a log line must not carry.
func (s *Server) recordAccess(c *fiber.Ctx, w who, status int) {
	if s.d.Journal == nil {
		s.d.Log.Info("admin access", "door", "admin", "who", w.name, "role", w.role.String(), "method", c.Method(),
			"path", c.Path(), "status", status, "remote", c.IP())
		return
	}
	// Fiber's strings share its reused buffers: copy what outlives the request.
	s.d.Journal.RecordAccess(journal.Access{At: s.d.Now(), Door: "admin", Who: w.name, Role: w.role.String(),
		Method: strings.Clone(c.Method()), What: strings.Clone(c.OriginalURL()), Status: status, Remote: strings.Clone(c.IP())})
}

// fromAnotherSite refuses a state-changing request (anything but GET,
// HEAD and OPTIONS) a browser sent from another origin: a form or a fetch
// of another page that would ride on the sign-in cookie (SameSite keeps it
// from other sites, not from other origins of the same site: another port
// or another service under the same domain). A browser says where a
// request comes from in Sec-Fetch-Site, or else in Origin; a request with
// neither is not a browser's (curl, a script with a bearer token) and
// passes.
func fromAnotherSite(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return nil
	}
	if site := c.Get("Sec-Fetch-Site"); site != "" {
		if site == "same-origin" || site == "none" {
			return nil
		}
		return fiber.NewError(fiber.StatusForbidden, "refused: a "+c.Method()+" sent from another site's page ("+site+"); use the admin page, or the API with a bearer token")
	}
	if o := c.Get(fiber.HeaderOrigin); o != "" {
		if u, err := url.Parse(o); err != nil || u.Host == "" || !strings.EqualFold(u.Host, string(c.Request().Host())) {
			return fiber.NewError(fiber.StatusForbidden, "refused: a "+c.Method()+" sent from another site's page (Origin "+o+"); use the admin page, or the API with a bearer token")
		}
	}
	return nil
}

// roleOf returns the role the gate found.
func roleOf(c *fiber.Ctx) Role {
	w, _ := c.Locals("who").(who)
	return w.role
}

// need refuses callers below role r.
func need(r Role, h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if roleOf(c) < r {
			return fiber.NewError(fiber.StatusForbidden, "needs the "+r.String()+" role")
		}
		return h(c)
	}
}

// query reads a journal query from the request.
func query(c *fiber.Ctx) (journal.Query, error) {
	q := journal.Query{ID: strings.TrimSpace(c.Query("id")), Interaction: strings.TrimSpace(c.Query("interaction")),
		Outcome: strings.TrimSpace(c.Query("outcome"))}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		v := strings.TrimSpace(c.Query(f.name))
		if v == "" {
			continue
		}
		t, err := parseTime(v)
		if err != nil {
			return q, fiber.NewError(fiber.StatusBadRequest, f.name+": want RFC 3339 (2026-03-01T10:00:00Z) or YYYY-MM-DDTHH:MM")
		}
		*f.dst = t
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return q, fiber.NewError(fiber.StatusBadRequest, "limit: want 1 to 1000")
		}
		q.Limit = n
	}
	return q, nil
}

// parseTime reads RFC 3339 or the HTML datetime-local form (UTC), with
// or without seconds and their fraction.
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05", v, time.UTC); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02T15:04", v, time.UTC)
}

// ctx returns the context of one request's reads: bounded to
// stateBudget, as the list page's are, so that a hung store or journal
// is reported within it (notRead) rather than waited on. With the
// request's own 10 s the exchange page, the search API and the access
// journal each took 10 s to say Redis did not answer.
func ctx(c *fiber.Ctx) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.UserContext(), stateBudget)
}

// storeRead serves one of the gateway's own views (Deps.Mount) that only
// reads, bounded as the listener's own views are (ctx): with Redis hung
// the dead-letter list, one dead letter, the queues and the tracked
// cancellations each waited out a 5 s deadline of their own and answered
// with go-redis's "i/o timeout" alone. A 503 given once the bound has
// passed says the store did not answer within it (deadline.Passed: the
// read's "i/o timeout" can come back before cx's timer marks it done).
func storeRead(c *fiber.Ctx) error {
	cx, cancel := ctx(c)
	defer cancel()
	c.SetUserContext(cx)
	err := c.Next()
	var fe *fiber.Error
	if errors.As(err, &fe) && fe.Code == fiber.StatusServiceUnavailable && deadline.Passed(cx) {
		return fiber.NewError(fe.Code, "the store did not answer within "+stateBudget.String()+" ("+fe.Message+")")
	}
	return err
}

// noJournal answers when the journal is off.
var noJournal = fiber.NewError(fiber.StatusNotFound, "the exchange journal is off (--journal off)")

// searchAPI handles GET /admin/api/exchanges.
func (s *Server) searchAPI(c *fiber.Ctx) error {
	if s.d.Journal == nil {
		return noJournal
	}
	q, err := query(c)
	if err != nil {
		return err
	}
	cx, cancel := ctx(c)
	defer cancel()
	list, more, cut, err := s.search(cx, q)
	if err != nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "exchanges not read: "+notRead(cx, err))
	}
	if list == nil {
		list = []journal.Summary{}
	}
	answer := fiber.Map{"count": len(list), "more": more || cut != "", "exchanges": list}
	if cut != "" {
		answer["note"] = cut
	}
	return c.JSON(answer)
}

// defaultListLimit is how many exchanges a search shows unless asked
// (journal.Query's default).
const defaultListLimit = 100

// search returns the exchanges q selects, up to its limit, newest first,
// whether more match, and, when the search stopped before it had looked
// at every exchange (journal.ErrSearchCut), why: more may match.
func (s *Server) search(cx context.Context, q journal.Query) (list []journal.Summary, more bool, cut string, err error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	q.Limit = limit + 1
	list, err = s.d.Journal.Backend().Search(cx, q)
	if errors.Is(err, journal.ErrSearchCut) {
		cut, err = err.Error(), nil
	}
	if err != nil {
		return nil, false, "", err
	}
	if len(list) > limit {
		return list[:limit], true, cut, nil
	}
	return list, false, cut, nil
}

// olderURL is the list page of the exchanges q selects that started
// before the oldest of list: q with that start as its (exclusive) end.
func olderURL(q journal.Query, list []journal.Summary) string {
	v := url.Values{}
	for k, x := range map[string]string{"id": q.ID, "interaction": q.Interaction, "outcome": q.Outcome} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	v.Set("to", list[len(list)-1].Started.UTC().Format(time.RFC3339Nano))
	return PathPage + "?" + v.Encode()
}

// exchangeAPI handles GET /admin/api/exchanges/:id.
func (s *Server) exchangeAPI(c *fiber.Ctx) error {
	x, err := s.get(c)
	if err != nil {
		return err
	}
	return c.JSON(x)
}

// get reads the exchange named in the path.
func (s *Server) get(c *fiber.Ctx) (*journal.Exchange, error) {
	if s.d.Journal == nil {
		return nil, noJournal
	}
	// The link escapes the id (a MessageId is whatever its sender wrote);
	// Fiber hands the parameter over as it is in the path.
	id, err := url.PathUnescape(c.Params("id"))
	if err != nil {
		return nil, fiber.NewError(fiber.StatusBadRequest, "exchange id: "+err.Error())
	}
	cx, cancel := ctx(c)
	defer cancel()
	x, err := s.d.Journal.Backend().Get(cx, id)
	if err != nil {
		return nil, fiber.NewError(fiber.StatusServiceUnavailable, "exchange "+id+" not read: "+notRead(cx, err))
	}
	if x == nil {
		return nil, fiber.NewError(fiber.StatusNotFound, "no exchange "+id+" in the journal (never seen, or past its retention)")
	}
	return x, nil
}

// stateAPI handles GET /admin/api/state. It is the one view the gate
// does not journal (the page polls it), so it holds no patient data for
// any role: each dead letter's reason as a viewer sees it. The page, whose
// looks are journalled, and /admin/deadletters show a reader the whole.
func (s *Server) stateAPI(c *fiber.Ctx) error {
	cx, cancel := ctx(c)
	defer cancel()
	return c.JSON(s.stateFor(cx, RoleViewer, false))
}

// stateFor is the live state as role may see it: below the reader role
// (no patient data, and looks at the live state are not journalled) each
// dead letter's reason as the logs would have it, without the values it
// quotes from a message or from EPS's answer (a date of birth, a name)
// nor NHS numbers.
func (s *Server) stateFor(cx context.Context, role Role, fresh bool) State {
	cx, cancel := context.WithTimeout(cx, stateBudget)
	defer cancel()
	st := s.state(cx, fresh)
	if role < RoleReader {
		for i := range st.DeadLetters {
			st.DeadLetters[i].Reason = logctx.RedactFreeText(st.DeadLetters[i].Reason)
		}
	}
	return st
}

// LiveEvery is how long the gateway's part of the live state (queues,
// breakers, pending cancellations, dead letters), once read, is shown to
// every poller before it is read again: each reading takes the newest dead
// letters from the store with their messages, and every open page polls
// every 5 s. State.At is when it was read.
const LiveEvery = 2 * time.Second

// clone copies st's slices and maps, so that a reading shared by every
// poller is never changed by one of them (a viewer's redaction, problems
// added).
func (st State) clone() State {
	st.Queues = maps.Clone(st.Queues)
	st.Breakers = maps.Clone(st.Breakers)
	st.DeadLetters = slices.Clone(st.DeadLetters)
	st.Rates = slices.Clone(st.Rates)
	st.Comparisons = maps.Clone(st.Comparisons)
	st.Problems = slices.Clone(st.Problems)
	st.Unknown = slices.Clone(st.Unknown)
	return st
}

// stateBudget bounds the reading of the live state: a store or journal
// that does not answer within it is reported (Problems, Unknown) rather
// than waited on. The page gives up on a poll after 4.5 s (admin.js); a
// hung Redis held each poll for the request's whole 10 s, and the page,
// polling every 5 s, stacked them.
const stateBudget = 3 * time.Second

// sharedBudget bounds a reading shared by every poller (shared.get): a
// budget of its own, whatever is left of the poll that starts it, a
// little under stateBudget so that a poll that starts one at once gets
// what it read (and what it could not) rather than only that it waited.
const sharedBudget = stateBudget - 300*time.Millisecond

// state gathers the live state: the gateway's part and the journal's;
// the gateway's part as last read for every poller (LiveEvery), or read
// afresh (the page, drawn once per look, after a resend say).
func (s *Server) state(cx context.Context, fresh bool) State {
	read := func(cx context.Context, at time.Time) State {
		st := s.d.Live(cx)
		st.At = at.UTC()
		return st
	}
	var st State
	var err error
	if fresh {
		st = read(cx, s.d.Now())
	} else {
		st, err = s.live.get(cx, s.d.Now, LiveEvery, sharedBudget, read)
	}
	if err != nil {
		st = State{At: s.d.Now().UTC(), PendingCancellations: -1, DeadLetterCount: -1, Problems: []string{"live state: " + err.Error()},
			Unknown: []string{UnknownInbox, UnknownOutbox, UnknownPendingCancellations, UnknownDeadLetters, UnknownDeadLetterCount}}
	}
	st = st.clone()
	st.Comparisons = map[string]int{}
	j := s.d.Journal
	if j == nil {
		st.JournalBackend = "off"
		return st
	}
	st.JournalBackend = j.Backend().Kind()
	st.JournalDropped = j.Dropped()
	if js, err := j.Backend().Stats(cx); err == nil {
		st.Journal = js
	} else {
		st.Problems = append(st.Problems, err.Error())
		st.Unknown = append(st.Unknown, UnknownJournal)
	}
	r, err := s.rates.get(cx, s.d.Now, ratesEvery, sharedBudget, func(cx context.Context, at time.Time) counted { return countRates(cx, j, at) })
	if err != nil {
		r = counted{err: fmt.Errorf("rates: %w", err)}
	}
	if r.problem != "" {
		st.Problems = append(st.Problems, r.problem)
	}
	if r.err != nil {
		st.Problems = append(st.Problems, r.err.Error())
		st.Unknown = append(st.Unknown, UnknownRates)
		return st
	}
	st.Rates, st.RatesSince, st.RatesAt = slices.Clone(r.rates), r.since, r.at.UTC()
	maps.Copy(st.Comparisons, r.comparisons)
	return st
}

// accessAPI handles GET /admin/api/access.
func (s *Server) accessAPI(c *fiber.Ctx) error {
	if s.d.Journal == nil {
		return noJournal
	}
	limit := 200
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return fiber.NewError(fiber.StatusBadRequest, "limit: want 1 to 10000")
		}
		limit = n
	}
	cx, cancel := ctx(c)
	defer cancel()
	list, err := s.d.Journal.Backend().Accesses(cx, limit)
	if err != nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "accesses not read: "+notRead(cx, err))
	}
	return c.JSON(fiber.Map{"count": len(list), "accesses": list})
}
