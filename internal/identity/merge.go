package identity

import (
	"slices"
	"sort"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// maxMergeRecords bounds the merge history kept on a profile.
const maxMergeRecords = 100

// Merge folds others into survivor (docs/architecture.md, "Identity resolution"): ids are unioned;
// traits, data and aux take the newer non-empty value (profiles are applied from the
// least to the most recently updated); stats, counters and interests are summed;
// segments and consents are unioned (the newer consent wins); times take the extremes.
// Each other profile becomes a tombstone pointing at the survivor. Merge changes its
// arguments in place.
func Merge(survivor *domain.Profile, others []*domain.Profile, rec domain.MergeRecord, now domain.Time) {
	all := append([]*domain.Profile{survivor}, others...)
	byUpdate := slices.Clone(all)
	sort.SliceStable(byUpdate, func(i, j int) bool {
		return byUpdate[i].Metadata.Time.Update.Before(byUpdate[j].Metadata.Time.Update.Time)
	})
	traits, data, aux := map[string]any{}, map[string]any{}, map[string]any{}
	consents := map[string]domain.Consent{}
	for _, p := range byUpdate {
		for k, v := range p.Traits {
			domain.MergeNonEmpty(traits, k, v)
		}
		for k, v := range p.Data {
			domain.MergeNonEmpty(data, k, v)
		}
		for k, v := range p.Aux {
			domain.MergeNonEmpty(aux, k, v)
		}
		for k, v := range p.Consents {
			consents[k] = v
		}
	}
	s := survivor
	s.Traits, s.Data, s.Aux, s.Consents = traits, data, aux, consents
	t := &s.Metadata.Time
	for _, o := range others {
		s.IDs = union(s.IDs, o.IDs)
		s.Segments = union(s.Segments, o.Segments)
		s.Stats.Visits += o.Stats.Visits
		s.Stats.Views += o.Stats.Views
		for k, v := range o.Stats.Counters {
			s.Stats.Counters[k] += v
		}
		for k, v := range o.Interests {
			s.Interests[k] += v
		}
		s.Active = s.Active || o.Active
		ot := o.Metadata.Time
		t.Insert = earliest(t.Insert, ot.Insert)
		t.Create = earliest(t.Create, ot.Create)
		t.Visit.Current = latest(t.Visit.Current, ot.Visit.Current)
		t.Visit.Last = latest(t.Visit.Last, ot.Visit.Last)
		if t.Visit.Last.Equal(t.Visit.Current.Time) {
			t.Visit.Last = latest(earlierOf(s, t.Visit.Current), earlierOf(o, t.Visit.Current))
		}
		t.Visit.Count += ot.Visit.Count
		r := rec
		r.ProfileID = o.ID
		r.Time = now
		s.Metadata.Merges = append(s.Metadata.Merges, r)
		o.Metadata.MergedInto = s.ID
		o.Metadata.Time.Update = now
		o.Active = false
	}
	if n := len(s.Metadata.Merges); n > maxMergeRecords {
		s.Metadata.Merges = s.Metadata.Merges[n-maxMergeRecords:]
	}
	s.Metadata.Applied = mergeApplied(all)
	for _, o := range others {
		o.Metadata.Applied = nil // a tombstone's retries resolve to the survivor
	}
	t.Update = now
}

// mergeApplied unions the profiles' lists of applied events (domain.Profile.Applied)
// for the survivor. The list must name every event applied since its first entry, so
// it starts no earlier than the latest start of the profiles' own lists: a profile with
// an empty list (none recorded) counts from its last update, and entries before that
// start are dropped (the events they name then count as applied, as before the lists).
func mergeApplied(all []*domain.Profile) []domain.AppliedEvent {
	var start int64
	var out []domain.AppliedEvent
	for _, p := range all {
		l := p.Metadata.Applied
		from := p.Metadata.Time.Update.UnixMilli()
		if len(l) > 0 {
			from = l[0].Time
		}
		start = max(start, from)
		out = append(out, l...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time < out[j].Time })
	seen := map[string]bool{}
	kept := out[:0]
	for _, a := range out {
		if a.Time >= start && !seen[a.ID] {
			seen[a.ID] = true
			kept = append(kept, a)
		}
	}
	if n := len(kept); n > domain.MaxApplied {
		kept = kept[n-domain.MaxApplied:]
	}
	if len(kept) == 0 {
		return nil
	}
	return kept
}

// earlierOf returns whichever of p's visit times is before cur.
func earlierOf(p *domain.Profile, cur domain.Time) domain.Time {
	v := p.Metadata.Time.Visit
	if v.Current.Before(cur.Time) {
		return v.Current
	}
	if v.Last.Before(cur.Time) {
		return v.Last
	}
	return domain.Time{}
}

func union(a, b []string) []string {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(a, x)
		}
	}
	return a
}

func earliest(a, b domain.Time) domain.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a.Time)) {
		return b
	}
	return a
}

func latest(a, b domain.Time) domain.Time {
	if b.After(a.Time) {
		return b
	}
	return a
}
