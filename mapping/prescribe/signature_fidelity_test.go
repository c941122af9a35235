package prescribe_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/porxgate/porxgate/internal/corpustest"
	"github.com/porxgate/porxgate/mapping/core"
	"github.com/porxgate/porxgate/mapping/prescribe"
	v3 "github.com/porxgate/porxgate/v3"
)

// fragmentsDigest parses a v3 message and returns the SHA-256 digest of its
// ParentPrescription's signature fragments after Exclusive C14N.
func fragmentsDigest(t *testing.T, msg []byte) (string, v3.Node) {
	t.Helper()
	_, root, err := v3.Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := v3.PrescriptionDigest(root, v3.DigestSHA256)
	if err != nil {
		t.Fatalf("signature fragments digest: %v", err)
	}
	return d, root
}

// TestSignatureFidelity is issue 3's signature rule, checked directly: for
// every corpus Send pair and every signed prescription, the signature
// fragments of the original v3 (Exclusive C14N bytes and SHA-256 digest)
// equal those re-derived from the FHIR porxgate makes of it; and for every
// Send request, the fragments of porxgate's v3 equal those of the EPS API's.
func TestSignatureFidelity(t *testing.T) {
	dir := corpustest.Dir(t)
	e := core.FixedEnv()
	sends := corpustest.Walk(t, func(rel string) bool { return strings.HasSuffix(rel, "-Convert-Response-Send-200_OK.xml") })
	if len(sends) != 20 {
		t.Fatalf("%d Send pairs in the corpus, want 20", len(sends))
	}
	var messages []string
	messages = append(messages, sends...)
	signed := corpustest.Walk(t, func(rel string) bool {
		return strings.HasPrefix(rel, "signed-prescriptions") && strings.HasSuffix(rel, ".xml")
	})
	messages = append(messages, signed...)
	for _, f := range messages {
		rel, _ := filepath.Rel(dir, f)
		t.Run(rel, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			msg := raw
			if strings.HasPrefix(rel, "signed-prescriptions") {
				msg = wrapParentPrescription(t, raw)
			}
			want, orig := fragmentsDigest(t, msg)
			body, meta, err := prescribe.PrescribeToFHIR(msg, e)
			if err != nil {
				t.Fatalf("v3 → FHIR: %v", err)
			}
			back, err := prescribe.PrescribeToV3(body, meta, e)
			if err != nil {
				t.Fatalf("FHIR → v3: %v", err)
			}
			got, rederived := fragmentsDigest(t, back)
			if err := v3.CompareSignatureFragments(orig, rederived); err != nil {
				t.Fatalf("fragments differ: %v", err)
			}
			if got != want {
				t.Fatalf("fragments digest %s, want %s", got, want)
			}
			if !strings.HasSuffix(rel, "-Convert-Response-Send-200_OK.xml") {
				return
			}
			reqName := strings.Replace(filepath.Base(f), "-Convert-Response-Send-200_OK.xml", "-Process-Request-Send-200_OK.json", 1)
			req, err := os.ReadFile(filepath.Join(filepath.Dir(f), reqName))
			if err != nil {
				t.Fatal(err)
			}
			ours, err := prescribe.PrescribeToV3(req, core.Meta{}, e)
			if err != nil {
				t.Fatalf("FHIR request → v3: %v", err)
			}
			if d, _ := fragmentsDigest(t, ours); d != want {
				t.Fatalf("fragments of porxgate's v3 from the FHIR request: digest %s, want the EPS API's %s", d, want)
			}
		})
	}
}
