package domain

import (
	"fmt"
	"testing"
	"time"
)

func TestAppliedState(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	at := func(sec int) Time { return Time{t0.Add(time.Duration(sec) * time.Second)} }
	p := NewProfile("p", at(0))
	if _, known := p.AppliedState("e1", at(1)); known {
		t.Fatal("an empty list cannot tell")
	}
	p.MarkApplied("e1", at(1))
	p.MarkApplied("e2", at(0)) // a clock behind: kept in order
	if p.Metadata.Applied[1].Time != at(1).UnixMilli() {
		t.Fatalf("entries out of order: %+v", p.Metadata.Applied)
	}
	cases := []struct {
		id             string
		inserted       Time
		applied, known bool
	}{
		{"e1", at(1), true, true},
		{"e2", Time{}, true, true},
		{"e3", at(5), false, true},  // inserted after the list began, not in it: its write was lost
		{"e4", at(1), false, false}, // inserted when the list began: cannot tell
		{"e5", at(-9), false, false},
		{"e6", Time{}, false, false},
	}
	for _, c := range cases {
		if a, k := p.AppliedState(c.id, c.inserted); a != c.applied || k != c.known {
			t.Errorf("%s: applied %v known %v, want %v %v", c.id, a, k, c.applied, c.known)
		}
	}
	for i := range MaxApplied + 10 {
		p.MarkApplied(fmt.Sprint("x", i), at(10+i))
	}
	if n := len(p.Metadata.Applied); n != MaxApplied || p.Metadata.Applied[0].ID != "x10" {
		t.Fatalf("list of %d starting %s, want %d starting x10", n, p.Metadata.Applied[0].ID, MaxApplied)
	}
	// e1 was applied and has left the list: inserted before the list's start, unknown.
	if a, k := p.AppliedState("e1", at(1)); a || k {
		t.Errorf("an event that left the list: applied %v known %v, want unknown", a, k)
	}
}
