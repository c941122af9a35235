package core

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	v3 "github.com/porxgate/porxgate/v3"
)

// Value conversions shared by every interaction family: FHIR date/DateTime
// to and from the v3 TS datatype, decimals, and the small code tables
// (gender, name, telecom and address use) that EPS translates one-to-one.

// V3TimeLayout is the v3 TS layout with seconds, as Spine writes times.
const V3TimeLayout = v3.TimeLayout

// V3DateLayout is the v3 TS layout of a date.
const V3DateLayout = v3.DateLayout

// FHIRDateTimeLayouts are the precisions FHIR date and DateTime allow.
var FHIRDateTimeLayouts = [...]string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02",
	"2006-01",
	"2006",
}

// ParseFHIRDateTime reads a FHIR date or DateTime. A value without a time
// is taken as midnight UTC, as the EPS API does.
func ParseFHIRDateTime(s string) (time.Time, error) {
	if t, ok := parseFHIRDateTimeDigits(s); ok {
		return t, nil
	}
	return parseFHIRDateTimeLayouts(s)
}

// parseFHIRDateTimeLayouts is ParseFHIRDateTime by time.Parse alone (what
// parseFHIRDateTimeDigits leaves, and the reference its tests hold it to).
func parseFHIRDateTimeLayouts(s string) (time.Time, error) {
	if !LooksLikeFHIRDate(s) {
		return time.Time{}, fmt.Errorf("incorrect format for date time %q", s)
	}
	// Only the layouts that can fit s are tried (a failed time.Parse costs
	// allocations): a DateTime has its T at 10 and at least 20 bytes, a
	// date, year-month and year exactly 10, 7 and 4.
	var layouts []string
	switch {
	case len(s) >= 20 && s[10] == 'T':
		layouts = FHIRDateTimeLayouts[:2]
	case len(s) == 10:
		layouts = FHIRDateTimeLayouts[2:3]
	case len(s) == 7:
		layouts = FHIRDateTimeLayouts[3:4]
	case len(s) == 4:
		layouts = FHIRDateTimeLayouts[4:]
	}
	for _, layout := range layouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("incorrect format for date time %q", s)
}

// LooksLikeFHIRDate is a cheap shape check (a year of four digits first)
// that keeps time.Parse from accepting oddities such as signed years.
func LooksLikeFHIRDate(s string) bool {
	if len(s) < 4 {
		return false
	}
	for i := 0; i < 4; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) == 4 || s[4] == '-'
}

// V3TimestampFromFHIR turns a FHIR date or DateTime into a v3 TS with
// seconds in UTC (YYYYMMDDHHmmss), as the EPS API writes author times and
// the prescription's effective time. A date becomes midnight.
func V3TimestampFromFHIR(s string) (string, error) {
	t, err := ParseFHIRDateTime(s)
	if err != nil {
		return "", err
	}
	return v3TimeText(t, len(V3TimeLayout)), nil
}

// V3DateFromFHIR turns a FHIR date or DateTime into a v3 date (YYYYMMDD, UTC).
func V3DateFromFHIR(s string) (string, error) {
	t, err := ParseFHIRDateTime(s)
	if err != nil {
		return "", err
	}
	return v3TimeText(t, len(V3DateLayout)), nil
}

// v3TimeText is t.Format(V3TimeLayout) (n 14) or t.Format(V3DateLayout)
// (n 8) written digit by digit: the layout interpreter costs several times
// more, and a message writes several times. A year outside 0 to 9999,
// which Format writes with a sign or a fifth digit, is left to Format.
func v3TimeText(t time.Time, n int) string {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		if n == len(V3DateLayout) {
			return t.Format(V3DateLayout)
		}
		return t.Format(V3TimeLayout)
	}
	var b [len(V3TimeLayout)]byte
	put := func(at, v, width int) {
		for i := at + width - 1; i >= at; i-- {
			b[i] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, year, 4)
	put(4, int(month), 2)
	put(6, day, 2)
	if n == len(V3DateLayout) {
		return string(b[:len(V3DateLayout)])
	}
	hour, minute, second := t.Clock()
	put(8, hour, 2)
	put(10, minute, 2)
	put(12, second, 2)
	return string(b[:])
}

// V3DateFromFHIRDate turns a FHIR date (no time part) into a v3 date
// (YYYYMMDD); a partial date is filled with the first month or day.
func V3DateFromFHIRDate(s string) (string, error) {
	if strings.Contains(s, "T") {
		return "", fmt.Errorf("incorrect format for date %q", s)
	}
	return V3DateFromFHIR(s)
}

