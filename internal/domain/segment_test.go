package domain

import "testing"

func TestSegmentMachineName(t *testing.T) {
	for in, want := range map[string]string{
		"Returning customers (EU)": "returning-customers-eu",
		"  VIP  ":                  "vip",
		"Über-fans 2024!":          "über-fans-2024",
		"Постоянные клиенты":       "постоянные-клиенты",
		"a__b--c":                  "a-b-c",
		"!!!":                      "",
	} {
		if got := SegmentMachineName(in); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}
