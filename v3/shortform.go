package v3

import (
	"fmt"
	"strings"
)

// shortFormAlphabet is the ISO 7064 MOD 37-2 character set as EPS uses it,
// with '+' standing in for the standard '*'.
const shortFormAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ+"

// ShortFormCheckChar computes the ISO 7064 MOD 37-2 check character of the
// first 17 characters (with hyphens) of a short-form prescription id.
func ShortFormCheckChar(body string) (byte, error) {
	total := 0
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '-' {
			continue
		}
		v := strings.IndexByte(shortFormAlphabet, c)
		if v < 0 || v == 36 {
			return 0, fmt.Errorf("short-form prescription id: invalid character %q", c)
		}
		total = ((total + v) * 2) % 37
	}
	check := (38 - total) % 37
	return shortFormAlphabet[check], nil
}

// ValidateShortFormID checks the shape XXXXXX-OOOOOO-XXXXXC of a short-form
// prescription id (6 upper-case hex, the prescriber's ODS code as 6 of
// 0-9A-Z, 5 upper-case hex) and its check character.
func ValidateShortFormID(id string) error {
	if len(id) != 20 || id[6] != '-' || id[13] != '-' {
		return fmt.Errorf("short-form prescription id %q: want the shape XXXXXX-XXXXXX-XXXXXC", id)
	}
	for i := 0; i < 19; i++ {
		c := id[i]
		switch {
		case i == 6 || i == 13:
		case i > 6 && i < 13:
			if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
				return fmt.Errorf("short-form prescription id %q: character %d (%q) is not 0-9A-Z", id, i+1, c)
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
				return fmt.Errorf("short-form prescription id %q: character %d (%q) is not upper-case hexadecimal", id, i+1, c)
			}
		}
	}
	want, err := ShortFormCheckChar(id[:19])
	if err != nil {
		return fmt.Errorf("short-form prescription id %q: %w", id, err)
	}
	if id[19] != want {
		return fmt.Errorf("short-form prescription id %q has invalid checksum: check character %q, want %q", id, id[19], want)
	}
	return nil
}
