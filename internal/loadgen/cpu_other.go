//go:build !unix

package loadgen

import "time"

// processCPU is the CPU time this process has used so far; elsewhere
// than on Unix it is not measured (false).
func processCPU() (time.Duration, bool) { return 0, false }
