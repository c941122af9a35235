package admin

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/porxgate/porxgate/gateway/journal"
	"github.com/porxgate/porxgate/internal/deadline"
)

// pages holds the parsed templates.
type pages struct {
	t *template.Template
}

// newPages parses the page templates.
func newPages() *pages {
	funcs := template.FuncMap{
		"pretty": pretty,
		"since": func(from, at time.Time) string {
			return "+" + at.Sub(from).Round(time.Millisecond).String()
		},
		"ts":       func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000Z") },
		"rfc":      func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
		"esc":      url.PathEscape,
		"outClass": outcomeClass,
		"join":     strings.Join,
		"split":    strings.Fields,
	}
	return &pages{t: template.Must(template.New("page").Funcs(funcs).Parse(pageTemplates))}
}

// outcomeClass gives an outcome's CSS class.
func outcomeClass(result string) string {
	switch result {
	case "accepted", "released", "cancelled", "match":
		return "ok"
	case "pending", "in-progress", "incomplete", "":
		return "warn"
	}
	return "bad"
}

// render writes template name with data as HTML.
func (p *pages) render(c *fiber.Ctx, name string, data any) error {
	var b bytes.Buffer
	if err := p.t.ExecuteTemplate(&b, name, data); err != nil {
		return fiber.NewError(fiber.StatusInternalServerError, "page: "+err.Error())
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
	c.Set("Cache-Control", "no-store")
	return c.Send(b.Bytes())
}

// loginForm handles GET /admin/ui/login.
func (s *Server) loginForm(c *fiber.Ctx) error {
	return s.page.render(c, "login", fiber.Map{"Next": safeNext(c.Query("next")), "Failed": c.Query("failed") != ""})
}

// safeNext keeps a redirect target on this listener's page.
func safeNext(n string) string {
	if strings.HasPrefix(n, "/admin/") && !strings.HasPrefix(n, "//") {
		return n
	}
	return PathPage
}

// login handles POST /admin/ui/login: a valid token becomes a cookie.
func (s *Server) login(c *fiber.Ctx) error {
	next := safeNext(c.FormValue("next"))
	w := s.auth.byToken(strings.TrimSpace(c.FormValue("token")))
	status := fiber.StatusSeeOther
	if w.role == RoleNone {
		s.recordAccess(c, who{name: "unknown token"}, fiber.StatusUnauthorized)
		return c.Redirect(PathLogin+"?failed=1&next="+url.QueryEscape(next), status)
	}
	c.Cookie(&fiber.Cookie{Name: cookieName, Value: strings.TrimSpace(c.FormValue("token")), Path: "/admin",
		HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode, Secure: c.Protocol() == "https", MaxAge: 8 * 3600})
	s.recordAccess(c, w, status)
	return c.Redirect(next, status)
}

// listPage handles GET /admin/ui/: live state and, for readers, the
// exchanges the search form selects, and for admins the newest accesses.
// The three are read side by side within stateBudget: with the store or
// the journal hung the page is drawn by then, what was not read shown as
// such (the figures as ?, the exchanges and accesses as not read, and
// why), not after each read has waited out the request's 10 s in turn.
func (s *Server) listPage(c *fiber.Ctx) error {
	q, err := query(c)
	if err != nil {
		return err
	}
	role := roleOf(c)
	cx, cancel := context.WithTimeout(c.UserContext(), stateBudget)
	defer cancel()
	data := fiber.Map{"Reader": role >= RoleReader, "Admin": role >= RoleAdmin, "Q": q,
		"From": formTime(q.From, false), "To": formTime(q.To, true), "Journal": s.d.Journal != nil,
		"RatesEvery": ratesEvery.String()}
	var (
		wg           sync.WaitGroup
		state        State
		list         []journal.Summary
		more         bool
		cut          string
		searchErr    error
		accesses     []journal.Access
		accessErr    error
		readList     = role >= RoleReader && s.d.Journal != nil
		readAccesses = role >= RoleAdmin && s.d.Journal != nil
	)
	wg.Go(func() { state = s.stateFor(cx, role, true) })
	if readList {
		wg.Go(func() { list, more, cut, searchErr = s.search(cx, q) })
	}
	if readAccesses {
		wg.Go(func() { accesses, accessErr = s.d.Journal.Backend().Accesses(cx, 50) })
	}
	wg.Wait()
	data["State"] = state
	if readList {
		if searchErr != nil {
			data["Error"] = "exchanges not read: " + notRead(cx, searchErr)
		}
		data["List"], data["Cut"] = list, cut
		if more {
			data["Older"] = olderURL(q, list)
		}
	}
	if readAccesses {
		if accessErr != nil {
			data["AccessError"] = "accesses not read: " + notRead(cx, accessErr)
		}
		data["Accesses"] = accesses
	}
	return s.page.render(c, "list", data)
}

// notRead says why a read with cx (a request's, bounded to stateBudget)
// failed: err, and when cx ran out, that the journal did not answer within
// it. A hung Redis fails a read with the network's "i/o timeout" (the
// client sets cx's deadline on its connection), not cx's own error, and
// may do so before cx's timer has marked it done (deadline.Passed).
func notRead(cx context.Context, err error) string {
	if errors.Is(err, context.DeadlineExceeded) || deadline.Passed(cx) {
		return "the journal did not answer within " + stateBudget.String() + " (" + err.Error() + ")"
	}
	return err.Error()
}

// formTime is t as the search form's datetime-local inputs take it: UTC,
// to the millisecond (an input holds no more), rounded up for the
// exclusive end (up) so that searching again loses none of the range; ""
// for none. The older page's link carries its bound to the nanosecond,
// which an input refuses and empties.
func formTime(t time.Time, up bool) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	if ms := t.Truncate(time.Millisecond); up && ms.Before(t) {
		t = ms.Add(time.Millisecond)
	} else {
		t = ms
	}
	return t.Format("2006-01-02T15:04:05.999")
}

