package gateway

// breakerTrouble says how the worst of the circuit breakers stands:
// "breaker open", "breaker half-open", or "" when all are closed.
func breakerTrouble(states map[string]string) string {
	worst := ""
	for _, st := range states {
		switch st {
		case "open":
			return "breaker open"
		case "half-open":
			worst = "breaker half-open"
		}
	}
	return worst
}
