package release_test

import (
	"testing"

	"github.com/porxgate/porxgate/mapping/maptest"
	"github.com/porxgate/porxgate/mapping/release"
)

// FuzzReleaseRequestV3ToFHIR: no release request, however malformed, makes
// the reader panic; one it reads becomes FHIR that writes back.
func FuzzReleaseRequestV3ToFHIR(f *testing.F) {
	f.Add(maptest.Testdata(f, "release/"+"nominated-release-request-060102.xml"))
	f.Fuzz(func(t *testing.T, data []byte) {
		env := relEnv()
		body, meta, err := release.ReleaseRequestToFHIR(data, env)
		if err != nil {
			return
		}
		if _, err := release.ReleaseRequestToV3(body, meta, env); err != nil {
			t.Fatalf("FHIR read from v3 does not write back: %v\n%s", err, body)
		}
	})
}

// FuzzReleaseResponseV3ToFHIR: no release response, however malformed,
// makes the reader (or the writer of what it read) panic.
func FuzzReleaseResponseV3ToFHIR(f *testing.F) {
	f.Add(maptest.Testdata(f, "release/"+"patient-release-response-070103.xml"))
	f.Fuzz(func(t *testing.T, data []byte) {
		env := relEnv()
		body, meta, err := release.ReleaseResponseToFHIR(data, env)
		if err != nil {
			return
		}
		_, _ = release.ReleaseResponseToV3(body, meta, env)
	})
}
