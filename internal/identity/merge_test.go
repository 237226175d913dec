package identity

import (
	"reflect"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

func at(day int) domain.Time { return domain.NewTime(time.Date(2025, 1, day, 0, 0, 0, 0, time.UTC)) }

func TestMerge(t *testing.T) {
	old := domain.NewProfile("old", at(1))
	old.Metadata.Time.Update = at(2)
	old.Metadata.Time.Visit = domain.VisitTime{Last: at(1), Current: at(2), Count: 2}
	old.Stats = domain.ProfileStats{Visits: 2, Views: 5, Counters: map[string]float64{"buys": 1}}
	old.Traits = map[string]any{"plan": "basic", "keep": "old-only"}
	old.Data = map[string]any{"pii": map[string]any{"firstname": "Ann", "lastname": "Old"}}
	old.Segments = []string{"a"}
	old.Interests = map[string]float64{"shoes": 1}
	old.Consents = map[string]domain.Consent{"mail": {Granted: false}}

	young := domain.NewProfile("young", at(3))
	young.Metadata.Time.Update = at(5)
	young.Metadata.Time.Visit = domain.VisitTime{Last: at(3), Current: at(5), Count: 3}
	young.Stats = domain.ProfileStats{Visits: 3, Views: 7, Counters: map[string]float64{"buys": 2, "likes": 1}}
	young.Traits = map[string]any{"plan": "gold", "empty": ""}
	young.Data = map[string]any{"pii": map[string]any{"lastname": "New", "firstname": ""}}
	young.Segments = []string{"a", "b"}
	young.Interests = map[string]float64{"shoes": 2, "hats": 1}
	young.Consents = map[string]domain.Consent{"mail": {Granted: true}, "sms": {Granted: true}}
	young.IDs = []string{"young", "ancient"}

	Merge(old, []*domain.Profile{young}, domain.MergeRecord{Key: "data.contact.email.main", Value: "a@x", By: "identity"}, at(9))

	want := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	want("ids", old.IDs, []string{"old", "young", "ancient"})
	want("stats", old.Stats, domain.ProfileStats{Visits: 5, Views: 12, Counters: map[string]float64{"buys": 3, "likes": 1}})
	want("traits", old.Traits, map[string]any{"plan": "gold", "keep": "old-only"})
	want("data", old.Data, map[string]any{"pii": map[string]any{"firstname": "Ann", "lastname": "New"}})
	want("segments", old.Segments, []string{"a", "b"})
	want("interests", old.Interests, map[string]float64{"shoes": 3, "hats": 1})
	want("consents", old.Consents, map[string]domain.Consent{"mail": {Granted: true}, "sms": {Granted: true}})
	want("create", old.Metadata.Time.Create, at(1))
	want("visit", old.Metadata.Time.Visit, domain.VisitTime{Last: at(3), Current: at(5), Count: 5})
	want("update", old.Metadata.Time.Update, at(9))
	want("merged_into", young.Metadata.MergedInto, "old")
	want("loser active", young.Active, false)
	if len(old.Metadata.Merges) != 1 || old.Metadata.Merges[0].ProfileID != "young" || old.Metadata.Merges[0].Key != "data.contact.email.main" {
		t.Errorf("merge record = %+v", old.Metadata.Merges)
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ path, in, want string }{
		{"data.contact.email.main", "  Ann@Example.COM ", "ann@example.com"},
		{"data.contact.phone.main", " +44 1 ", "+44 1"},
		{"data.identifier.id", "ABC", "ABC"},
	} {
		if got := Normalize(tc.path, tc.in); got != tc.want {
			t.Errorf("Normalize(%q, %q) = %q", tc.path, tc.in, got)
		}
	}
}

// TestMergeApplied: the survivor's list of applied events is the union of the lists,
// started no earlier than the latest list start (or last update, for a profile with no
// list), so that it still names every event applied since its first entry.
func TestMergeApplied(t *testing.T) {
	a := domain.NewProfile("a", at(1))
	a.MarkApplied("a1", at(2))
	a.MarkApplied("a2", at(5))
	b := domain.NewProfile("b", at(1))
	b.MarkApplied("b1", at(3))
	b.MarkApplied("b2", at(4))
	Merge(a, []*domain.Profile{b}, domain.MergeRecord{Key: "k", Value: "v", By: "identity"}, at(6))
	var got []string
	for _, e := range a.Metadata.Applied {
		got = append(got, e.ID)
	}
	// b's list starts on day 3: a1 (day 2) may be followed by events of b's that left
	// b's list, so it goes.
	if want := []string{"b1", "b2", "a2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("survivor's applied events %v, want %v", got, want)
	}
	if b.Metadata.Applied != nil {
		t.Errorf("the tombstone keeps a list: %v", b.Metadata.Applied)
	}

	c := domain.NewProfile("c", at(1))
	c.MarkApplied("c1", at(2))
	old := domain.NewProfile("old", at(1)) // written before the lists: counts from its update
	old.Metadata.Time.Update = at(7)
	Merge(c, []*domain.Profile{old}, domain.MergeRecord{Key: "k", Value: "v", By: "identity"}, at(8))
	if len(c.Metadata.Applied) != 0 {
		t.Errorf("entries before the other profile's last update kept: %v", c.Metadata.Applied)
	}
}
