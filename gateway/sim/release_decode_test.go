package sim

import (
	"bytes"
	"reflect"
	"testing"
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

func TestTextOf(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want orderText
	}{
		{"no escapes", `{"a":"é <&>"}`, textAlike},
		{"escapes written alike", `{"a":"\" \\ \/ \n \r \t \u00e9 \u0020 \u007f \uFFFD"}`, textAlike},
		{"a backspace", `{"a":"\b"}`, textPlain},
		{"a form feed", `{"a":"\f"}`, textPlain},
		{"a control character", `{"a":"\u0001"}`, textPlain},
		{"U+2028 escaped", `{"a":"\u2028"}`, textPlain},
		{"U+2029 written", "{\"a\":\"\u2029\"}", textPlain},
		{"a surrogate", `{"a":"\ud800"}`, textOther},
		{"not UTF-8", "{\"a\":\"\xc3\"}", textOther},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := textOf([]byte(tc.in)); got != tc.want {
				t.Fatalf("textOf %q = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

// sameOrderCoding fails t unless decodeOrder decodes order as
// encoding/json does, and encodeOrder encodes that tree, and the tree
// the release shape makes of it, as encoding/json does.
func sameOrderCoding(t testing.TB, order []byte) {
	t.Helper()
	text := textOf(order)
	got, gotOK := decodeOrder(order, text)
	want, wantOK := decodeOrderStd(order)
	if gotOK != wantOK || !reflect.DeepEqual(got, want) {
		t.Fatalf("%.80q: decoded %v %v, encoding/json %v %v", order, gotOK, got, wantOK, want)
	}
	if !gotOK {
		return
	}
	for range 2 {
		enc, encOK := encodeOrder(got, text)
		stdEnc, stdOK := encodeJSON(got)
		if encOK != stdOK || !bytes.Equal(enc, stdEnc) {
			t.Fatalf("%.80q: encoded %v %.200q, encoding/json %v %.200q", order, encOK, enc, stdOK, stdEnc)
		}
		if !epsReleaseShape(got) {
			break
		}
	}
}

// TestDecodeOrderAsEncodingJSON: the prescription-orders of the tests,
// the corpus and the project's testdata decode, and encode again (as
// received and in the release shape), as encoding/json decodes and
// encodes them, most the quick way.
func TestDecodeOrderAsEncodingJSON(t *testing.T) {
	p := newRx(t, 1, "FH542")
	orders := [][]byte{fixture(t, "prescription-order.json", p.repl(nil))}
	orders = append(orders, jsonMessages(t, func(body []byte) bool { return bytes.Contains(body, []byte(`"prescription-order"`)) })...)
	texts := map[orderText]int{}
	for _, o := range orders {
		sameOrderCoding(t, o)
		texts[textOf(o)]++
	}
	if len(orders) < 20 || texts[textAlike] < len(orders)/2 {
		t.Fatalf("%d prescription-orders, %d of them written alike: want at least 20, half", len(orders), texts[textAlike])
	}
	t.Logf("%d prescription-orders: %d written alike (goccy decodes and encodes), %d plain (goccy decodes), %d other",
		len(orders), texts[textAlike], texts[textPlain], texts[textOther])
}

// FuzzDecodeOrder: decodeOrder decodes any text, and encodeOrder encodes
// what it decodes, as encoding/json does.
func FuzzDecodeOrder(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"MedicationRequest","status":"active","n":1.50}}]}`))
	f.Add([]byte(`{"a":[1,2,{"b":null,"c":true}],"a":"é"}`))
	f.Fuzz(func(t *testing.T, order []byte) {
		sameOrderCoding(t, order)
	})
}