// v3TimeLayouts are the v3 TS precisions read, longest first.
var v3TimeLayouts = [...]string{
	"20060102150405-0700",
	"20060102150405",
	"200601021504",
	"2006010215",
	"20060102",
	"200601",
	"2006",
}

// parseV3Time reads a v3 TS: a year, month, day, hour, minute or second
// precision, seconds with a fraction, and, on a TS with a time, an offset
// of hours or hours and minutes (the MIM's TS is
// [0-9]{1,8}|([0-9]{9,14}|[0-9]{14}\.[0-9]+)([+-][0-9]{1,4})?; Spine
// takes every such value, of which only these are points in time). It
// returns the layout the TS matched: its length tells the precision (4,
// 6, 8: a date; more: a time).
func parseV3Time(ts string) (time.Time, string, error) {
	for _, layout := range v3TimeLayouts {
		if len(layout) != len(ts) {
			continue
		}
		t, err := time.Parse(layout, ts)
		if err == nil {
			return t, layout, nil
		}
	}
	if t, layout, ok := parseV3TimeLong(ts); ok {
		return t, layout, nil
	}
	return time.Time{}, "", fmt.Errorf("%q is not a v3 timestamp (YYYY[MM[DD[HH[mm[ss[.f]]]]]][+ZZ[zz]])", ts)
}

// parseV3TimeLong reads the TS forms beyond v3TimeLayouts: a fraction of
// a second, an offset of hours alone (+ZZ), an offset on a TS of hours or
// minutes.
func parseV3TimeLong(ts string) (time.Time, string, bool) {
	digits := 0
	for digits < len(ts) && ts[digits] >= '0' && ts[digits] <= '9' {
		digits++
	}
	base := ""
	switch digits {
	case 10, 12, 14:
		base = "20060102150405"[:digits]
	default:
		return time.Time{}, "", false
	}
	rest := ts[digits:]
	if len(rest) > 1 && rest[0] == '.' && digits == 14 {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 { // a fraction of 1 to 9 digits (nanoseconds)
			return time.Time{}, "", false
		}
		base += "." + strings.Repeat("0", n-1)
		rest = rest[n:]
	}
	switch len(rest) {
	case 0:
	case 3:
		base += "-07"
	case 5:
		base += "-0700"
	default:
		return time.Time{}, "", false
	}
	if len(rest) > 0 && rest[0] != '+' && rest[0] != '-' {
		return time.Time{}, "", false
	}
	t, err := time.Parse(base, ts)
	if err != nil {
		return time.Time{}, "", false
	}
	return t, base, true
}

// FHIRDateTimeFromV3 turns a v3 TS into a FHIR DateTime. A TS with a time
// becomes YYYY-MM-DDTHH:mm:ss with its offset (+00:00 when it has none); a
// TS of a date, month or year keeps that precision.
func FHIRDateTimeFromV3(ts string) (string, error) {
	if out, ok := fhirTimeFromV3Digits(ts, false); ok {
		return out, nil
	}
	return fhirDateTimeFromV3Parsed(ts)
}

// fhirDateTimeFromV3Parsed is FHIRDateTimeFromV3 by time.Parse and
// time.Format, for every TS: what fhirTimeFromV3Digits reads digit by
// digit it reads as this does.
func fhirDateTimeFromV3Parsed(ts string) (string, error) {
	t, layout, err := parseV3Time(ts)
	if err != nil {
		return "", err
	}
	switch len(layout) {
	case 4:
		return t.Format("2006"), nil
	case 6:
		return t.Format("2006-01"), nil
	case 8:
		return t.Format("2006-01-02"), nil
	}
	if _, frac, ok := strings.Cut(layout, "."); ok {
		// The fraction, to the digits written: FHIR keeps a dateTime's.
		frac, _, _ = strings.Cut(frac, "-")
		return t.Format("2006-01-02T15:04:05." + frac + "-07:00"), nil
	}
	return t.Format("2006-01-02T15:04:05-07:00"), nil
}

// FHIRDateFromV3 turns a v3 TS into a FHIR date at the TS's precision (a time
// part is dropped).
func FHIRDateFromV3(ts string) (string, error) {
	if out, ok := fhirTimeFromV3Digits(ts, true); ok {
		return out, nil
	}
	return fhirDateFromV3Parsed(ts)
}

// fhirDateFromV3Parsed is FHIRDateFromV3 by time.Parse and time.Format,
// for every TS (see fhirDateTimeFromV3Parsed).
func fhirDateFromV3Parsed(ts string) (string, error) {
	t, layout, err := parseV3Time(ts)
	if err != nil {
		return "", err
	}
	switch len(layout) {
	case 4:
		return t.Format("2006"), nil
	case 6:
		return t.Format("2006-01"), nil
	}
	return t.Format("2006-01-02"), nil
}

