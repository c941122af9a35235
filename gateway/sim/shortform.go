package sim

import (
	"fmt"
	"strings"

	v3 "github.com/porxgate/porxgate/v3"
)

// checkShortFormID validates a short-form prescription id
// XXXXXX-OOOOOO-XXXXXC with its check character.
func checkShortFormID(id string) error { return v3.ValidateShortFormID(id) }

// MakeShortFormID builds a valid short-form prescription id for test and
// load traffic: n's low 24 bits in the first group and its high 8 bits in
// the third (hex), the prescriber's ODS
// code zero-padded to 6, and the right check character. ods must be 0-9A-Z
// and at most 6 characters long.
func MakeShortFormID(n uint32, ods string) (string, error) {
	ods = strings.ToUpper(ods)
	if len(ods) == 0 || len(ods) > 6 {
		return "", fmt.Errorf("ODS code %q: want 1 to 6 characters", ods)
	}
	for i := 0; i < len(ods); i++ {
		if c := ods[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return "", fmt.Errorf("ODS code %q: character %q is not 0-9A-Z", ods, c)
		}
	}
	ods = strings.Repeat("0", 6-len(ods)) + ods
	a := fmt.Sprintf("%06X", n&0xFFFFFF)
	b := fmt.Sprintf("%05X", n>>24)
	body := a + ods + b
	c, err := v3.ShortFormCheckChar(body)
	if err != nil {
		return "", fmt.Errorf("ODS code %q: %w", ods, err)
	}
	return a + "-" + ods + "-" + b + string(c), nil
}
