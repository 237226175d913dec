package segment_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/segment"
)

// fullProfile has every field of a profile set.
func fullProfile(now domain.Time) *domain.Profile {
	p := domain.NewProfile("p1", now)
	p.IDs = append(p.IDs, "p0")
	p.Metadata.Time.Visit = domain.VisitTime{Last: now, Current: now, Count: 3}
	p.Metadata.MergedInto = "p9"
	p.Metadata.Merges = []domain.MergeRecord{{ProfileID: "p0", Key: "data.contact.email.main", Value: "a@example.com", Time: now, By: "identity"}}
	p.Metadata.Applied = []domain.AppliedEvent{{ID: "e1", Time: 1700000000000}, {ID: "e2", Time: 1700000000500}}
	p.Stats = domain.ProfileStats{Visits: 3, Views: 7, Counters: map[string]float64{"purchases": 2}}
	p.Traits["plan"] = "gold"
	p.Data["contact"] = map[string]any{"email": map[string]any{"main": "a@example.com"}, "phones": []any{"1", 2.0}}
	p.Segments = []string{"vip"}
	p.Interests["shoes"] = 0.5
	p.Consents["marketing"] = domain.Consent{Granted: true, Revoke: &now}
	p.Consents["email"] = domain.Consent{}
	p.Aux["x"] = true
	p.Active = true
	return p
}

func jsonOf(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPartialDocFields holds each field PartialDoc builds to what encoding/json makes
// of it, and builds nothing else.
func TestPartialDocFields(t *testing.T) {
	for _, p := range []*domain.Profile{fullProfile(domain.Now()), {ID: "bare"}} {
		want := jsonOf(t, p).(map[string]any)
		if len(segment.ProfileFields) != len(want) {
			t.Fatalf("ProfileFields has %d names, a profile's JSON %d keys", len(segment.ProfileFields), len(want))
		}
		for _, f := range segment.ProfileFields {
			got := jsonOf(t, segment.PartialDoc(p, []string{f})).(map[string]any)
			if !reflect.DeepEqual(got, map[string]any{f: want[f]}) {
				t.Errorf("%s: PartialDoc(%q) = %v, want %v", p.ID, f, got, want[f])
			}
		}
		if got := segment.PartialDoc(p, []string{"nope", "stats"}); len(got) != 1 || got["stats"] == nil {
			t.Errorf("%s: PartialDoc with an unknown name = %v", p.ID, got)
		}
	}
}

// TestConditionsOnPartialDoc checks that a condition over each top-level profile field
// matches its segment's partial document exactly as it matches the whole document.
func TestConditionsOnPartialDoc(t *testing.T) {
	now := domain.Now()
	full, bare := fullProfile(now), &domain.Profile{ID: "bare"}
	tests := []struct {
		cond       string
		fields     []string
		full, bare bool // expected matches
	}{
		{`id == "p1"`, []string{"id"}, true, false},
		{`ids CONTAINS "p0"`, []string{"ids"}, true, false},
		{`NOT ids EXISTS`, []string{"ids"}, false, true},
		{`metadata.time.visit.count == 3`, []string{"metadata"}, true, false},
		{`metadata.time.visit.last < now.offset("1d")`, []string{"metadata"}, true, false},
		{`metadata.merged_into == "p9" AND metadata.merges.key == "data.contact.email.main"`, []string{"metadata"}, true, false},
		{`stats.views > 5 AND stats.counters.purchases == 2`, []string{"stats"}, true, false},
		{`stats.visits == 0`, []string{"stats"}, false, true},
		{`traits.plan == "gold"`, []string{"traits"}, true, false},
		{`lower(data.contact.email.main) ENDS WITH "@example.com"`, []string{"data"}, true, false},
		{`data.contact.phones == 2`, []string{"data"}, true, false},
		{`segments CONTAINS "vip"`, []string{"segments"}, true, false},
		{`interests.shoes BETWEEN 0.4 AND 0.6`, []string{"interests"}, true, false},
		{`consents.marketing.granted == true AND consents.marketing.revoke EXISTS`, []string{"consents"}, true, false},
		{`NOT consents.email.granted == true`, []string{"consents"}, true, true},
		{`active == true`, []string{"active"}, true, false},
		{`active == false`, []string{"active"}, false, true},
		{`aux.x == true`, []string{"aux"}, true, false},
		{`profile@nothere EXISTS OR traits.plan EXISTS`, []string{"nothere", "traits"}, true, false},
		{`stats.views > 1 OR interests.shoes > 0 OR stats.visits > 1`, []string{"stats", "interests"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			c, err := segment.Compile(&domain.Segment{Condition: tt.cond})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Fields(), tt.fields) {
				t.Errorf("Fields() = %v, want %v", c.Fields(), tt.fields)
			}
			for _, pc := range []struct {
				p    *domain.Profile
				want bool
			}{{full, tt.full}, {bare, tt.bare}} {
				whole := c.Match(segment.ProfileDoc(pc.p), now.Time)
				part := c.Match(c.Doc(pc.p), now.Time)
				if whole != pc.want || part != pc.want {
					t.Errorf("%s: whole document %v, partial %v, want %v", pc.p.ID, whole, part, pc.want)
				}
			}
		})
	}
}

// BenchmarkEngineProcessFixtures is BenchmarkEngineProcess with the three segments of
// scripts/bench-fixtures.
func BenchmarkEngineProcessFixtures(b *testing.B) {
	e := newEnv(b)
	for i, c := range []string{`stats.views > 3`, `data.contact.email.main EXISTS`, `interests.running >= 2`} {
		e.put(domain.Segment{Meta: domain.Meta{ID: string(rune('a' + i)), Name: c, Enabled: true}, Condition: c})
	}
	p := fullProfile(domain.Now())
	ev := &domain.Event{ID: "e1", Type: "page-view"}
	ctx := context.Background()
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		w := &pipeline.Work{Profile: p, Events: []*domain.Event{ev}, Now: domain.Now()}
		if err := e.engine.Process(ctx, w); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// cpuTime is the process's user and system CPU time: on a shared machine, CPU per
// operation drifts less than wall time per operation.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
