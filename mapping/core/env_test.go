package core_test

import (
	"reflect"
	"testing"
	"unsafe"

	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestMetaCopy checks that Meta.Copy copies every field, and that no
// string of the copy shares memory with the original's.
func TestMetaCopy(t *testing.T) {
	var m core.Meta
	v := reflect.ValueOf(&m).Elem()
	for i := 0; i < v.NumField(); i++ {
		switch f := v.Field(i); f.Kind() {
		case reflect.String:
			f.SetString("value of " + v.Type().Field(i).Name)
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		default:
			t.Fatalf("field %s of kind %s: teach Copy and this test", v.Type().Field(i).Name, f.Kind())
		}
	}
	*m.Agent = v3.Agent{RoleProfileID: "role", UserID: "user", JobRoleCode: "job"}
	c := m.Copy()
	if !reflect.DeepEqual(c, m) {
		t.Fatalf("copy %+v, want %+v", c, m)
	}
	strs := func(m core.Meta) []string {
		out := []string{m.Agent.RoleProfileID, m.Agent.UserID, m.Agent.JobRoleCode}
		mv := reflect.ValueOf(m)
		for i := 0; i < mv.NumField(); i++ {
			if mv.Field(i).Kind() == reflect.String {
				out = append(out, mv.Field(i).String())
			}
		}
		return out
	}
	for i, s := range strs(c) {
		if unsafe.StringData(s) == unsafe.StringData(strs(m)[i]) {
			t.Errorf("string %q of the copy is the original's", s)
		}
	}
	if c.Agent == m.Agent {
		t.Error("the copy shares the original's Agent")
	}
}

// TestCountingIDs: the ids count up from one in the UUID's last twelve
// digits, each call's sequence its own.
func TestCountingIDs(t *testing.T) {
	ids := core.CountingIDs()
	want := map[int]string{
		1:    "00000000-0000-4000-8000-000000000001",
		10:   "00000000-0000-4000-8000-000000000010",
		1234: "00000000-0000-4000-8000-000000001234",
	}
	for n := 1; n <= 1234; n++ {
		got := ids()
		if w, ok := want[n]; ok && got != w {
			t.Errorf("id %d = %q, want %q", n, got, w)
		}
	}
	if got := core.CountingIDs()(); got != want[1] {
		t.Errorf("a new sequence starts at %q, want %q", got, want[1])
	}
	if a := testing.AllocsPerRun(100, func() { _ = ids() }); a != 1 {
		t.Errorf("an id costs %v allocations, want 1", a)
	}
}
