package admin

import (
	"context"
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/gateway/journal"
)

// exchangeLinkRE finds the exchanges a list page links to.
var exchangeLinkRE = regexp.MustCompile(`<a class="exchange" href="/admin/ui/exchange/([^"]+)"`)

// TestListSaysThereAreMore: a search that selects more exchanges than the
// list shows says so and links to the older ones, and the JSON search
// says so too; together the pages show each exchange once. The page
// showed the newest 100 as if they were all ("no way to tell a search for
// an NHS number with 105 exchanges from one with 100").
func TestListSaysThereAreMore(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	b := journal.NewMemory(journal.Retention{})
	const n = 105
	for i := range n {
		id := "M" + strconv.Itoa(i)
		if err := b.Apply(context.Background(), journal.Event{Exchange: id, At: now.Add(-time.Duration(n-i) * time.Second),
			Interaction: "PORX_IN020101UK31", IDs: journal.IDs{NHSNumbers: []string{"9449304130"}},
			Step: &journal.Step{Kind: journal.StepLegacyRequest, Body: "<x/>"}}); err != nil {
			t.Fatal(err)
		}
	}
	j := journal.New(b, journal.Options{})
	base := listen(t, New(AuthConfig{Tokens: []Token{NewToken("r", RoleReader, "reader-token-0123456789")}}, Deps{Journal: j}))
	get := func(path string) string {
		t.Helper()
		code, body := getAs(t, base, "reader-token-0123456789", path)
		if code != 200 {
			t.Fatalf("GET %s = %d %s", path, code, body)
		}
		return body
	}
	seen := map[string]int{}
	page := get(PathPage + "?id=9449304130")
	links := exchangeLinkRE.FindAllStringSubmatch(page, -1)
	for _, m := range links {
		seen[m[1]]++
	}
	more := regexp.MustCompile(`<a id="older" href="([^"]+)"`).FindStringSubmatch(page)
	if len(links) != 100 || more == nil {
		t.Fatalf("first page: %d exchanges, link to older ones %v; want 100 and a link", len(links), more)
	}
	page = get(html.UnescapeString(more[1]))
	links = exchangeLinkRE.FindAllStringSubmatch(page, -1)
	for _, m := range links {
		seen[m[1]]++
	}
	if len(links) != 5 || strings.Contains(page, `id="older"`) {
		t.Errorf("older page: %d exchanges, link to older ones %v; want the 5 left and no link", len(links), strings.Contains(page, `id="older"`))
	}
	if len(seen) != n {
		t.Errorf("the two pages show %d exchanges of %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s shown %d times", id, k)
		}
	}
	if api := get(PathExchanges + "?id=9449304130&limit=100"); !strings.Contains(api, `"count":100`) || !strings.Contains(api, `"more":true`) {
		t.Errorf("API: want 100 and more:\n%.300s", api)
	}
	if api := get(PathExchanges + "?id=9449304130&limit=105"); !strings.Contains(api, `"count":105`) || !strings.Contains(api, `"more":false`) {
		t.Errorf("API: want 105 and no more:\n%.300s", api)
	}
}

// TestListSaysTheSearchWasCut: when the Redis journal stops a search at
// the exchanges it may look at (journal.ErrSearchCut), the page and the
// JSON search say more may match, instead of "no exchanges match".
func TestListSaysTheSearchWasCut(t *testing.T) {
	b, _ := redisJournal(t)
	now := time.Now().UTC()
	const n = 5100 // more than one search looks at
	evs := make([]journal.Event, 0, 500)
	for i := range n {
		interaction := "PORX_IN080101UK31"
		if i < 50 {
			interaction = "PORX_IN090101UK31" // the oldest: past what the search looks at
		}
		evs = append(evs, journal.Event{Exchange: "M" + strconv.Itoa(i), At: now.Add(-time.Duration(n-i) * time.Second),
			Interaction: interaction, IDs: journal.IDs{ODSCodes: []string{"FA565"}}})
		if len(evs) == cap(evs) || i == n-1 {
			if _, err := b.ApplyAll(context.Background(), evs); err != nil {
				t.Fatal(err)
			}
			evs = evs[:0]
		}
	}
	base := listen(t, New(AuthConfig{Tokens: []Token{NewToken("r", RoleReader, "reader-token-0123456789")}}, Deps{Journal: journal.New(b, journal.Options{})}))
	code, page := getAs(t, base, "reader-token-0123456789", PathPage+"?id=FA565&interaction=PORX_IN090101UK31")
	if code != 200 || !strings.Contains(page, `id="search-cut"`) || strings.Contains(page, "no exchanges match") {
		t.Errorf("page %d does not say the search was cut:\n%.3000s", code, page)
	}
	code, api := getAs(t, base, "reader-token-0123456789", PathExchanges+"?id=FA565&interaction=PORX_IN090101UK31")
	if code != 200 || !strings.Contains(api, `"more":true`) || !strings.Contains(api, `"note":`) {
		t.Errorf("API %d: want more and a note:\n%.500s", code, api)
	}
}

// TestSearchFormSaysItsTimesAreUTC: the search form's from and to are
// datetime-local inputs, which a browser presents as the operator's local
// time, and the page reads them as UTC (as it shows every time): unsaid,
// an operator in British Summer Time searched an hour off. The form says
// UTC beside them.
func TestSearchFormSaysItsTimesAreUTC(t *testing.T) {
	base, _ := serveAdmin(t)
	code, page := getAs(t, base, "reader-token-0123456789", PathPage)
	form := regexp.MustCompile(`(?s)<form class="search".*?</form>`).FindString(page)
	if code != 200 || form == "" {
		t.Fatalf("GET %s = %d, search form %q", PathPage, code, form)
	}
	if !regexp.MustCompile(`(?s)from \(UTC\) <input type="datetime-local" name="from".*to \(UTC\) <input type="datetime-local" name="to"`).MatchString(form) {
		t.Errorf("the search form does not say its times are UTC:\n%s", form)
	}
}
