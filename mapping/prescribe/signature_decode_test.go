package prescribe

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// decodeSignatureCopying is decodeSignature as it was before it decoded
// into the room of the check's wrapper: the base64 decoded, then checked
// (and copied into a wrapper) by checkSignatureFragment.
func decodeSignatureCopying(data string) ([]byte, error) {
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	return checkSignatureFragment(dec)
}

// FuzzDecodeSignature holds decodeSignature to decodeSignatureCopying on
// any Provenance signature data: base64 of fragments with and without a
// byte order mark and an XML declaration, and text that is not base64.
func FuzzDecodeSignature(f *testing.F) {
	for _, s := range []string{"<Signature/>", "\xef\xbb\xbf<?xml version=\"1.0\"?><a/>", "<?xml version=\"1.0\"?>", "<?x", "<a>", " <a/> ",
		"<!DOCTYPE a><a/>", "&amp;", "", "x"} {
		f.Add(base64.StdEncoding.EncodeToString([]byte(s)))
	}
	f.Add(" PGEvPg== \n")
	f.Add("PGEvPg")
	f.Add("not base64!")
	f.Fuzz(func(t *testing.T, data string) {
		got, gotErr := decodeSignature(data)
		want, wantErr := decodeSignatureCopying(data)
		if !bytes.Equal(got, want) || (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Fatalf("decodeSignature(%q) = %q, %v; want %q, %v", data, got, gotErr, want, wantErr)
		}
	})
}
