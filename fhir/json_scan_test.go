package fhir

import (
	"encoding/json"
	"strings"
	"testing"
)

// The scanner reads eight bytes at a time; these are its definitions read
// a byte at a time, which it must agree with wherever it starts.

// refSkipSpace is skipSpace a byte at a time.
func refSkipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// refPlainName is plainName a byte at a time.
func refPlainName(data []byte, i int) (string, int, bool) {
	if i >= len(data) || data[i] != '"' {
		return "", 0, false
	}
	j := i + 1
	for j < len(data) && data[j] != '"' {
		if c := data[j]; c == '\\' || c < 0x20 || c >= 0x7f {
			return "", 0, false
		}
		j++
	}
	if j >= len(data) {
		return "", 0, false
	}
	name := string(data[i+1 : j])
	j = refSkipSpace(data, j+1)
	if j >= len(data) || data[j] != ':' {
		return "", 0, false
	}
	return name, j + 1, true
}

// refSkipString is skipJSONString a byte at a time.
func refSkipString(data []byte, i int) (int, bool) {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '"':
			return j + 1, true
		case '\\':
			j++
		}
	}
	return 0, false
}

// refSkipValue is skipJSONValue a byte at a time.
func refSkipValue(data []byte, i int) (int, bool) {
	if i >= len(data) {
		return 0, false
	}
	switch data[i] {
	case '"':
		return refSkipString(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				end, ok := refSkipString(data, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	case '}', ']', ',', ':':
		return 0, false
	}
	j := i
	for j < len(data) && !strings.ContainsRune(",}] \t\n\r", rune(data[j])) {
		j++
	}
	return j, true
}

// checkScan compares the scanner with its definitions from every index of
// data, and checks lineEnd's guesses where the guessed bytes are valid.
func checkScan(t *testing.T, data []byte) {
	t.Helper()
	for i := 0; i <= len(data); i++ {
		if got, want := skipSpace(data, i), refSkipSpace(data, i); got != want {
			t.Fatalf("skipSpace(%q, %d) = %d, want %d", data, i, got, want)
		}
		gn, gnext, gok := plainName(data, i)
		wn, wnext, wok := refPlainName(data, i)
		if gn != wn || gnext != wnext || gok != wok {
			t.Fatalf("plainName(%q, %d) = %q, %d, %v; want %q, %d, %v", data, i, gn, gnext, gok, wn, wnext, wok)
		}
		ge, gok := skipJSONValue(data, i)
		we, wok := refSkipValue(data, i)
		if ge != we || gok != wok {
			t.Fatalf("skipJSONValue(%q, %d) = %d, %v; want %d, %v", data, i, ge, gok, we, wok)
		}
		if i < len(data) && (data[i] == '{' || data[i] == '[') {
			if end, ok := lineEnd(data, i, len(data)); ok && json.Valid(data[i:end]) && (!wok || we != end) {
				t.Fatalf("lineEnd(%q, %d) = %d, a valid value, where it ends at %d (%v)", data, i, end, we, wok)
			}
		}
	}
}

// TestScanMalformed reads malformed and awkward JSON from every index:
// strings, escapes and brackets at and across the eight-byte words'
// edges, bytes a plain name may not hold, values cut short.
func TestScanMalformed(t *testing.T) {
	for _, in := range []string{
		``,
		`"`,
		`"unterminated string of some length`,
		`"escaped quote at the end\"`,
		`"1234567\"8\\"`,
		`"123456\\"x"`,
		`"12345678\\\\\\\"\\"`,
		`{"abcdefg":"hijklmn\\","o\"p":[1,2,{"q":"]}"}]}`,
		`{"a":1]`,
		`[[[[[[[[[[`,
		`]]]]`,
		`{"a":"b"}}`,
		`{"name with space":1,"tab	here":2,"é":3,"del` + "\x7f" + `":4,"ctl` + "\x01" + `":5}`,
		`{"abcdefgh` + "\x80" + `":1}`,
		`{"a"  :  1 , "b"` + "\n\t\r " + `: 2}`,
		`{"a":tru,"b":nul,"c":-1.5e+3,"d":Yes_y` + "\x7f" + `}`,
		"{\n  \"a\": {\n    \"b\": 1\n  },\n  \"c\": [\n    2\n  ]\n}",
		"{\r\n\t\"a\": {\r\n\t\t\"b\": \"}\"\r\n\t}\r\n}",
		"[\n  {\n  }\n  ]\n  }",
		"{\n  \"a\": \"line\nbreak\n}\"\n}",
		"{\n  \"a\": {\n  }\n  },\n}",
		`{"` + strings.Repeat("x", 40) + `":"` + strings.Repeat(`\"`, 20) + `"}`,
		`"` + strings.Repeat(" ", 30) + `\` + `"`,
		strings.Repeat(" ", 17) + "\n" + strings.Repeat(" ", 9) + "x",
	} {
		checkScan(t, []byte(in))
	}
}

// FuzzScan: the scanner agrees with its definitions from every index of
// any input, and lineEnd guesses no valid value's end wrongly.
func FuzzScan(f *testing.F) {
	f.Add([]byte(`{"a":"b\"c","d":[1,{"e":"]"}],"f":null}`))
	f.Add([]byte("{\n  \"resourceType\": \"Patient\",\n  \"name\": [\n    {\n      \"given\": [\"A\"]\n    }\n  ]\n}"))
	f.Add([]byte("{\n  \"a\": {\n  \"b\": 1\n  },\n  \"c\": 2\n}"))
	f.Add([]byte(`{"12345678":"12345678\\12345678\"","x":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkScan(t, data)
	})
}

// TestSkipSpaceRuns passes a line break and 0 to 20 spaces followed by each
// kind of byte (another run's, a tab, a carriage return, a line break, a
// quote), with and without bytes after, from each place in it, and
// requires what refSkipSpace finds.
func TestSkipSpaceRuns(t *testing.T) {
	for n := 0; n <= 20; n++ {
		for _, next := range []string{`"`, "\t", "\r\n  x", "\n", " \t", "x", ""} {
			for _, after := range []string{"", `"name": "value", "more": [1, 2]}`} {
				data := []byte("\n" + strings.Repeat(" ", n) + next + after)
				for i := range data {
					if got, want := skipSpace(data, i), refSkipSpace(data, i); got != want {
						t.Fatalf("%q from %d: %d, want %d", data, i, got, want)
					}
				}
			}
		}
	}
}
