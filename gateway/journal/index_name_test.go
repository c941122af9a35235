package journal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestIndexNamerAsHMACOfEachID: an indexNamer reused from id to id names
// each id's index as an HMAC made afresh for it does (the name every
// replica and every search must agree on): ids in upper and lower case,
// non-ASCII, empty, one after a longer one.
func TestIndexNamerAsHMACOfEachID(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	fresh := func(v string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(strings.ToLower(v)))
		return "test:journal:ixh:" + hex.EncodeToString(m.Sum(nil)[:16])
	}
	r := &Redis{p: "test:journal:"}
	n := r.indexNamer(key)
	ids := []string{"F1A2B3C4-0000-4000-8000-00000000000A", "f1a2b3c4-0000-4000-8000-00000000000a", "83C40E-A83008-00001S",
		"9449304130", "A83008", "", "ÄRZTIN-Ω", "a", "x-request-0001", "ÄRZTIN-Ω", "İSTANBUL"}
	for _, v := range ids {
		if got, want := n.name(v), fresh(v); got != want {
			t.Errorf("name(%q) = %s, want %s", v, got, want)
		}
		if got, want := r.idIndex(key, v), fresh(v); got != want {
			t.Errorf("idIndex(%q) = %s, want %s", v, got, want)
		}
	}
	if n.name(ids[0]) != n.name(ids[1]) {
		t.Error("one id in two cases has two indexes")
	}
}