// Decimal checks that s is a decimal number and returns it as a
// json.Number: the sender's text when JSON (and so FHIR) takes it as it
// is, else, for the other forms the XML Schema decimal v3 values are
// allows (a leading +, leading zeros, no digit before or after the point:
// "+5", "007", ".5", "5."), the same number in JSON's form. Spine takes
// those forms; FHIR cannot hold them as written, so a v3 message made from
// the FHIR writes the number in JSON's form.
func Decimal(s string) (json.Number, error) {
	if IsJSONNumber(s) {
		return json.Number(s), nil
	}
	if n, ok := xmlDecimalAsJSON(s); ok {
		return json.Number(n), nil
	}
	return "", fmt.Errorf("%q is not a decimal number", s)
}

// xmlDecimalAsJSON rewrites an XML Schema decimal
// ((+|-)?([0-9]+(.[0-9]*)?|.[0-9]+)) as a JSON number.
func xmlDecimalAsJSON(s string) (string, bool) {
	sign := ""
	switch {
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	case strings.HasPrefix(s, "-"):
		sign, s = "-", s[1:]
	}
	intPart, frac, dot := strings.Cut(s, ".")
	if intPart == "" && frac == "" || !AllDigits(intPart) || !AllDigits(frac) || !dot && frac != "" {
		return "", false
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	if frac == "" {
		return sign + intPart, true
	}
	return sign + intPart + "." + frac, true
}

// AllDigits reports whether s holds only ASCII digits ("" does).
func AllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// IsJSONNumber reports whether s is a number in JSON's grammar.
func IsJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(s)
}

// GenderToV3 maps FHIR administrative gender to the v3 sex code
// (2.16.840.1.113883.2.1.3.2.4.16.25).
func GenderToV3(g string) (string, error) {
	switch g {
	case "male":
		return "1", nil
	case "female":
		return "2", nil
	case "other":
		return "9", nil
	case "unknown":
		return "0", nil
	}
	return "", fmt.Errorf("unhandled gender %q", g)
}

// GenderFromV3 maps a v3 sex code to FHIR administrative gender.
func GenderFromV3(code string) (string, error) {
	switch code {
	case "1":
		return "male", nil
	case "2":
		return "female", nil
	case "9":
		return "other", nil
	case "0":
		return "unknown", nil
	}
	return "", fmt.Errorf("unhandled sex code %q", code)
}

// NameUseToV3 maps a FHIR HumanName.use to the v3 EntityNameUse.
func NameUseToV3(use string) (string, error) {
	switch use {
	case "usual", "official":
		return "L", nil
	case "temp", "anonymous":
		return "A", nil
	case "nickname":
		return "PREFERRED", nil
	case "old":
		return "PREVIOUS", nil
	case "maiden":
		return "PREVIOUS-MAIDEN", nil
	}
	return "", fmt.Errorf("unhandled name use %q", use)
}

// NameUseFromV3 maps a v3 name use to a FHIR HumanName.use. The MIM's
// use is a set of EntityNameUse codes (set_cs_EntityNameUse in the MIM
// 4.2.00 datatypes: L, A, I, R, ABC, SYL, IDE, PREVIOUS, PREVIOUS-BIRTH,
// PREVIOUS-MAIDEN, PREVIOUS-BACHELOR, PREFERRED), read by readUseSet. I
// (indigenous), R (religious) and the representation codes ABC, SYL and IDE
// have no HumanName.use the EPS API takes: they give none ("").
func NameUseFromV3(use string) (string, error) {
	return readUseSet("name", use, func(code string) (string, bool) {
		switch code {
		case "L":
			return "usual", true
		case "A":
			return "temp", true
		case "PREFERRED":
			return "nickname", true
		case "PREVIOUS", "PREVIOUS-BIRTH":
			return "old", true
		case "PREVIOUS-MAIDEN", "PREVIOUS-BACHELOR":
			return "maiden", true
		case "I", "R", "ABC", "SYL", "IDE":
			return "", true
		}
		return "", false
	})
}

// readUseSet reads a v3 use attribute, a set of codes (an xsd:list: codes
// separated by white space), with one, which maps a code to its FHIR use
// ("" for a code the schema allows that has none) and reports whether the
// schema allows it. Every code must be allowed; the FHIR use, which holds
// one code, is that of the first code that has one, the others being
// carried where the v3 must come back (prescribe's carry.go, Env.KeepV3).
func readUseSet(what, use string, one func(string) (string, bool)) (string, error) {
	out := ""
	for code := range strings.FieldsSeq(use) { // no slice: this runs for every use read
		u, ok := one(code)
		if !ok {
			return "", fmt.Errorf("unhandled %s use %q", what, code)
		}
		if out == "" {
			out = u
		}
	}
	return out, nil
}

