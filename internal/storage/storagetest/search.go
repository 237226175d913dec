package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// searchFixture stores three live profiles (created on consecutive days), one merge
// tombstone, three sessions and five events.
func searchFixture(t *testing.T, s storage.Store) {
	t.Helper()
	day := func(d int) domain.Time { return domain.NewTime(time.Date(2024, 1, d, 12, 0, 0, 0, time.UTC)) }
	b := &storage.Batch{}
	for i, spec := range []struct {
		plan   string
		visits int64
		score  any
		segs   []string
	}{{"gold", 5, 10.0, []string{"vip"}}, {"silver", 1, 30.0, nil}, {"gold", 12, nil, []string{"returning", "eu"}}, {"gold", 99, 1.0, nil}} {
		p := domain.NewProfile(fmt.Sprint("sp", i+1), day(i+1))
		p.Traits["plan"] = spec.plan
		if spec.score != nil {
			p.Traits["score"] = spec.score
		}
		p.Stats.Visits = spec.visits
		if spec.segs != nil {
			p.Segments = spec.segs
		}
		p.Data["contact"] = map[string]any{"email": map[string]any{"main": fmt.Sprintf("user%d@example.com", i+1)}}
		if i == 3 {
			p.Metadata.MergedInto = "sp1" // tombstones are never found
		}
		b.Profiles = append(b.Profiles, p)
	}
	for i, typ := range []string{"mobile", "desktop", "mobile"} {
		b.Sessions = append(b.Sessions, &domain.Session{ID: fmt.Sprint("ss", i+1), Profile: domain.Ref{ID: fmt.Sprint("sp", i+1)},
			Device:   domain.Device{Type: typ},
			Metadata: domain.SessionMetadata{Time: domain.SessionTime{Insert: day(i + 1), Timestamp: day(i + 1)}, Status: domain.SessionStarted}})
	}
	for i, ev := range []struct {
		typ    string
		amount float64
	}{{"purchase", 20}, {"purchase", 80}, {"page-view", 0}, {"purchase", 120}, {"page-view", 0}} {
		e := &domain.Event{ID: fmt.Sprint("se", i+1), Type: ev.typ, Profile: domain.Ref{ID: "sp1"}, Session: domain.EventSession{ID: "ss1"},
			Properties: map[string]any{}}
		if ev.amount > 0 {
			e.Properties["amount"] = ev.amount
		}
		e.Metadata.Time.Insert = domain.NewTime(day(1).Add(time.Duration(i) * time.Minute))
		b.Events = append(b.Events, e)
	}
	if err := s.Commit(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func testSearch(t *testing.T, s storage.Store) {
	ctx := context.Background()
	searchFixture(t, s)
	parse := func(scope, src string) query.Expr {
		t.Helper()
		if src == "" {
			return nil
		}
		e, err := query.ParseOptions{DefaultScope: scope}.Parse(src)
		if err != nil {
			t.Fatalf("parsing %q: %v", src, err)
		}
		return e
	}
	profileCases := []struct {
		name, where string
		sort        []storage.Sort
		page        storage.Page
		want        []string
		total       int64
	}{
		{"all newest first", "", nil, storage.Page{Limit: 10}, []string{"sp3", "sp2", "sp1"}, 3},
		{"condition skips tombstones", `traits.plan == "gold"`, nil, storage.Page{Limit: 10}, []string{"sp3", "sp1"}, 2},
		{"scoped field", `profile@stats.visits > 3`, nil, storage.Page{Limit: 10}, []string{"sp3", "sp1"}, 2},
		{"array membership", `segments == "vip" OR segments CONTAINS "eu"`, nil, storage.Page{Limit: 10}, []string{"sp3", "sp1"}, 2},
		{"nested path", `data.contact.email.main ENDS WITH "2@example.com"`, nil, storage.Page{Limit: 10}, []string{"sp2"}, 1},
		{"dates", `metadata.time.insert < datetime("2024-01-02T13:00:00Z")`, nil, storage.Page{Limit: 10}, []string{"sp2", "sp1"}, 2},
		{"now", `metadata.time.insert < now()`, nil, storage.Page{Limit: 10}, []string{"sp3", "sp2", "sp1"}, 3},
		{"missing field is false", `traits.nothing == 1`, nil, storage.Page{Limit: 10}, []string{}, 0},
		{"sort ascending, missing last", "", []storage.Sort{{Field: "traits.score"}}, storage.Page{Limit: 10}, []string{"sp1", "sp2", "sp3"}, 3},
		{"sort descending, missing last", "", []storage.Sort{{Field: "traits.score", Desc: true}}, storage.Page{Limit: 10}, []string{"sp2", "sp1", "sp3"}, 3},
		{"sort two keys", "", []storage.Sort{{Field: "traits.plan"}, {Field: "stats.visits", Desc: true}}, storage.Page{Limit: 10}, []string{"sp3", "sp1", "sp2"}, 3},
		{"sort by id", "", []storage.Sort{{Field: "id", Desc: true}}, storage.Page{Limit: 10}, []string{"sp3", "sp2", "sp1"}, 3},
		{"page", "", []storage.Sort{{Field: "id"}}, storage.Page{Limit: 1, Offset: 1}, []string{"sp2"}, 3},
		{"page past the end", "", nil, storage.Page{Limit: 5, Offset: 7}, []string{}, 3},
		{"count only", `traits.plan == "gold"`, nil, storage.Page{}, []string{}, 2},
	}
	for _, tc := range profileCases {
		t.Run("profiles/"+tc.name, func(t *testing.T) {
			items, total, err := s.Profiles().Search(ctx, storage.Query{Where: parse("profile", tc.where), Sort: tc.sort, Page: tc.page})
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, p := range items {
				got = append(got, p.ID)
				if p.Traits == nil || p.Segments == nil {
					t.Errorf("profile %s is not normalised", p.ID)
				}
			}
			if total != tc.total || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v (total %d), want %v (total %d)", got, total, tc.want, tc.total)
			}
		})
	}

	t.Run("sessions", func(t *testing.T) {
		items, total, err := s.Sessions().Search(ctx, storage.Query{Where: parse("session", `device.type == "mobile"`),
			Sort: []storage.Sort{{Field: "metadata.time.insert"}}, Page: storage.Page{Limit: 10}})
		if err != nil {
			t.Fatal(err)
		}
		if total != 2 || len(items) != 2 || items[0].ID != "ss1" || items[1].ID != "ss3" {
			t.Fatalf("sessions: total %d %v", total, items)
		}
	})
	t.Run("events", func(t *testing.T) {
		items, total, err := s.Events().Search(ctx, storage.Query{Where: parse("event", `type == "purchase" AND properties.amount > 50`),
			Sort: []storage.Sort{{Field: "properties.amount", Desc: true}}, Page: storage.Page{Limit: 10}})
		if err != nil {
			t.Fatal(err)
		}
		if total != 2 || len(items) != 2 || items[0].ID != "se4" || items[1].ID != "se2" {
			t.Fatalf("events: total %d %v", total, items)
		}
		items, total, err = s.Events().Search(ctx, storage.Query{Page: storage.Page{Limit: 2}})
		if err != nil || total != 5 || len(items) != 2 || items[0].ID != "se5" || items[1].ID != "se4" {
			t.Fatalf("events newest first: total %d %v %v", total, items, err)
		}
	})
	t.Run("bounded total", func(t *testing.T) {
		// Five events: with TotalLimit n the total is min(5, n+1), and the page is
		// still served past a bounded total.
		for _, tc := range []struct {
			limit     int
			page      storage.Page
			total     int64
			wantItems int
		}{
			{0, storage.Page{Limit: 2}, 5, 2},
			{2, storage.Page{Limit: 2}, 3, 2},
			{2, storage.Page{Limit: 2, Offset: 3}, 3, 2},
			{2, storage.Page{}, 3, 0},
			{4, storage.Page{Limit: 10}, 5, 5},
			{5, storage.Page{Limit: 10}, 5, 5},
			{9, storage.Page{Limit: 1, Offset: 4}, 5, 1},
		} {
			items, total, err := s.Events().Search(ctx, storage.Query{Page: tc.page, TotalLimit: tc.limit})
			if err != nil || total != tc.total || len(items) != tc.wantItems {
				t.Errorf("events, TotalLimit %d, page %+v: total %d, %d items, %v; want %d, %d", tc.limit, tc.page, total, len(items), err, tc.total, tc.wantItems)
			}
		}
		_, total, err := s.Profiles().Search(ctx, storage.Query{Where: parse("profile", `traits.plan == "gold"`), TotalLimit: 1})
		if err != nil || total != 2 {
			t.Errorf("profiles, TotalLimit 1: total %d, %v; want 2 (more than 1)", total, err)
		}
		_, total, err = s.Profiles().Search(ctx, storage.Query{Where: parse("profile", `traits.plan == "gold"`), TotalLimit: 2})
		if err != nil || total != 2 {
			t.Errorf("profiles, TotalLimit 2: total %d, %v; want 2 (exact)", total, err)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		_, _, err := s.Profiles().Search(ctx, storage.Query{Where: query.MustParse(`event@type == "x"`), Page: storage.Page{Limit: 1}})
		var qe *query.Error
		if !errors.Is(err, storage.ErrInvalid) || !errors.As(err, &qe) || !strings.Contains(err.Error(), "line 1, col 1") {
			t.Errorf("another scope: %v", err)
		}
		for _, field := range []string{"", "traits.x'--", "a..b", "a b", "x.\"y"} {
			if _, _, err := s.Profiles().Search(ctx, storage.Query{Sort: []storage.Sort{{Field: field}}, Page: storage.Page{Limit: 1}}); !errors.Is(err, storage.ErrInvalid) {
				t.Errorf("sort field %q: %v", field, err)
			}
		}
	})
	t.Run("scan", func(t *testing.T) {
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			ps, err := s.Profiles().Scan(ctx, nil, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) == 0 {
				break
			}
			if pages > 3 {
				t.Fatal("scan does not end")
			}
			for _, p := range ps {
				got = append(got, p.ID)
			}
			after = ps[len(ps)-1].ID
		}
		if !slices.Equal(got, []string{"sp1", "sp2", "sp3"}) {
			t.Fatalf("scan = %v", got)
		}
		ps, err := s.Profiles().Scan(ctx, parse("profile", `traits.plan == "gold"`), "sp1", 10)
		if err != nil || len(ps) != 1 || ps[0].ID != "sp3" {
			t.Fatalf("scan with condition after sp1 = %v %v", ids(ps), err)
		}
	})
}
