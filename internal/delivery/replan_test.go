package delivery

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

// TestReplanMatchesThePlanOfTheFirstAttempt: the work Replan derives from stored
// events (a client's retry) has the ids the first attempt's Plan gave (event id +
// destination id), is marked Replanned, passes the filter against the stored event,
// and leaves out profile destinations.
func TestReplanMatchesThePlanOfTheFirstAttempt(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	dests := []*domain.Destination{
		{Meta: domain.Meta{ID: "all", Enabled: true}, Events: true},
		{Meta: domain.Meta{ID: "buys", Enabled: true}, Events: true, Filter: `type == "purchase"`},
		{Meta: domain.Meta{ID: "both", Enabled: true}, Events: true, Profiles: true},
		{Meta: domain.Meta{ID: "profiles", Enabled: true}, Profiles: true},
		{Meta: domain.Meta{ID: "off", Enabled: false}, Events: true},
	}
	for _, d := range dests {
		doc, _ := json.Marshal(d)
		if _, err := st.Entities().Put(ctx, &storage.Entity{Kind: EntityKind, ID: d.ID, Doc: doc}, 0); err != nil {
			t.Fatal(err)
		}
	}
	planner := NewPlanner(st.Entities(), 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := domain.Now()
	p := domain.NewProfile("p1", now)
	s := &domain.Session{ID: "s1", Profile: domain.Ref{ID: "p1"}}
	events := []*domain.Event{
		{ID: "e-view", Type: "page-view", Profile: domain.Ref{ID: "p1"}, Session: domain.EventSession{ID: "s1"}},
		{ID: "e-buy", Type: "purchase", Profile: domain.Ref{ID: "p1"}, Session: domain.EventSession{ID: "s1"}},
	}

	// The first attempt.
	first := &pipeline.Work{Profile: p, Session: s, Events: events, Now: now}
	if err := planner.Process(ctx, first); err != nil {
		t.Fatal(err)
	}
	var firstEventKeys []string
	for _, it := range first.Outbox {
		var item Item
		if err := json.Unmarshal(it.Payload, &item); err != nil {
			t.Fatal(err)
		}
		if item.Kind == KindEvent {
			firstEventKeys = append(firstEventKeys, it.ID)
		}
		if it.Replanned {
			t.Errorf("first attempt's item %s is marked replanned", it.ID)
		}
	}

	// The retry: the events as stored (their JSON), through the Replanner interface.
	var stored []*domain.Event
	for _, e := range events {
		b, _ := json.Marshal(e)
		var back domain.Event
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		stored = append(stored, &back)
	}
	retry := &pipeline.Work{Profile: p, Session: s, Now: domain.Now()}
	var rp pipeline.Replanner = planner
	if err := rp.Replan(ctx, retry, stored); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, it := range retry.Outbox {
		var item Item
		if err := json.Unmarshal(it.Payload, &item); err != nil {
			t.Fatal(err)
		}
		if item.Kind != KindEvent {
			t.Errorf("replanned a %s delivery to %s: profile destinations are not planned again", item.Kind, item.Destination)
		}
		if !it.Replanned || it.Topic != Topic(item.Destination) || item.Key != it.ID {
			t.Errorf("replanned item %+v: want Replanned, topic %s, key = id", it, Topic(item.Destination))
		}
		keys = append(keys, it.ID)
	}
	slices.Sort(keys)
	slices.Sort(firstEventKeys)
	want := []string{"e-buy:all", "e-buy:both", "e-buy:buys", "e-view:all", "e-view:both"}
	if !slices.Equal(keys, want) || !slices.Equal(firstEventKeys, want) {
		t.Fatalf("replanned %v, first attempt %v; want both %v", keys, firstEventKeys, want)
	}

	// Nothing stored: nothing planned.
	none := &pipeline.Work{Profile: p, Session: s, Now: domain.Now()}
	if err := planner.Replan(ctx, none, nil); err != nil || len(none.Outbox) != 0 {
		t.Fatalf("replan of no events: %v, %d items", err, len(none.Outbox))
	}
}
