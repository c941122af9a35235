package cancel

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/maptest"
	v3 "github.com/porxgate/porxgate/v3"
)

// TestCancelToV3ReusesNothingReturned writes cancel requests as v3 with a
// reused Scratch and in fresh memory (maptest.SameWithScratch): the
// project's own request, the corpus's, and one refused.
func TestCancelToV3ReusesNothingReturned(t *testing.T) {
	body, meta, err := CancelToFHIR(cancelFixture(t, "cancel_request_uk.xml"), core.FixedEnv())
	if err != nil {
		t.Fatal(err)
	}
	bodies := append([][]byte{body, bytes.Replace(body, []byte(`"identifier"`), []byte(`"identifierX"`), 1)},
		corpustest.Files(t, func(rel string) bool { return strings.HasSuffix(rel, "-Process-Request-Cancel-200_OK.json") })...)
	fresh := maptest.SameWithScratch(t, func(sc *v3.Scratch) []string {
		// Every request is written before any result is rendered: one
		// that refers to a Space changes with the requests after it.
		outs, errs := make([][]byte, len(bodies)), make([]error, len(bodies))
		for i, b := range bodies {
			env := core.FixedEnv()
			env.Scratch = sc
			outs[i], errs[i] = CancelToV3(b, meta, env)
		}
		got := make([]string, len(bodies))
		for i := range got {
			got[i] = fmt.Sprintf("%s\nerror: %v", outs[i], errs[i])
		}
		return got
	})
	if strings.HasSuffix(fresh[1], "error: <nil>") {
		t.Fatal("the refused request was written")
	}
}
