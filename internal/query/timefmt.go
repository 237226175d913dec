package query

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// ParseTime parses the date and time forms every back end agrees on:
//
//	2024-01-31
//	2024-01-31T10:20:30Z
//	2024-01-31T10:20:30.123456Z
//	2024-01-31T10:20:30+02:00   (offsets up to ±14:00)
//
// A date alone is midnight UTC. The fraction may have 1 to 9 digits. The
// result is in UTC. A day past the end of its month (up to 31) rolls over
// into the next month, as Elasticsearch's date fields and SQLite's
// julianday() do: 2024-02-30 is 2024-03-01. Anything else (other
// separators, missing seconds or zone, month 13, hour 24) is not a time.
func ParseTime(s string) (time.Time, bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 || day > 31 {
		return time.Time{}, false
	}
	if len(s) == 10 {
		return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), true
	}
	if len(s) < 20 || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	hour, ok1 := digits(s[11:13])
	minute, ok2 := digits(s[14:16])
	sec, ok3 := digits(s[17:19])
	if !ok1 || !ok2 || !ok3 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest := s[19:]
	nsec := 0
	if rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		nd := i - 1
		if nd < 1 || nd > 9 {
			return time.Time{}, false
		}
		f, _ := digits(rest[1:i])
		for k := nd; k < 9; k++ {
			f *= 10
		}
		nsec = f
		rest = rest[i:]
	}
	var off time.Duration
	switch {
	case rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := digits(rest[1:3])
		om, ok2 := digits(rest[4:6])
		if !ok1 || !ok2 || oh > 14 || om > 59 {
			return time.Time{}, false
		}
		off = time.Duration(oh)*time.Hour + time.Duration(om)*time.Minute
		if rest[0] == '-' {
			off = -off
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-off), true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

// ValidDate reports whether the date part of s (its first ten bytes,
// YYYY-MM-DD) names a real day, without rolling over.
func ValidDate(s string) bool {
	if len(s) < 10 {
		return false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	return ok1 && ok2 && ok3 && month >= 1 && month <= 12 && day >= 1 && day <= daysIn(month, year)
}

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

// MaxOffset bounds now.offset(…) in both directions.
const MaxOffset = 100 * 365 * 24 * time.Hour

var offsetUnits = map[byte]time.Duration{
	's': time.Second, 'm': time.Minute, 'h': time.Hour,
	'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour,
}

// ParseOffset parses the argument of now.offset: an optional sign and one
// or more <number><unit> pairs, units s, m, h, d (24h) and w (7d), as in
// "-15m", "1h30m" or "+2w". Days and weeks are fixed lengths, not
// calendar days.
func ParseOffset(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty offset")
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	if s == "" {
		return 0, errors.New("offset has no amount")
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, errors.New("offset amount must be a whole number followed by s, m, h, d or w")
		}
		if i == len(s) {
			return 0, errors.New("offset amount has no unit (s, m, h, d or w)")
		}
		unit, ok := offsetUnits[s[i]]
		if !ok {
			return 0, errors.New("unknown offset unit " + strconv.Quote(s[i:i+1]) + " (use s, m, h, d or w)")
		}
		if i > 12 {
			return 0, errors.New("offset out of range")
		}
		n, _ := strconv.ParseInt(s[:i], 10, 64)
		if n > int64(MaxOffset/unit) {
			return 0, errors.New("offset out of range")
		}
		total += time.Duration(n) * unit
		if total > MaxOffset {
			return 0, errors.New("offset out of range")
		}
		s = s[i+1:]
	}
	if neg {
		total = -total
	}
	return total, nil
}

// FormatOffset formats d the way ParseOffset reads it, largest units
// first ("-1h30m", "2w3d", "0s").
func FormatOffset(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	for _, u := range []struct {
		c byte
		d time.Duration
	}{{'w', 7 * 24 * time.Hour}, {'d', 24 * time.Hour}, {'h', time.Hour}, {'m', time.Minute}, {'s', time.Second}} {
		if n := d / u.d; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteByte(u.c)
			d -= n * u.d
		}
	}
	if b.Len() == 0 || b.String() == "-" {
		b.WriteString("0s")
	}
	return b.String()
}
