package domain

import (
	"encoding/json"
	"strings"
	"unicode"
)

// Segment is a named condition over the profile. Profiles that match an enabled
// segment carry its machine name in profile.segments; the segmentation stage keeps
// that list right after every profile change, and a batch job after every change of
// the segment.
type Segment struct {
	Meta
	// MachineName is what profile.segments holds: derived from the name on every
	// save (see SegmentMachineName), unique among segments.
	MachineName string `json:"machine_name"`
	// Condition is a condition-language expression over the profile; fields may
	// leave out the scope ("stats.visits > 3" reads as "profile@stats.visits > 3").
	Condition string `json:"condition"`
	// EventTypes, when not empty, limit evaluation during /track to requests that
	// carry an event of one of these types. Batch re-evaluation ignores them.
	EventTypes []string `json:"event_types"`
}

// SegmentMachineName derives a segment's machine name from its name: lower case,
// every run of characters other than letters and digits turned into one '-', no '-'
// at either end ("Returning customers (EU)" → "returning-customers-eu").
func SegmentMachineName(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
}

// EventType is the configurable part of an event type: how events of that type change
// the profile beyond the built-in copy rules. Its id is the (normalised) type.
type EventType struct {
	Meta
	// ProfileMapping runs in order after the built-in copy rules of the type.
	ProfileMapping []ProfileMapping `json:"profile_mapping"`
	// Schema is a JSON Schema (draft 2020-12 unless it names another in $schema)
	// that the properties of events of the type must satisfy.
	Schema json.RawMessage `json:"schema,omitempty"`
	// OnInvalid says what happens to an event that fails Schema: OnInvalidReject
	// (the default) answers 422 at /track and stores nothing; OnInvalidStore stores
	// it with metadata.status "invalid" and skips mappings, rules and segments for it.
	OnInvalid string `json:"on_invalid,omitempty"`
}

// What happens to an event that fails its type's schema.
const (
	OnInvalidReject = "reject"
	OnInvalidStore  = "store"
)

// ProfileMapping copies one value of an event onto the profile.
type ProfileMapping struct {
	// From is a field reference, "event@properties.email" (also session@ and
	// profile@); empty only for increment (by one) and delete.
	From string `json:"from,omitempty"`
	// To is a profile field under traits, data, aux, stats.counters or interests:
	// "profile@data.contact.email.main".
	To string `json:"to"`
	// Op is one of the MapOp constants.
	Op string `json:"op"`
	// Condition, when set, must hold (over event, session and profile) for the
	// mapping to apply.
	Condition string `json:"condition,omitempty"`
}

// Profile mapping operations.
const (
	MapEquals            = "equals"
	MapEqualsIfNotExists = "equals-if-not-exists"
	MapAppend            = "append"
	MapIncrement         = "increment"
	MapDelete            = "delete"
)
