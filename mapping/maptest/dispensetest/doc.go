// Package dispensetest is test support for the dispensing-side interaction
// families of mapping: dispense (dispense notification, rebuild), claim
// (dispense claim, reimbursement and no-claim) and task (return, withdraw).
// Their external tests share through it one deterministic Env, the runners
// of the malformed-input tables both ways (v3 → FHIR and FHIR → v3), the
// fixture round trip v3 → FHIR → v3 under the corpus comparison rules, and
// the bodies of the fuzz targets.
//
// It builds on mapping/core, mapping/maptest and mapping/conformance (and so
// on the mapping face), which is why only external test packages
// (dispense_test, claim_test, task_test, mapping_test) may import it; the
// shared core's own tests use mapping/maptest instead.
package dispensetest

import (
	"time"

	"github.com/porxgate/porxgate/mapping/core"
	v3 "github.com/porxgate/porxgate/v3"
)

// Env returns the deterministic environment the dispensing-side tests
// translate under: the clock pinned at 2024-03-11 09:30 UTC, the UK
// interaction id family (so the short-form id check character is enforced)
// and ids counting up, one sequence per call.
func Env() core.Env {
	return core.FixedEnvAt(time.Date(2024, 3, 11, 9, 30, 0, 0, time.UTC), v3.FamilyUK)
}