// view is one exchange arranged for the page.
type view struct {
	X *journal.Exchange
	// V3Requests, FHIRRequests, EPSAnswers, V3Answers pair up side by
	// side; V3Answers include the answers kept for their party.
	V3Requests, FHIRRequests, EPSAnswers, V3Answers []journal.Step
	// Shadow is the other path's answer in comparison mode.
	Shadow []journal.Step
	// Diff is the line diff of the first answer and the shadow answer.
	Diff []diffLine
	// Faults say what faults did (retries, breaker, dead letter).
	Faults []string
	// Plain is the outcome in plain words.
	Plain string
}

// exchangePage handles GET /admin/ui/exchange/:id. An exchange that
// cannot be shown (not in the journal, or the journal not answering) is
// said on a page, with the status, not as the API's JSON.
func (s *Server) exchangePage(c *fiber.Ctx) error {
	x, err := s.get(c)
	if err != nil {
		var fe *fiber.Error
		if !errors.As(err, &fe) {
			return err
		}
		c.Status(fe.Code)
		return s.page.render(c, "problem", fe.Message)
	}
	v := view{X: x, Plain: plainOutcome(x)}
	var kept []journal.Step
	for _, st := range x.Steps {
		switch st.Kind {
		case journal.StepLegacyRequest:
			v.V3Requests = append(v.V3Requests, st)
		case journal.StepFHIRRequest:
			v.FHIRRequests = append(v.FHIRRequests, st)
		case journal.StepEPSAnswer:
			v.EPSAnswers = append(v.EPSAnswers, st)
		case journal.StepV3Answer:
			v.V3Answers = append(v.V3Answers, st)
		case journal.StepShadow:
			v.Shadow = append(v.Shadow, st)
		case journal.StepFault:
			v.Faults = append(v.Faults, st.Title+noteOf(st))
		case journal.StepDelivery:
			if !strings.Contains(st.Title, " delivered ") {
				v.Faults = append(v.Faults, st.Title+noteOf(st))
			}
			if st.Body != "" {
				kept = append(kept, st)
			}
		}
	}
	// An answer kept for its party (no routing table) is shown with the
	// answers, unless it is one of them already (an answer processing
	// made): a Subsequent Cancel Response is only ever the kept one.
	for _, st := range kept {
		if !slices.ContainsFunc(v.V3Answers, func(a journal.Step) bool { return a.Body == st.Body }) {
			v.V3Answers = append(v.V3Answers, st)
		}
	}
	if n := len(v.FHIRRequests); n > 1 {
		v.Faults = append(v.Faults, "EPS was called "+itoa(n)+" times (retries after failures)")
	}
	if len(v.Shadow) > 0 && len(v.V3Answers) > 0 && v.Shadow[0].Body != "" { // a failed shadow call has no answer to diff
		v.Diff = lineDiff(pretty(v.V3Answers[0].Body), pretty(v.Shadow[0].Body))
	}
	return s.page.render(c, "exchange", v)
}

