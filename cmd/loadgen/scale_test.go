package main

import (
	"testing"
	"time"
)

func TestScaleSpecShape(t *testing.T) {
	tests := []struct {
		profiles, events int64
		erase            int
	}{
		{2000, 20000, 1000},
		{7, 1003, 1000},
		{20000, 200000, 1000},
	}
	now := time.Date(2026, 12, 4, 17, 0, 0, 0, time.UTC)
	for _, tc := range tests {
		sp := scaleSpec{Profiles: tc.profiles, Events: tc.events, EraseEvents: tc.erase, Days: 60, Seed: 1, Now: now}
		var sum int64
		for i := range tc.profiles {
			sum += int64(sp.eventsOf(i))
		}
		if sum != tc.events || sp.eventsOf(0) != tc.erase {
			t.Errorf("%+v: %d events in all, %d on p0", tc, sum, sp.eventsOf(0))
		}
		b := sp.batchFor(0, min(tc.profiles, 50))
		if len(b.Profiles) != len(b.Sessions) {
			t.Fatalf("%d profiles, %d sessions", len(b.Profiles), len(b.Sessions))
		}
		ids := map[string]bool{}
		for _, e := range b.Events {
			if ids[e.ID] {
				t.Fatalf("event id %s twice", e.ID)
			}
			ids[e.ID] = true
			at := e.Metadata.Time.Insert.Time
			if at.After(now) || at.Before(now.Add(-61*24*time.Hour)) {
				t.Fatalf("event %s at %v, outside the %d days", e.ID, at, sp.Days)
			}
		}
		gold := 0
		for i := range int64(1000) {
			if sp.tier(i) == "gold" {
				gold++
			}
		}
		if gold != 50 {
			t.Errorf("%d gold of 1000, want 5%%", gold)
		}
	}
	// the same spec gives the same documents
	sp := scaleSpec{Profiles: 10, Events: 1100, EraseEvents: 1000, Days: 60, Seed: 3, Now: now}
	a, b := sp.batchFor(3, 5), sp.batchFor(3, 5)
	if a.Events[7].Metadata.Time.Insert != b.Events[7].Metadata.Time.Insert || a.Profiles[1].Traits["lifetime_value"] != b.Profiles[1].Traits["lifetime_value"] {
		t.Error("batchFor is not deterministic")
	}
}
