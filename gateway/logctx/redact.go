package logctx

import (
	"log/slog"
	"regexp"
	"strings"
)

// Redacted stands in a log line for what was taken out of it.
const Redacted = "[redacted]"

// RedactedNHSNumber stands in a log line for an NHS number.
const RedactedNHSNumber = "[nhs-number]"

// nhsNumberRE finds ten digits standing alone, written together or
// spaced 3 3 4 (with spaces or hyphens): an NHS number's shape. Valid or
// not, such a number in a line is most likely a patient's.
var nhsNumberRE = regexp.MustCompile(`\b\d{3}[ -]?\d{3}[ -]?\d{4}\b`)

// quotedRE finds a double-quoted value, Go-escaped or not: mapping and
// parse errors quote the offending value from the payload so.
var quotedRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// entityRE finds a character entity reference as an XML reader's error
// quotes it ("invalid character entity &JONES;"): the text after an
// unescaped & in a payload, which may be the patient's.
var entityRE = regexp.MustCompile(`&[^\s;&<>"']*;?`)

// xmlNameRE finds the name an XML reader's error quotes unquoted
// ("invalid XML name: 1JONES").
var xmlNameRE = regexp.MustCompile(`(invalid XML name: )\S+`)

// freeTextKeys are the keys whose values are error or outcome texts: they
// may quote a payload's or EPS's values, so quoted values are taken out
// of them.
var freeTextKeys = map[string]bool{
	"err": true, "error": true, "reason": true, "outcome_text": true, "detail": true,
	"description": true, "fault": true, // the MessageError or SOAP fault a refusal answers, which may quote the parse error
}

// RedactText takes NHS numbers out of s.
func RedactText(s string) string {
	if !mayHoldNHSNumber(s) {
		return s // most values (ids, codes, names of steps): no regexp run
	}
	return nhsNumberRE.ReplaceAllString(s, RedactedNHSNumber)
}

// mayHoldNHSNumber reports whether s has the ten digits an NHS number
// needs: every string of every log line passes RedactText, and few hold
// that many.
func mayHoldNHSNumber(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			if n++; n == 10 {
				return true
			}
		}
	}
	return false
}

// RedactFreeText takes NHS numbers, quoted values and what XML readers
// quote of a broken payload (entity references, invalid names) out of an
// error or outcome text.
func RedactFreeText(s string) string {
	s = quotedRE.ReplaceAllString(RedactText(s), `"`+Redacted+`"`)
	s = entityRE.ReplaceAllString(s, "&"+Redacted)
	return xmlNameRE.ReplaceAllString(s, "${1}"+Redacted)
}

// redactAttr returns a with patient identifiers taken out of its value:
// NHS numbers out of every string (an error too, as its text), and quoted
// values out of the free texts (freeTextKeys); groups are redacted
// member by member.
func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, redactValue(a.Key, v.String()))
	case slog.KindGroup:
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(redactAttrs(v.Group())...)}
	case slog.KindAny:
		if err, ok := v.Any().(error); ok && err != nil {
			return slog.String(a.Key, redactValue(a.Key, err.Error()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// redactAttrs returns attrs redacted (redactAttr).
func redactAttrs(attrs []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = redactAttr(a)
	}
	return out
}

// freeText reports whether key's values are free texts: one of
// freeTextKeys, or a key naming an error, a reason or a text
// ("last_error", "reason_was", "status_text").
func freeText(key string) bool {
	return freeTextKeys[key] || strings.Contains(key, "err") || strings.Contains(key, "reason") || strings.HasSuffix(key, "_text")
}

// redactValue redacts s, the value of key.
func redactValue(key, s string) string {
	if freeText(key) {
		return RedactFreeText(s)
	}
	return RedactText(s)
}
