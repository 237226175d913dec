package collector

import (
	"fmt"
	"net/url"
	"unicode"
	"unicode/utf8"
)

// CheckValues holds form and query parameters (the /collect bridge's bodies that are
// not JSON) to the limits JSON bodies meet: valid UTF-8 (invalid bytes are refused, not
// replaced), no string longer than MaxString, at most MaxKeys values.
func CheckValues(field string, v url.Values, lim Limits) error {
	lim = lim.withDefaults()
	n := 0
	for k, vs := range v {
		n += 1 + len(vs)
		if n > lim.MaxKeys*2 {
			return badRequest(field, fmt.Sprintf("holds more than %d values", lim.MaxKeys))
		}
		for _, s := range append([]string{k}, vs...) {
			if len(s) > lim.MaxString {
				return badRequest(field, fmt.Sprintf("has a string longer than %d bytes", lim.MaxString))
			}
			if !utf8.ValidString(s) {
				return badRequest(field, "is not valid UTF-8")
			}
		}
	}
	return nil
}

// checkType refuses event types with control characters (NUL, newlines, C1 controls)
// or invalid UTF-8: a type names a kind of event in reports, rules and URLs.
func checkType(field, t string) error {
	if !utf8.ValidString(t) {
		return badRequest(field, "is not valid UTF-8")
	}
	for _, r := range t {
		if unicode.IsControl(r) {
			return badRequest(field, fmt.Sprintf("must not contain control characters (found %U)", r))
		}
	}
	return nil
}
