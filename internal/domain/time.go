// Package domain holds ThamesThrive's data model: profiles, sessions, events and the
// configuration entities that shape how they are processed. It depends on the standard
// library only; storage, collector and API packages all speak in these types.
package domain

import (
	"encoding/json"
	"fmt"
	"time"
)

// TimeLayout is the one layout every stored time uses: UTC with a fixed six-digit
// fraction. Fixed width matters: it makes lexical order equal time order, so SQL and
// search-index range queries on the raw strings stay correct.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// Time is a time.Time that marshals in TimeLayout and unmarshals any RFC 3339 form.
// The zero Time marshals as null.
type Time struct{ time.Time }

// Now returns the current time truncated to the stored precision.
func Now() Time { return Time{time.Now().UTC().Truncate(time.Microsecond)} }

// NewTime wraps t, converting it to UTC at the stored precision.
func NewTime(t time.Time) Time { return Time{t.UTC().Truncate(time.Microsecond)} }

// String formats t in TimeLayout, or "" for the zero time.
func (t Time) String() string {
	if t.IsZero() {
		return ""
	}
	return string(t.appendText(make([]byte, 0, len(TimeLayout))))
}

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return appendTime(make([]byte, 0, len(TimeLayout)+2), t), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("time must be an RFC 3339 string")
	}
	p, err := ParseTime(s)
	if err != nil {
		return err
	}
	*t = p
	return nil
}

// ParseTime parses an RFC 3339 time (with or without fraction) or a plain date.
func ParseTime(s string) (Time, error) {
	if s == "" {
		return Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if p, err := time.Parse(layout, s); err == nil {
			return NewTime(p), nil
		}
	}
	return Time{}, fmt.Errorf("time %q is not RFC 3339", s)
}
