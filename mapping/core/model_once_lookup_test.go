package core

import (
	"strconv"
	"testing"

	v3 "github.com/porxgate/porxgate/v3"
)

// TestOnceTableSlots holds the look-up of CheckOnce to a table of a slot
// for each tag for the Once of the parties (the fast way), and to a look
// through the tags for a Once whose tags share a key or outnumber the slots.
func TestOnceTableSlots(t *testing.T) {
	var tags64 []string
	for i := range 64 {
		tags64 = append(tags64, "t"+strconv.Itoa(i))
	}
	for _, tt := range []struct {
		name  string
		once  *Once
		table bool
	}{
		{"AgentPerson", agentPersonOnce, true},
		{"agentPerson", agentPersonOnce.Kids["agentPerson"], true},
		{"Organization", organizationOnce, true},
		{"licence", licenceOnce, true},
		{"Patient", patientOnce, true},
		{"patientPerson", patientOnce.Kids["patientPerson"], true},
		{"tags sharing a key", &Once{Tags: []string{"code", "cude"}}, false},
		{"64 tags", &Once{Tags: tags64}, false},
	} {
		tab := tt.once.lookup()
		if got := tab.mul != 0; got != tt.table {
			t.Errorf("%s: a slot table %v, want %v", tt.name, got, tt.table)
		}
		for i := range tab.entries {
			e := &tab.entries[i]
			if got := tab.find(e.tag); got != e {
				t.Errorf("%s: find(%q) = %v, want its entry", tt.name, e.tag, got)
			}
		}
		if e := tab.find("notNamed"); e != nil {
			t.Errorf("%s: find(notNamed) = %v, want none", tt.name, e)
		}
	}
}

// TestOnceTableConcurrent checks a fresh Once from several goroutines at
// once, as the gateway's workers do (its table made once, under the race
// detector in make test's race run): each finds the same repeat.
func TestOnceTableConcurrent(t *testing.T) {
	spec := &Once{Tags: []string{"b", "c"}, Kids: map[string]*Once{"c": {Tags: []string{"e"}}}}
	doc := []byte(`<a xmlns="urn:hl7-org:v3"><b/><c><e/><e/></c><b/></a>`)
	errs := make(chan []string, 8)
	for range 8 {
		go func() {
			r, root, err := v3.Parse(doc)
			if err != nil {
				errs <- []string{err.Error()}
				return
			}
			CheckOnce(root, spec)
			var got []string
			for _, e := range v3.Errors(r.Err()) {
				got = append(got, e.Path)
			}
			errs <- got
		}()
	}
	for range 8 {
		if got := <-errs; len(got) != 2 || got[0] != "/a/c/e[2]" || got[1] != "/a/b[2]" {
			t.Errorf("problems at %q, want /a/c/e[2] and /a/b[2]", got)
		}
	}
}

// TestOnceTableShortTags: tags of up to three bytes (whose key holds each
// of their bytes), of 4 to 16 (told by the two words that cover them) and
// longer, and tags alike in length and first, middle and last byte but
// for one inner byte, are found for themselves and not for one another,
// in a slot table and in a look through the entries.
func TestOnceTableShortTags(t *testing.T) {
	for _, slots := range []bool{true, false} {
		tags := []string{"id", "a", "abc", "code", "effectiveTime", "representedOrganization", "abcdefgh", "abcdefghijklmnop", "abcdefg"}
		if !slots {
			tags = append(tags, "cxde") // shares code's key: a look through the entries
		}
		tab := (&Once{Tags: tags}).lookup()
		if got := tab.mul != 0; got != slots {
			t.Fatalf("slot table %v, want %v", got, slots)
		}
		for _, tag := range tags {
			if e := tab.find(tag); e == nil || e.tag != tag {
				t.Errorf("slots %v: find(%q) = %v", slots, tag, e)
			}
		}
		for _, tag := range []string{"ie", "jd", "i", "b", "abd", "aXc", "bbc", "cade", "ab", "idd", "",
			"effectiveTimf", "effectivXTime", "eXfectiveTime", "representedOrganizatiXn", "representedOrgXnization",
			"abcdefgX", "aXcdefgh", "abcdeXgh", "abcdefghijklmnoX", "abcdefgXijklmnop", "abcdefghXjklmnop", "abcXefg", "abXdefg"} {
			if e := tab.find(tag); e != nil {
				t.Errorf("slots %v: find(%q) = %q, want none", slots, tag, e.tag)
			}
		}
	}
}
