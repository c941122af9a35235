package sim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// trackerPage is one tracker answer as the paging tests read it.
type trackerPage struct {
	total int
	ids   []string
	self  string
	next  string
}

func readTrackerPage(t *testing.T, a answer) trackerPage {
	t.Helper()
	a.want(t, http.StatusOK, "")
	if a.json["resourceType"] != "Bundle" || a.json["type"] != "searchset" {
		t.Fatalf("not a searchset Bundle: %s", a.body)
	}
	p := trackerPage{total: int(a.json["total"].(float64))}
	entries, _ := a.json["entry"].([]any)
	for _, e := range entries {
		task := e.(map[string]any)["resource"].(map[string]any)
		p.ids = append(p.ids, task["focus"].(map[string]any)["identifier"].(map[string]any)["value"].(string))
	}
	links, _ := a.json["link"].([]any)
	for _, l := range links {
		l := l.(map[string]any)
		switch l["relation"] {
		case "self":
			p.self = l["url"].(string)
		case "next":
			p.next = l["url"].(string)
		}
	}
	return p
}

// TestTrackerPages: with TrackerPageSize the tracker answers a patient's
// prescriptions a page at a time, oldest first, each page counting every
// match in total and linking the next by an absolute URL on the address
// the caller used; following the links gives each prescription once. With
// paging off (EPS's behaviour) every match is in one Bundle and the paging
// cursor is refused like any parameter EPS does not know.
func TestTrackerPages(t *testing.T) {
	clock := t0
	now := func() time.Time { return clock }
	_, base := startSim(t, Options{Now: now, TrackerPageSize: 2})
	_, flat := startSim(t, Options{Now: now})
	var want []string
	for i := range 5 {
		p := newRx(t, uint32(i+1), "FH542")
		for _, b := range []string{base, flat} {
			do(t, http.MethodPost, b+DefaultBasePath+"/$process-message", fixture(t, "prescription-order.json", p.repl(nil)), nil).
				want(t, http.StatusOK, "informational")
		}
		want = append(want, p.sf)
		clock = clock.Add(time.Minute)
	}
	search := "/Task?patient:identifier=" + url.QueryEscape("https://fhir.nhs.uk/Id/nhs-number|9449304130")

	t.Run("paged", func(t *testing.T) {
		var got []string
		link := base + DefaultBasePath + search
		for pages := 0; link != ""; pages++ {
			if pages == 5 {
				t.Fatal("more than 5 pages for 5 prescriptions at 2 a page")
			}
			p := readTrackerPage(t, do(t, http.MethodGet, link, nil, nil))
			if p.total != 5 || len(p.ids) == 0 || len(p.ids) > 2 {
				t.Errorf("page %d: total %d, %d Tasks; want total 5 and 1 or 2 Tasks", pages+1, p.total, len(p.ids))
			}
			if !strings.HasPrefix(p.self, base+DefaultBasePath+"/Task?") {
				t.Errorf("page %d: self link %s is not an absolute URL on %s", pages+1, p.self, base)
			}
			if p.next != "" && !strings.HasPrefix(p.next, base+DefaultBasePath+"/Task?") {
				t.Errorf("page %d: next link %s is not an absolute URL on %s", pages+1, p.next, base)
			}
			got = append(got, p.ids...)
			link = p.next
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("pages gave %v, want each of %v once, oldest first", got, want)
		}
	})
	t.Run("past the end", func(t *testing.T) {
		p := readTrackerPage(t, do(t, http.MethodGet, base+DefaultBasePath+search+"&_offset=9", nil, nil))
		if p.total != 5 || len(p.ids) != 0 || p.next != "" {
			t.Errorf("offset past the end: %+v, want no Tasks, total 5, no next link", p)
		}
	})
	t.Run("bad cursor", func(t *testing.T) {
		for _, q := range []string{"&_offset=-1", "&_offset=x", "&_offset=1&_offset=2"} {
			do(t, http.MethodGet, base+DefaultBasePath+search+q, nil, nil).want(t, http.StatusBadRequest, "invalid")
		}
	})
	t.Run("not paged, as EPS", func(t *testing.T) {
		p := readTrackerPage(t, do(t, http.MethodGet, flat+DefaultBasePath+search, nil, nil))
		if p.total != 5 || len(p.ids) != 5 || p.next != "" {
			t.Errorf("unpaged answer: %+v, want all 5 Tasks, no next link", p)
		}
		do(t, http.MethodGet, flat+DefaultBasePath+search+"&_offset=2", nil, nil).want(t, http.StatusBadRequest, "invalid")
	})
}
