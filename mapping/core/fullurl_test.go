package core

import (
	"testing"
	"unsafe"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/internal/racetest"
)

// TestLowerIDURL holds LowerIDURL to LowerID and FullURL, and checks that
// the id is the URL's end, made in one allocation.
func TestLowerIDURL(t *testing.T) {
	for _, id := range []string{
		"", "a", "A", "a4e9d2c0-1b2f-4c5d-8e7f-0a1b2c3d4e5f", "A4E9D2C0-1B2F-4C5D-8E7F-0A1B2C3D4E5F",
		"a4E9d2C0-1b2F-4c5D-8e7F-0a1B2c3D4e5F", "ÄBC", "aBÇ", "1.2.3", "Z@[`{",
	} {
		lower, url := LowerIDURL(id)
		if want := LowerID(id); lower != want {
			t.Errorf("LowerIDURL(%q) id %q, want %q", id, lower, want)
		}
		if want := FullURL(LowerID(id)); url != want {
			t.Errorf("LowerIDURL(%q) url %q, want %q", id, url, want)
		}
	}
	id := "A4E9D2C0-1B2F-4C5D-8E7F-0A1B2C3D4E5F"
	lower, url := LowerIDURL(id)
	if unsafe.StringData(lower) != unsafe.StringData(url[len(fullURLPrefix):]) {
		t.Error("the id is not a view of its URL")
	}
	if !racetest.Enabled {
		if n := testing.AllocsPerRun(100, func() { lower, url = LowerIDURL(id) }); n != 1 {
			t.Errorf("%v allocations, want 1", n)
		}
	}
}

// TestRoleURL checks that the role's URL is made once, shared by
// AppendEntries and the callers that refer to the role, and made again when
// the role's id changes.
func TestRoleURL(t *testing.T) {
	role := new(fhir.PractitionerRole)
	role.ResourceType, role.ID = "PractitionerRole", "r1"
	a := &AgentPersonResources{Role: role}
	u := a.RoleURL()
	if u != "urn:uuid:r1" {
		t.Fatalf("RoleURL %q", u)
	}
	if e := a.Entries(); e[0].FullURL != u || unsafe.StringData(e[0].FullURL) != unsafe.StringData(u) {
		t.Errorf("entry fullUrl %q is not the role's URL", e[0].FullURL)
	}
	if !racetest.Enabled {
		if n := testing.AllocsPerRun(100, func() { a.RoleURL() }); n != 0 {
			t.Errorf("%v allocations for a URL already made", n)
		}
	}
	a.Role.ID = "r2"
	if got := a.RoleURL(); got != "urn:uuid:r2" {
		t.Errorf("after a new id: %q", got)
	}
	if got := a.Entries()[0].FullURL; got != "urn:uuid:r2" {
		t.Errorf("entry after a new id: %q", got)
	}
}
