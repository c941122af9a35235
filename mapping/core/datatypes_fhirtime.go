package core

import "time"

// parseFHIRDateTimeDigits reads the two shapes of FHIR date and DateTime
// that messages carry, a date (2006-01-02) and a DateTime to the second
// with an optional fraction of one to nine digits and a Z or a ±hh:mm
// offset, digit by digit, as time.Parse with ParseFHIRDateTime's layouts
// reads them (a DateTime's instant in UTC): the layout interpreter costs
// several times more, and every FHIR → v3 message reads several. ok is
// false for anything else, which ParseFHIRDateTime leaves to time.Parse:
// other precisions, a one-digit hour, a comma before the fraction, an
// offset of 24 hours or 60 minutes, and every value time.Parse refuses.
func parseFHIRDateTimeDigits(s string) (t time.Time, ok bool) {
	if len(s) != 10 && len(s) < 20 {
		return time.Time{}, false
	}
	year, ok1 := digits(s, 0, 4)
	month, ok2 := digits(s, 5, 2)
	day, ok3 := digits(s, 8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return time.Time{}, false
	}
	if len(s) == 10 {
		return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), true
	}
	hour, ok1 := digits(s, 11, 2)
	minute, ok2 := digits(s, 14, 2)
	second, ok3 := digits(s, 17, 2)
	if !ok1 || !ok2 || !ok3 || s[10] != 'T' || s[13] != ':' || s[16] != ':' || hour > 23 || minute > 59 || second > 59 {
		return time.Time{}, false
	}
	rest, nsec := s[19:], 0
	if rest[0] == '.' {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 || n > 10 {
			return time.Time{}, false
		}
		frac, _ := digits(rest, 1, n-1)
		for i := n - 1; i < 9; i++ {
			frac *= 10
		}
		rest, nsec = rest[n:], frac
	}
	offset := 0
	switch {
	case rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := digits(rest, 1, 2)
		om, ok2 := digits(rest, 4, 2)
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	t = time.Date(year, time.Month(month), day, hour, minute, second, nsec, time.UTC)
	if offset != 0 {
		t = t.Add(-time.Duration(offset) * time.Second)
	}
	return t, true
}

// fhirTimeFromV3Digits is FHIRDateTimeFromV3 (date: FHIRDateFromV3) of
// the two TS shapes messages carry, a date (20060102) and a time to the
// second without an offset (20060102150405), read digit by digit as
// parseV3Time reads them with time.Parse (a month of 01 to 12, a day of
// the month, an hour below 24, a minute and a second below 60; no offset
// is UTC) and written as time.Format writes them: 2006-01-02, or
// 2006-01-02T15:04:05+00:00 (a date alone, when date asks for it). The
// layout interpreter costs several times more, and every v3 → FHIR
// message converts several. ok is false for anything else, which the
// callers leave to time.Parse: other precisions, an offset, a fraction,
// anything not all digits, and every value time.Parse refuses.
func fhirTimeFromV3Digits(ts string, date bool) (out string, ok bool) {
	if len(ts) != 8 && len(ts) != 14 {
		return "", false
	}
	year, ok1 := digits(ts, 0, 4)
	month, ok2 := digits(ts, 4, 2)
	day, ok3 := digits(ts, 6, 2)
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
		return "", false
	}
	var b [len("2006-01-02T15:04:05+00:00")]byte
	copy(b[:], ts[:4])
	b[4] = '-'
	copy(b[5:], ts[4:6])
	b[7] = '-'
	copy(b[8:], ts[6:8])
	if len(ts) == 8 {
		return string(b[:10]), true
	}
	hour, ok1 := digits(ts, 8, 2)
	minute, ok2 := digits(ts, 10, 2)
	second, ok3 := digits(ts, 12, 2)
	if !ok1 || !ok2 || !ok3 || hour > 23 || minute > 59 || second > 59 {
		return "", false
	}
	if date {
		return string(b[:10]), true
	}
	b[10] = 'T'
	copy(b[11:], ts[8:10])
	b[13] = ':'
	copy(b[14:], ts[10:12])
	b[16] = ':'
	copy(b[17:], ts[12:14])
	copy(b[19:], "+00:00")
	return string(b[:]), true
}

// digits reads the n decimal digits of s at at (s holds them: the callers
// have checked its length).
func digits(s string, at, n int) (int, bool) {
	v := 0
	for i := at; i < at+n; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// daysIn is the number of days of month (1 to 12) in year, as time.Parse
// checks a day.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
