package main

import (
	"context"
	"fmt"
	"io"
)

func sim(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) int {
	fmt.Fprintln(stderr, "porxgate sim: the EPS FHIR simulator is not built into this binary yet")
	return 2
}