// noteOf formats a step's note after its title.
func noteOf(st journal.Step) string {
	if st.Note == "" {
		return ""
	}
	return ": " + st.Note
}

// itoa formats a count.
func itoa(n int) string { return strconv.Itoa(n) }

// plainOutcome says an exchange's outcome in a sentence.
func plainOutcome(x *journal.Exchange) string {
	o := x.Outcome
	code := ""
	if o.Code != "" {
		code = " (code " + o.Code + ")"
	}
	switch o.Result {
	case "":
		return "No answer yet: the message is accepted and being worked on."
	case "accepted":
		return "Accepted: Spine/EPS took the message" + code + "."
	case "rejected":
		return "Rejected by EPS" + code + ": " + o.Text + "."
	case "refused":
		return "Refused" + code + ": " + o.Text + "."
	case "released":
		return "Released: " + o.Text + "."
	case "not-released":
		return "Not released" + code + ": " + o.Text + "."
	case "cancelled":
		return "Cancelled" + code + "."
	case "pending":
		return "Cancellation pending with the dispenser" + code + ": the Subsequent Cancel Response follows when it resolves."
	case "dead-letter":
		return "Failed: moved to the dead letters. " + o.Text
	}
	return strings.ToUpper(o.Result[:1]) + o.Result[1:] + code + ": " + o.Text
}

// sortRates orders rates by interaction, then outcome.
func sortRates(r []Rate) {
	sort.Slice(r, func(i, j int) bool {
		if r[i].Interaction != r[j].Interaction {
			return r[i].Interaction < r[j].Interaction
		}
		return r[i].Outcome < r[j].Outcome
	})
}

