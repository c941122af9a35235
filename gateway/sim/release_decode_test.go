package sim

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
)

func TestPlainJSONText(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want bool
	}{
		{"plain", "{\n\t\"a\": [1, \"é\", true]\r\n}", true},
		{"simple escapes", `{"a":"\n\"\\\/\b\f\r\t\u00c9\uFFFD"}`, true},
		{"an escaped quote ends no string", "{\"a\":\"\\\"\t\"}", false},
		{"a surrogate", `{"a":"\ud83d\ude00"}`, false},
		{"an escape of another letter", `{"a":"\x41"}`, false},
		{"a short \\u", `{"a":"\u00c"}`, false},
		{"not hex", `{"a":"\u00g0"}`, false},
		{"an escape at the end", `{"a":"\`, false},
		{"an escape outside a string", `{"a":1}\n`, false},
		{"a tab in a string", "{\"a\":\"\t\"}", false},
		{"a newline in a string", "{\"a\":\"\n\"}", false},
		{"not UTF-8", "{\"a\":\"\xff\"}", false},
		{"empty", ``, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := plainJSONText([]byte(tc.in)); got != tc.want {
				t.Fatalf("plainJSONText %q = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

// sameOrderDecoding fails t unless decodeOrder decodes order as
// encoding/json does.
func sameOrderDecoding(t testing.TB, order []byte) {
	t.Helper()
	got, gotOK := decodeOrder(order)
	want, wantOK := decodeOrderStd(order)
	if gotOK != wantOK || !reflect.DeepEqual(got, want) {
		t.Fatalf("%.80q: decoded %v %v, encoding/json %v %v", order, gotOK, got, wantOK, want)
	}
}

// TestDecodeOrderAsEncodingJSON: the prescription-orders of the tests,
// the corpus and testdata/eps-fhir decode as encoding/json decodes them,
// most the quick way.
func TestDecodeOrderAsEncodingJSON(t *testing.T) {
	p := newRx(t, 1, "FH542")
	orders := [][]byte{fixture(t, "prescription-order.json", p.repl(nil))}
	files := corpustest.Walk(t, func(rel string) bool { return strings.HasSuffix(rel, ".json") })
	own, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "eps-fhir", "*.json"))
	for _, f := range append(files, own...) {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(body, []byte(`"prescription-order"`)) {
			orders = append(orders, body)
		}
	}
	plain := 0
	for _, o := range orders {
		sameOrderDecoding(t, o)
		if plainJSONText(o) {
			plain++
		}
	}
	if len(orders) < 20 || plain < len(orders)/2 {
		t.Fatalf("%d prescription-orders, %d of them plain: want at least 20, half plain", len(orders), plain)
	}
	t.Logf("%d prescription-orders, %d decoded the quick way", len(orders), plain)
}

// FuzzDecodeOrder: decodeOrder decodes any text as encoding/json does.
func FuzzDecodeOrder(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationRequest","status":"active","n":1.50}}]}`))
	f.Add([]byte(`{"a":[1,2,{"b":null,"c":true}],"a":"é"}`))
	f.Fuzz(func(t *testing.T, order []byte) {
		sameOrderDecoding(t, order)
	})
}
