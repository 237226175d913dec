package domain

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ConsentType is a kind of consent a profile can grant or deny ("marketing e-mails"),
// referred to by its id in the profile's consents.
type ConsentType struct {
	Meta
	// Revokable says whether a granted consent can be withdrawn.
	Revokable bool `json:"revokable"`
	// DefaultValue is what a profile that never answered is taken to have said:
	// ConsentGrant or ConsentDeny.
	DefaultValue string `json:"default_value"`
	// AutoRevoke, when set, is how long a grant lasts before it is revoked: an ISO 8601
	// duration ("P30D", "P1Y", "PT12H") or a Go duration ("720h"). Only revokable
	// consents expire.
	AutoRevoke string `json:"auto_revoke,omitempty"`
}

// Default values of a consent type.
const (
	ConsentGrant = "grant"
	ConsentDeny  = "deny"
)

// FieldError is a validation error naming the field at fault.
type FieldError struct {
	Field, Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Validate checks and normalises c's own fields (not Meta's).
func (c *ConsentType) Validate() error {
	c.DefaultValue = strings.ToLower(strings.TrimSpace(c.DefaultValue))
	switch c.DefaultValue {
	case "":
		c.DefaultValue = ConsentDeny
	case ConsentGrant, ConsentDeny:
	default:
		return &FieldError{"default_value", `must be "grant" or "deny"`}
	}
	c.AutoRevoke = strings.TrimSpace(c.AutoRevoke)
	if c.AutoRevoke == "" {
		return nil
	}
	d, err := ParseDuration(c.AutoRevoke)
	if err != nil {
		return &FieldError{"auto_revoke", err.Error()}
	}
	if d <= 0 {
		return &FieldError{"auto_revoke", "must be a positive duration"}
	}
	if !c.Revokable {
		return &FieldError{"auto_revoke", "needs revokable: a consent that cannot be withdrawn cannot expire"}
	}
	return nil
}

// AutoRevokeAfter returns how long a grant lasts (0: for ever).
func (c *ConsentType) AutoRevokeAfter() time.Duration {
	d, _ := ParseDuration(c.AutoRevoke)
	return d
}

var isoDuration = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

// ParseDuration reads an ISO 8601 duration (PnYnMnWnDTnHnMnS, a year counted as 365
// days and a month as 30) or a Go duration ("90m", "720h").
func ParseDuration(s string) (time.Duration, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(u, "P") {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%q must be an ISO 8601 duration such as P30D, or a duration such as 720h", s)
		}
		return d, nil
	}
	m := isoDuration.FindStringSubmatch(u)
	if m == nil || u == "P" || strings.HasSuffix(u, "T") {
		return 0, fmt.Errorf("%q must be an ISO 8601 duration such as P30D, P1Y or PT12H", s)
	}
	units := []time.Duration{365 * 24 * time.Hour, 30 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second}
	var total time.Duration
	for i, unit := range units {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || n > 1<<20 {
			return 0, fmt.Errorf("%q: %s is too large", s, m[i+1])
		}
		total += time.Duration(n) * unit
	}
	return total, nil
}
