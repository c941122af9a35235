package mapping_test

import (
	"fmt"

	"github.com/porxgate/porxgate/mapping"
)

// Find the translator of a legacy interaction.
func ExampleRegistry_ByInteraction() {
	r := mapping.NewRegistry()
	t := r.ByInteraction("PORX_IN020101UK31")
	fmt.Println(t.Kind, t.Interactions)
	// Output:
	// Send [PORX_IN020101UK31 PORX_IN020102UK31]
}