// TelecomUseToV3 maps a FHIR ContactPoint.use to the v3 telecom use.
func TelecomUseToV3(use string) (string, error) {
	switch use {
	case "home":
		return "HP", nil
	case "work":
		return "WP", nil
	case "temp":
		return "HV", nil
	case "mobile":
		return "MC", nil
	}
	return "", fmt.Errorf("unhandled telecom use %q", use)
}

// TelecomUseFromV3 maps a v3 telecom use to a FHIR ContactPoint.use. The
// MIM's TEL use is a set of TelecommunicationAddressUse codes
// (set_cs_TelecommunicationAddressUse in the MIM 4.2.00 datatypes: H, HP,
// HV, WP, AS, EC, PG, MC), read by readUseSet. H and HP are home, WP work,
// HV temp and MC and PG mobile, as the EPS API's own translator reads them;
// AS (answering service) and EC (emergency contact) have no ContactPoint.use
// the EPS API takes, and give none ("").
func TelecomUseFromV3(use string) (string, error) {
	return readUseSet("telecom", use, func(code string) (string, bool) {
		switch code {
		case "HP", "H":
			return "home", true
		case "WP":
			return "work", true
		case "HV":
			return "temp", true
		case "MC", "PG":
			return "mobile", true
		case "AS", "EC":
			return "", true
		}
		return "", false
	})
}

// TelecomValueToV3 writes a FHIR phone number as a v3 URL: white space is
// dropped and "tel:" put in front unless it is there already, as the EPS
// API does ("01823 333444" → "tel:01823333444"). White space is what the
// EPS API's value.replace(/\s/g, "") takes out, JavaScript's
// (v3.IsJSSpace: a byte order mark is, a next-line character U+0085 is not).
func TelecomValueToV3(value string) string {
	if !hasSpace(value) {
		if strings.HasPrefix(value, "tel:") {
			return value
		}
		return "tel:" + value
	}
	// One allocation: "tel:" and the value without its white space, as
	// strings.Map dropping v3.IsJSSpace writes it (a byte that is not UTF-8
	// becomes U+FFFD), the prefix then dropped when the value had its own.
	var b strings.Builder
	b.Grow(len("tel:") + len(value) + utf8.UTFMax)
	b.WriteString("tel:")
	for _, r := range value {
		if !v3.IsJSSpace(r) {
			b.WriteRune(r)
		}
	}
	v := b.String()
	if strings.HasPrefix(v[len("tel:"):], "tel:") {
		return v[len("tel:"):]
	}
	return v
}

// hasSpace reports whether s may hold white space as JavaScript sees it:
// an ASCII space character, or any byte beyond ASCII (which may start a
// Unicode space), so that a value without any is taken as it is.
func hasSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf, c == ' ', c >= '\t' && c <= '\r':
			return true
		}
	}
	return false
}

// TelecomValueFromV3 drops the URL scheme of a v3 telecom value.
func TelecomValueFromV3(value string) string {
	if i := strings.IndexByte(value, ':'); i >= 0 {
		return value[i+1:]
	}
	return value
}

// AddressUseToV3 maps a FHIR Address.use to the v3 address use.
func AddressUseToV3(use string) (string, error) {
	switch use {
	case "home":
		return "H", nil
	case "work":
		return "WP", nil
	case "temp":
		return "TMP", nil
	case "billing":
		return "PST", nil
	}
	return "", fmt.Errorf("unhandled address use %q", use)
}

// AddressUseFromV3 maps a v3 address use to a FHIR Address.use. The MIM's
// AD use is a set of PostalAddressUse codes (set_cs_PostalAddressUse in the
// MIM 4.2.00 datatypes: PHYS, PST, TMP, BAD, H, HP, HV, WP, ABC, SYL, IDE),
// read by readUseSet; BP, which the EPS API's translator reads as work, is
// taken too. H and HP are home, WP and BP work, TMP and HV (a vacation home,
// which the EPS API calls temporary in a telecom) temp, PST billing, as the
// EPS API writes them; PHYS, BAD and the representation codes ABC, SYL and
// IDE have no Address.use the EPS API takes, and give none ("").
func AddressUseFromV3(use string) (string, error) {
	return readUseSet("address", use, func(code string) (string, bool) {
		switch code {
		case "H", "HP":
			return "home", true
		case "WP", "BP":
			return "work", true
		case "TMP", "HV":
			return "temp", true
		case "PST":
			return "billing", true
		case "PHYS", "BAD", "ABC", "SYL", "IDE":
			return "", true
		}
		return "", false
	})
}
