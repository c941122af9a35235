package gateway

import (
	"io"
	"slices"
	"strings"
)

// EnvNames returns the PORXGATE_* environment variables `porxgate serve`
// reads, sorted: the ones ParseConfig asks for.
func EnvNames() []string {
	var names []string
	_, _ = ParseConfig(nil, func(k string) string {
		if strings.HasPrefix(k, envPrefix) && !slices.Contains(names, k) {
			names = append(names, k)
		}
		return ""
	}, io.Discard)
	slices.Sort(names)
	return names
}

// UnknownEnv returns the PORXGATE_* variables of environ (KEY=value) that
// are neither read by ParseConfig nor named in also, each with the known
// name it most likely misspells ("" when none is close), in environ's
// order. A setting misspelt in the environment is otherwise ignored in
// silence and its default used.
func UnknownEnv(environ []string, also ...string) (unknown, closest []string) {
	known := append(EnvNames(), also...)
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, envPrefix) || slices.Contains(known, k) {
			continue
		}
		best, bestD := "", 3 // at most two edits away
		for _, n := range known {
			if d := editDistance(k, n); d < bestD {
				best, bestD = n, d
			}
		}
		for _, n := range known { // a word left off: PORXGATE_REDIS for PORXGATE_REDIS_URL
			if bestD > 2 && strings.HasPrefix(n, k+"_") && (best == "" || len(n) < len(best)) {
				best = n
			}
		}
		unknown, closest = append(unknown, k), append(closest, best)
	}
	return unknown, closest
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
