package prescribe

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/porxgate/porxgate/fhir"
	"github.com/porxgate/porxgate/internal/corpustest"
	v3 "github.com/porxgate/porxgate/v3"
)

// preparedResponseCopies are corpus Prepare pairs whose response is a copy of
// another scenario's (byte-identical digest for a different request), so no
// implementation can reproduce them.
var preparedResponseCopies = map[string]bool{
	"Prepare-Request-Multiple-Dosages": true,
	"eRD-primary-example-req.json":     true,
}

// TestPrepareDigestOnCorpus checks that porxgate's $prepare digest for every
// corpus Prepare-Request equals the digest of its Prepare-Response, taking
// the response's timestamp as the time of the call.
func TestPrepareDigestOnCorpus(t *testing.T) {
	reqs := corpustest.Walk(t, func(rel string) bool {
		base := filepath.Base(rel)
		return strings.Contains(base, "Prepare-Request") || (strings.Contains(rel, "prepare") && strings.HasSuffix(base, "-req.json"))
	})
	matched, checked := 0, 0
	for _, reqPath := range reqs {
		resPath := strings.Replace(strings.Replace(reqPath, "Prepare-Request", "Prepare-Response", 1), "-req.json", "-res.json", 1)
		req, err := os.ReadFile(reqPath)
		if err != nil {
			t.Fatal(err)
		}
		resBody, err := os.ReadFile(resPath)
		if err != nil {
			t.Fatalf("%s: no paired response: %v", reqPath, err)
		}
		res, err := fhir.DecodeResource(resBody)
		if err != nil {
			t.Fatal(err)
		}
		params, ok := res.(*fhir.Parameters)
		if !ok {
			continue // an error example: EPS refuses the request
		}
		checked++
		want := *params.Find("digest").ValueString
		ts, err := time.Parse("2006-01-02T15:04:05-07:00", *params.Find("timestamp").ValueString)
		if err != nil {
			t.Fatal(err)
		}
		alg := v3.DigestSHA256
		if a := params.Find("algorithm"); a != nil && a.ValueString != nil && *a.ValueString == "RS1" {
			alg = v3.DigestSHA1
		}
		got, err := Prepare(req, ts, alg)
		copied := false
		for name := range preparedResponseCopies {
			copied = copied || strings.Contains(reqPath, name)
		}
		switch {
		case err != nil:
			t.Errorf("%s: %v", reqPath, err)
		case got.Digest == want:
			matched++
		case copied:
			t.Logf("%s: digest differs, as expected for a copied response", reqPath)
		default:
			t.Errorf("%s: $prepare digest differs from the corpus response", reqPath)
		}
	}
	t.Logf("$prepare digests reproduced: %d of %d successful corpus Prepare pairs", matched, checked)
	if matched == 0 {
		t.Fatal("no Prepare pairs reproduced")
	}
}
