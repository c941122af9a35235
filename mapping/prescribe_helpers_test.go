package mapping

import (
	"fmt"
	"time"

	v3 "github.com/porxgate/porxgate/v3"
)

// testEnv is a deterministic environment: a fixed clock, counter UUIDs and
// the UK family.
func testEnv() Env {
	n := 0
	return Env{
		Now:    time.Date(2024, 6, 7, 8, 9, 10, 0, time.UTC),
		Family: v3.FamilyUK,
		NewID: func() string {
			n++
			return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
		},
	}
}
