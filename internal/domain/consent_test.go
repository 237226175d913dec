package domain

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	day := 24 * time.Hour
	for in, want := range map[string]time.Duration{"P30D": 30 * day, "p1y": 365 * day, "P2W": 14 * day, "PT12H": 12 * time.Hour,
		"P1DT1M": day + time.Minute, "720h": 720 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("%s: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "P", "PT", "P1H", "30 days", "P-1D", "P99999999999999999999D"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
}

func TestConsentTypeValidate(t *testing.T) {
	ok := []ConsentType{{DefaultValue: "grant"}, {DefaultValue: "Deny"}, {}, {Revokable: true, AutoRevoke: "P30D"}}
	for _, c := range ok {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	bad := map[string]ConsentType{"default_value": {DefaultValue: "maybe"}, "auto_revoke": {AutoRevoke: "P30D"}}
	for field, c := range bad {
		err := c.Validate()
		if fe, isFE := err.(*FieldError); !isFE || fe.Field != field {
			t.Errorf("%+v: %v, want an error on %s", c, err, field)
		}
	}
	bad2 := ConsentType{Revokable: true, AutoRevoke: "soon"}
	if err := bad2.Validate(); err == nil {
		t.Error("auto_revoke soon accepted")
	}
}
