package fhir

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
)

// sameAsDecodeResource fails t unless DecodeResourceBorrowed(data),
// ParseBundleBorrowed(data) and ParseBundleIn(sp, data) give what
// DecodeResource and ParseBundle give and leave data as it was. sp is
// reset after its Bundle is compared: a caller that passes the same Space
// for message after message decodes each in the memory of the ones
// before.
func sameAsDecodeResource(t *testing.T, name string, data []byte, sp *Space) {
	t.Helper()
	was := bytes.Clone(data)
	for _, d := range []struct {
		name              string
		borrowed, copying func([]byte) (any, error)
	}{
		{"DecodeResource", func(b []byte) (any, error) { return DecodeResourceBorrowed(b) }, func(b []byte) (any, error) { return DecodeResource(b) }},
		{"ParseBundle", func(b []byte) (any, error) { return ParseBundleBorrowed(b) }, func(b []byte) (any, error) { return ParseBundle(b) }},
		{"ParseBundleIn", func(b []byte) (any, error) { return ParseBundleIn(sp, b) }, func(b []byte) (any, error) { return ParseBundle(b) }},
	} {
		want, werr := d.copying(bytes.Clone(data))
		got, err := d.borrowed(data)
		if (err == nil) != (werr == nil) || err != nil && err.Error() != werr.Error() {
			t.Errorf("%s: %s, borrowing: error %v, copying gives %v", name, d.name, err, werr)
		} else if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %s, borrowing: decoded %#v, copying gives %#v", name, d.name, got, want)
		}
		if sp != nil {
			sp.Reset()
		}
	}
	if !bytes.Equal(data, was) {
		t.Errorf("%s: decoding changed the bytes it was lent", name)
	}
}

// TestDecodeBorrowedMatches checks the borrowing decoders against the
// copying ones on malformed and unusual input and on every corpus
// resource.
func TestDecodeBorrowedMatches(t *testing.T) {
	tests := []struct{ name, data string }{
		{"empty", ``},
		{"not JSON", `<Bundle/>`},
		{"cut short", `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","id":"p`},
		{"no resourceType", `{"id":"x"}`},
		{"resourceType not a string", `{"resourceType":7}`},
		{"unmodelled type", `{"resourceType":"Basic","id":"b"}`},
		{"not a Bundle", `{"resourceType":"Patient","id":"p"}`},
		{"entry not an array", `{"resourceType":"Bundle","entry":{}}`},
		{"entry resource not an object", `{"resourceType":"Bundle","entry":[{"resource":"Patient"}]}`},
		{"escapes", `{"resourceType":"Bundle","id":"a\"b\u00e9","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient","id":"p\\q"}}]}`},
		{"inline entry", `{"resourceType":"Bundle","entry":[{"resourceType":"Patient","id":"p"}]}`},
		{"trailing garbage", `{"resourceType":"Bundle"} x`},
		{"invalid UTF-8", "{\"resourceType\":\"Bundle\",\"id\":\"\xff\"}"},
	}
	sp := &Space{}
	for _, tt := range tests {
		sameAsDecodeResource(t, tt.name, []byte(tt.data), sp)
	}
	for _, f := range corpustest.Walk(t, func(rel string) bool { return strings.HasSuffix(rel, ".json") }) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sameAsDecodeResource(t, f, data, sp)
	}
}

// FuzzDecodeBorrowed checks that DecodeResourceBorrowed, ParseBundleBorrowed
// and ParseBundleIn (in a fresh Space, then in one that decoded another
// message before) read whatever they are given as DecodeResource and
// ParseBundle do, without changing it.
func FuzzDecodeBorrowed(f *testing.F) {
	f.Add([]byte(`{"resourceType":"Bundle","type":"message","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"MedicationRequest","id":"m"}}]}`))
	f.Add([]byte(`{"resourceType":"Patient","id":"p","extension":[{"url":"u","valueString":"<&>"}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resourceType":"Patient","id":"p"},{"resource":null}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsDecodeResource(t, "fuzz", data, nil)
		// Again in a Space that decoded a message before.
		sp := &Space{}
		if _, err := ParseBundleIn(sp, []byte(spaceSeed)); err != nil {
			t.Fatal(err)
		}
		sp.Reset()
		sameAsDecodeResource(t, "fuzz, in a reused Space", data, sp)
	})
}
