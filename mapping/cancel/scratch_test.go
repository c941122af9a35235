package cancel

import (
	"bytes"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestCancelToV3ReusesNothingReturned writes cancel requests as v3 one
// after another with one Scratch (the message built in the memory of the
// ones before) and checks that each is what writing it in fresh memory
// gives: the project's own request, the corpus's, and one refused.
func TestCancelToV3ReusesNothingReturned(t *testing.T) {
	body, meta, err := CancelToFHIR(cancelFixture(t, "cancel_request_uk.xml"), core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	bodies := append([][]byte{body, bytes.Replace(body, []byte(`"identifier"`), []byte(`"identifierX"`), 1)},
		corpustest.Files(t, func(rel string) bool { return strings.HasSuffix(rel, "-Process-Request-Cancel-200_OK.json") })...)
	write := func(sc *v3.Scratch) []string {
		var got []string
		for _, b := range bodies {
			env := core.FixedEnv()
			env.Scratch = sc
			out, err := CancelToV3(b, meta, env)
			got = append(got, string(out)+"|"+errString(err))
		}
		return got
	}
	want := write(nil)
	if strings.HasSuffix(want[1], "|") {
		t.Fatal("the refused request was written")
	}
	sc := v3.NewScratch()
	for round := 0; round < 2; round++ {
		for i, g := range write(sc) {
			if g != want[i] {
				t.Fatalf("request %d (round %d), written with a reused Scratch:\n%s\nwant\n%s", i, round, g, want[i])
			}
		}
	}
}

// errString is err's text, "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
