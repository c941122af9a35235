package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
)

// members collects what EachMember gives of data.
func members(data []byte) (names []string, values [][]byte, ok bool) {
	ok = EachMember(data, func(name string, v []byte) bool {
		names, values = append(names, name), append(values, v)
		return true
	})
	return names, values, ok
}

func TestEachMember(t *testing.T) {
	cases := []struct {
		name   string
		in     string
		ok     bool
		names  []string
		values []string
	}{
		{"empty object", ` {} `, true, nil, nil},
		{"members in order", `{"b": 1, "a" :"x,}", "c":{"d":[1,{"e":"]"}]},"f":null}`, true,
			[]string{"b", "a", "c", "f"}, []string{`1`, `"x,}"`, `{"d":[1,{"e":"]"}]}`, `null`}},
		{"escaped quote in a value", `{"a":"q\"}","b":true}`, true, []string{"a", "b"}, []string{`"q\"}"`, `true`}},
		{"a name given twice", `{"a":1,"a":2}`, true, []string{"a", "a"}, []string{`1`, `2`}},
		{"no object", `[1]`, false, nil, nil},
		{"nothing", ``, false, nil, nil},
		{"unclosed", `{"a":1`, false, nil, nil},
		{"unclosed after comma", `{"a":1,`, false, nil, nil},
		{"trailing comma", `{"a":1,}`, false, nil, nil},
		{"no colon", `{"a" 1}`, false, nil, nil},
		{"no value", `{"a":}`, false, nil, nil},
		{"two values", `{"a":1 2}`, false, nil, nil},
		{"escaped name", `{"\u0061":1}`, false, nil, nil},
		{"non-ASCII name", `{"é":1}`, false, nil, nil},
		{"unquoted name", `{a:1}`, false, nil, nil},
		{"unclosed string", `{"a":"1}`, false, nil, nil},
		{"unbalanced value", `{"a":[1}`, false, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			names, values, ok := members([]byte(tc.in))
			if ok != tc.ok {
				t.Fatalf("ok %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			var got []string
			for _, v := range values {
				got = append(got, string(v))
			}
			if !slices.Equal(names, tc.names) || !slices.Equal(got, tc.values) {
				t.Fatalf("got %q %q, want %q %q", names, got, tc.names, tc.values)
			}
		})
	}
}

func TestEachMemberStops(t *testing.T) {
	n := 0
	if !EachMember([]byte(`{"a":1,"b":2,"c":3}`), func(string, []byte) bool { n++; return n < 2 }) || n != 2 {
		t.Fatalf("read %d members, want 2 and ok", n)
	}
	n = 0
	if !EachElement([]byte(`[1,2,3]`), func([]byte) bool { n++; return false }) || n != 1 {
		t.Fatalf("read %d elements, want 1 and ok", n)
	}
}

func TestEachElement(t *testing.T) {
	cases := []struct {
		name string
		in   string
		ok   bool
		want []string
	}{
		{"empty", ` [ ] `, true, nil},
		{"elements", `[1, "a]", {"b":[2]} ,[],null]`, true, []string{`1`, `"a]"`, `{"b":[2]}`, `[]`, `null`}},
		{"no array", `{"a":1}`, false, nil},
		{"nothing", ``, false, nil},
		{"unclosed", `[1`, false, nil},
		{"trailing comma", `[1,]`, false, nil},
		{"leading comma", `[,1]`, false, nil},
		{"two values", `[1 2]`, false, nil},
		{"unbalanced", `[{"a":1]`, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			ok := EachElement([]byte(tc.in), func(v []byte) bool {
				got = append(got, string(v))
				return true
			})
			if ok != tc.ok {
				t.Fatalf("ok %v, want %v", ok, tc.ok)
			}
			if ok && !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzEachMember: on valid JSON, what EachMember and EachElement read
// is what encoding/json reads (each member's value, by a name given
// once; each element), and they never read past the input.
func FuzzEachMember(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":[1,{"c":"}"}],"d":"\"x"}`))
	f.Add([]byte(`[{"a":1}, "b", 2.5e3, null]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		names, values, ok := members(data)
		if ok && json.Valid(data) {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatalf("EachMember read a valid non-object: %v", err)
			}
			for i, n := range names {
				if slices.Contains(names[i+1:], n) {
					continue // given again: encoding/json keeps the last
				}
				if !bytes.Equal(m[n], values[i]) {
					t.Fatalf("member %q: %q, encoding/json %q", n, values[i], m[n])
				}
			}
		}
		var elems [][]byte
		if EachElement(data, func(v []byte) bool { elems = append(elems, v); return true }) && json.Valid(data) {
			var want []json.RawMessage
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatalf("EachElement read a valid non-array: %v", err)
			}
			if len(want) != len(elems) {
				t.Fatalf("%d elements, encoding/json %d", len(elems), len(want))
			}
			for i := range want {
				if !bytes.Equal(want[i], elems[i]) {
					t.Fatalf("element %d: %q, encoding/json %q", i, elems[i], want[i])
				}
			}
		}
	})
}

func TestEachEntryMember(t *testing.T) {
	cases := []struct {
		name string
		in   string
		ok   bool
		want []string
	}{
		{"entries", `{"resourceType":"Bundle","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient","id":[1,{"a":"}"}]}},{"fullUrl":"u"},{"resource": {} },{"resource":{"b" : null}}],"type":"message"}`,
			true, []string{`0 resourceType "Patient"`, `0 id [1,{"a":"}"}]`, `3 b null`}},
		{"no entry", `{"resourceType":"Bundle"}`, true, nil},
		{"Entry", `{"Entry":[]}`, false, nil},
		{"entry twice", `{"entry":[],"entry":[]}`, false, nil},
		{"entry not a list", `{"entry":{}}`, false, nil},
		{"an entry of another member", `{"entry":[{"search":{},"resource":{}}]}`, false, nil},
		{"a resource not an object", `{"entry":[{"resource":[]}]}`, false, nil},
		{"a resource unclosed", `{"entry":[{"resource":{"a":1]}`, false, nil},
		{"an escaped name", `{"\u0065ntry":[]}`, false, nil},
		{"an escaped resource member", `{"entry":[{"resource":{"\u0061":1}}]}`, false, nil},
		{"no object", `[]`, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			ok := EachEntryMember([]byte(tc.in), func(entry int, name string, v []byte) bool {
				got = append(got, fmt.Sprintf("%d %s %s", entry, name, v))
				return true
			})
			if ok != tc.ok {
				t.Fatalf("ok %v, want %v", ok, tc.ok)
			}
			if ok && !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	if EachEntryMember([]byte(`{"entry":[{"resource":{"a":1,"b":2}}]}`), func(int, string, []byte) bool { return false }) {
		t.Fatal("ok after fn refused a member")
	}
}
