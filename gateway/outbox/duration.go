package outbox

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseDuration reads a Go duration ("90s", "1m30s") or an ISO 8601
// duration of days, hours, minutes and seconds as SDS writes Spine's
// reliability settings ("PT1M", "PT4M", "P1DT2H", "PT0.5S").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if s[0] != 'P' && s[0] != 'p' {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("duration %q: want Go (90s) or ISO 8601 (PT1M30S) form", s)
		}
		return d, nil
	}
	return parseISODuration(s)
}

// parseISODuration reads PnDTnHnMnS (any part optional, at least one
// present; only the last number may carry a fraction).
func parseISODuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("duration %q: want Go (90s) or ISO 8601 (PT1M30S) form", s)
	rest := strings.ToUpper(s[1:])
	var total float64
	inTime, parts := false, 0
	units := map[bool]map[byte]float64{
		false: {'D': float64(24 * time.Hour)},
		true:  {'H': float64(time.Hour), 'M': float64(time.Minute), 'S': float64(time.Second)},
	}
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return 0, bad
			}
			inTime, rest = true, rest[1:]
			if rest == "" {
				return 0, bad
			}
			continue
		}
		i := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i <= 0 {
			return 0, bad
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil || n < 0 {
			return 0, bad
		}
		mult, ok := units[inTime][rest[i]]
		if !ok {
			return 0, bad
		}
		total += n * mult
		parts++
		rest = rest[i+1:]
	}
	if parts == 0 || total > math.MaxInt64 {
		return 0, bad
	}
	return time.Duration(total), nil
}