// pageTemplates are the page's templates.
const pageTemplates = `
{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8"><title>porxgate admin</title>
<link rel="stylesheet" href="/admin/ui/assets/admin.css"><script src="/admin/ui/assets/admin.js" defer></script></head>
<body><header><strong>porxgate</strong> admin · <a href="/admin/ui/">exchanges and live state</a></header><main>{{end}}
{{define "foot"}}</main></body></html>{{end}}

{{define "login"}}{{template "head"}}
<h1>Sign in</h1>
{{if .Failed}}<p class="bad">That token is not known.</p>{{end}}
<form id="login" method="post" action="/admin/ui/login">
<input type="hidden" name="next" value="{{.Next}}">
<label>Admin token <input type="password" name="token" autocomplete="off" required></label>
<button type="submit">Sign in</button></form>
<p>Or call the JSON API with <code>Authorization: Bearer &lt;token&gt;</code>, or present a client certificate with a role.</p>
{{template "foot"}}{{end}}

{{define "list"}}{{template "head"}}
<h1>Live state</h1>
<div class="cards" id="live">
<div class="card"><h3>Queues</h3>inbox <b id="q-inbox">{{if .State.Known "queues.inbox"}}{{index .State.Queues "inbox"}}{{else}}?{{end}}</b> · outbox <b id="q-outbox">{{if .State.Known "queues.outbox"}}{{index .State.Queues "outbox"}}{{else}}?{{end}}</b><br>store {{.State.Store}}{{if not .State.Routes}}<br><span class="warn">no routing table: async answers are kept here for their party</span>{{end}}</div>
<div class="card"><h3>Circuit breakers</h3><span id="breakers">{{range $op, $st := .State.Breakers}}{{$op}}: <b class="{{if eq $st "closed"}}ok{{else}}bad{{end}}">{{$st}}</b><br>{{else}}none<br>{{end}}</span><small>{{.State.Upstream}}</small></div>
<div class="card"><h3>Pending cancellations</h3><b id="pending-cancels">{{if not (.State.Known "pendingCancellations")}}?{{else if lt .State.PendingCancellations 0}}not tracked{{else}}{{.State.PendingCancellations}}{{end}}</b></div>
<div class="card"><h3>Dead letters</h3><b id="dead-letters">{{if .State.Known "deadLetterCount"}}{{.State.DeadLetterCount}}{{else}}?{{end}}</b><span id="dead-letters-shown">{{if .State.DeadLetters}}, the newest {{len .State.DeadLetters}} shown below{{end}}</span></div>
<div class="card"><h3>Journal</h3>{{.State.JournalBackend}} · <span id="journal-exchanges">{{if .State.Known "journal"}}{{.State.Journal.Exchanges}}{{else}}?{{end}}</span> exchanges · <span id="journal-bytes">{{if .State.Known "journal"}}{{.State.Journal.Bytes}}{{else}}?{{end}}</span> bytes · dropped <b id="journal-dropped">{{.State.JournalDropped}}</b></div>
<div class="card"><h3>Comparison</h3>{{.State.Comparison}}<span id="comparisons">{{range $r, $n := .State.Comparisons}}<br>{{$r}}: <b class="{{outClass $r}}">{{$n}}</b>{{end}}</span></div>
</div>
<p><small>as of <span id="state-at">{{ts .State.At}}</span></small> <span id="live-problems">{{range .State.Problems}} <span class="bad">{{.}}</span>{{end}}</span></p>
<p id="live-stale" class="bad"></p>
<h2 id="rates-title">Rates, {{if .State.RatesSince.IsZero}}last hour{{else}}since {{ts .State.RatesSince}} (the newest exchanges only){{end}}</h2>
<p id="rates-counted"{{if .State.RatesAt.IsZero}} hidden{{end}}><small>counted at <span id="rates-at">{{if not .State.RatesAt.IsZero}}{{ts .State.RatesAt}}{{end}}</span> (at most once every {{.RatesEvery}})</small></p>
<table id="rates"><tr><th>Interaction</th><th>Outcome</th><th>Exchanges</th><th>Per minute</th></tr>
{{range .State.Rates}}<tr><td>{{.Interaction}}</td><td class="{{outClass .Outcome}}">{{.Outcome}}</td><td>{{.LastHour}}</td><td>{{printf "%.2f" .PerMinute}}</td></tr>{{else}}<tr><td colspan="4">{{if .State.Known "rates"}}no exchanges in the last hour{{else}}<span class="bad" id="rates-unread">not counted: the journal could not be read (see above)</span>{{end}}</td></tr>{{end}}</table>
<section id="dead-letter-section"{{if not .State.DeadLetters}} hidden{{end}}><h2>Dead letters</h2>{{$admin := .Admin}}<p id="resend-result" class="warn"></p><p id="dead-letters-note" class="warn"></p><table id="dead-letter-list" data-admin="{{if $admin}}1{{end}}" data-reader="{{if .Reader}}1{{end}}"><tr><th>At</th><th>Stage</th><th>MessageId</th><th>Interaction</th><th>Party</th><th>Reason</th>{{if $admin}}<th>Resend (after mending the cause)</th>{{end}}</tr>
{{range .State.DeadLetters}}<tr data-id="{{.ID}}" data-at="{{.At.UnixMilli}}"><td>{{ts .At}}</td><td>{{.Stage}}</td><td>{{.MessageID}}</td><td>{{.Interaction}}</td><td>{{.Party}}</td><td>{{.Reason}}</td>{{if $admin}}<td><button class="resend" data-id="{{.ID}}" data-at="{{rfc .At}}">this one</button> <button class="resend" data-party="{{.Party}}">all of {{.Party}}</button></td>{{end}}</tr>{{end}}</table></section>
{{if .Reader}}<h2>Exchanges</h2>
<form class="search" method="get" action="/admin/ui/">
<input name="id" placeholder="any id: MessageId, prescription, NHS number, ODS, X-Request-ID" size="48" value="{{.Q.ID}}">
<input name="interaction" placeholder="interaction" value="{{.Q.Interaction}}">
<select name="outcome"><option value="">any outcome</option>{{$o := .Q.Outcome}}{{range $v := (split "accepted rejected refused released not-released cancelled pending not-cancelled dead-letter error in-progress match differ incomplete")}}<option{{if eq $v $o}} selected{{end}}>{{$v}}</option>{{end}}</select>
from (UTC) <input type="datetime-local" name="from" step="any" value="{{.From}}"> to (UTC) <input type="datetime-local" name="to" step="any" value="{{.To}}">
<button type="submit">Search</button></form>
{{if .Error}}<p class="bad">{{.Error}}</p>{{end}}
<table id="exchanges"><tr><th>Started</th><th>Interaction</th><th>From</th><th>Ids</th><th>Outcome</th><th>Comparison</th></tr>
{{range .List}}<tr><td><a class="exchange" href="/admin/ui/exchange/{{esc .ID}}">{{ts .Started}}</a></td><td>{{.Interaction}}</td><td>{{.Party}}</td>
<td><small>{{.ID}}{{with .IDs.PrescriptionIDs}}<br>Rx {{join . ", "}}{{end}}</small></td>
<td class="{{outClass .Outcome.Result}}">{{if .Outcome.Result}}{{.Outcome.Result}}{{else}}in progress{{end}} {{.Outcome.Code}}</td>
<td>{{with .Comparison}}<span class="{{outClass .Result}}">{{.Result}}</span>{{end}}</td></tr>
{{else}}<tr><td colspan="6">{{if not .Journal}}the journal is off{{else if .Error}}not read (see above){{else if .Cut}}none among the exchanges looked at{{else}}no exchanges match{{end}}</td></tr>{{end}}</table>
{{with .Older}}<p class="warn">These are the newest {{len $.List}} that match; more do. <a id="older" href="{{.}}">Older ones</a></p>{{end}}
{{with .Cut}}<p class="warn" id="search-cut">Not every exchange was looked at: more may match. {{.}}</p>{{end}}
{{end}}
{{with .AccessError}}<h2>Access journal (newest 50)</h2><p class="bad" id="accesses-unread">{{.}}</p>{{end}}{{if .Accesses}}<h2>Access journal (newest 50)</h2><table id="accesses"><tr><th>At</th><th>Door</th><th>Who</th><th>Role</th><th>What</th><th>Status</th></tr>
{{range .Accesses}}<tr><td>{{ts .At}}</td><td>{{.Door}}</td><td>{{.Who}}</td><td>{{.Role}}</td><td>{{.Method}} {{.What}}</td><td>{{.Status}}</td></tr>{{end}}</table>{{end}}
{{template "foot"}}{{end}}

{{define "problem"}}{{template "head"}}
<h1>Exchange not shown</h1><p class="bad" id="problem">{{.}}</p>
{{template "foot"}}{{end}}

{{define "payloads"}}{{range .}}<h4>{{.Title}}{{if .Status}} · {{.Status}}{{end}}{{if .TookMS}} · {{.TookMS}} ms{{end}}</h4>
{{if .Headers}}<table>{{range $k, $v := .Headers}}<tr><th>{{$k}}</th><td>{{$v}}</td></tr>{{end}}</table>{{end}}
{{if .Note}}<p class="bad">{{.Note}}</p>{{end}}
{{if .Body}}<pre class="payload">{{pretty .Body}}</pre>{{end}}{{else}}<p>none recorded</p>{{end}}{{end}}

{{define "exchange"}}{{template "head"}}
<h1>Exchange {{.X.ID}}</h1>
<p>{{.X.Interaction}} over {{.X.Transport}} from {{.X.Party}}, started {{ts .X.Started}}</p>
<p class="outcome" id="outcome"><span class="{{outClass .X.Outcome.Result}}">{{.Plain}}</span></p>
{{if .Faults}}<h2>Delivery and faults</h2><ul id="faults">{{range .Faults}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>Ids</h2><table>
<tr><th>MessageIds</th><td>{{join .X.IDs.MessageIDs ", "}}</td></tr>
<tr><th>ConversationId</th><td>{{.X.IDs.ConversationID}}</td></tr>
<tr><th>RefToMessageIds</th><td>{{join .X.IDs.RefToMessageIDs ", "}}</td></tr>
<tr><th>Prescription ids</th><td>{{join .X.IDs.PrescriptionIDs ", "}}</td></tr>
<tr><th>NHS numbers</th><td>{{join .X.IDs.NHSNumbers ", "}}</td></tr>
<tr><th>ODS codes</th><td>{{join .X.IDs.ODSCodes ", "}}</td></tr>
<tr><th>EPS X-Request-IDs</th><td>{{join .X.IDs.XRequestIDs ", "}}</td></tr>
{{with .X.Signature}}<tr><th>Signature</th><td>digest {{.Digest}} ({{.DigestAlgorithm}}), {{.Algorithm}}</td></tr>{{end}}
</table>
{{with .X.Comparison}}<h2>Comparison: <span id="comparison" class="{{outClass .Result}}">{{.Result}}</span></h2>
<p>primary path: {{.Primary}}{{if .Error}} · <span class="bad">{{.Error}}</span>{{end}}</p>
{{if .Differences}}<ul id="differences">{{range .Differences}}<li>{{.}}</li>{{end}}</ul>{{end}}{{end}}
{{if .Diff}}<h3>Answer diff (− primary, + shadow)</h3><pre class="diff" id="answer-diff">{{range .Diff}}<span class="d{{.Op}}">{{.Op}} {{.Text}}
</span>{{end}}</pre>{{end}}
<h2>Side by side</h2>
<div class="side">
<section id="v3-side"><h3>HL7 v3 — legacy side</h3><h4>Request</h4>{{template "payloads" .V3Requests}}<h4>Answer(s)</h4>{{template "payloads" .V3Answers}}{{if .Shadow}}<h4>Shadow path answer</h4>{{template "payloads" .Shadow}}{{end}}</section>
<section id="fhir-side"><h3>FHIR — EPS side</h3><h4>Request(s)</h4>{{template "payloads" .FHIRRequests}}<h4>EPS answer(s)</h4>{{template "payloads" .EPSAnswers}}</section>
</div>
<h2>Timeline</h2><table id="timeline"><tr><th>When</th><th>Step</th><th>What</th><th>Status</th><th>Took</th><th>Note</th></tr>
{{$start := .X.Started}}{{range .X.Steps}}<tr><td>{{since $start .At}}</td><td>{{.Kind}}</td><td>{{.Title}}{{if .Interaction}} ({{.Interaction}}){{end}}</td><td>{{if .Status}}{{.Status}}{{end}}</td><td>{{if .TookMS}}{{.TookMS}} ms{{end}}</td><td>{{.Note}}</td></tr>{{end}}
</table>
{{template "foot"}}{{end}}
`
