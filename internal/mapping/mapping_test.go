package mapping_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/mapping"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/local"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

func TestCompileRejects(t *testing.T) {
	for _, tc := range []struct {
		m    domain.ProfileMapping
		want string
	}{
		{domain.ProfileMapping{From: "event@properties.a", To: "profile@traits.a", Op: "copy"}, "profile_mapping[0].op: must be one of"},
		{domain.ProfileMapping{From: "event@properties.a", To: "traits.a", Op: "equals"}, "profile_mapping[0].to: \"traits.a\" must be scope@path"},
		{domain.ProfileMapping{From: "event@properties.a", To: "event@properties.b", Op: "equals"}, "profile_mapping[0].to: \"event@properties.b\": scope must be one of profile"},
		{domain.ProfileMapping{From: "event@properties.a", To: "profile@stats.views", Op: "equals"}, "profile_mapping[0].to: must be a field under"},
		{domain.ProfileMapping{From: "event@properties.a", To: "profile@traits", Op: "equals"}, "profile_mapping[0].to: must be a field under"},
		{domain.ProfileMapping{From: "event@properties.a", To: "profile@id", Op: "equals"}, "profile_mapping[0].to: must be a field under"},
		{domain.ProfileMapping{From: "event@properties.a", To: "profile@interests.x", Op: "append"}, "profile_mapping[0].op: append needs"},
		{domain.ProfileMapping{From: "event@properties.a", To: "profile@traits.a", Op: "delete"}, "profile_mapping[0].from: must be empty for delete"},
		{domain.ProfileMapping{To: "profile@traits.a", Op: "equals"}, "profile_mapping[0].from: is required for equals"},
		{domain.ProfileMapping{From: "flow@x", To: "profile@traits.a", Op: "equals"}, "profile_mapping[0].from: \"flow@x\": scope must be one of event, session, profile"},
		{domain.ProfileMapping{From: "event@properties.a b", To: "profile@traits.a", Op: "equals"}, "path segment \"a b\""},
		{domain.ProfileMapping{From: "event@properties.a", To: "profile@traits.a", Op: "equals", Condition: "event@x >"}, "profile_mapping[0].condition: line 1, col 10"},
		{domain.ProfileMapping{From: "event@properties.a", To: "profile@traits.a", Op: "equals", Condition: "flow@x == 1"}, "profile_mapping[0].condition: line 1, col 1: a mapping condition can use"},
	} {
		_, err := mapping.Compile(&domain.EventType{ProfileMapping: []domain.ProfileMapping{tc.m}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.m, err, tc.want)
		}
	}
	ok := []domain.ProfileMapping{
		{From: "event@properties.email", To: "profile@data.contact.email.main", Op: "equals"},
		{To: "profile@stats.counters.purchases", Op: "increment"},
		{From: "session@device.type", To: "profile@aux.device", Op: "equals-if-not-exists", Condition: `event@properties.x EXISTS`},
		{To: "profile@interests.shoes", Op: "delete"},
	}
	if _, err := mapping.Compile(&domain.EventType{ProfileMapping: ok}); err != nil {
		t.Fatal(err)
	}
}

func TestApply(t *testing.T) {
	for _, tc := range []struct {
		name     string
		m        []domain.ProfileMapping
		props    string // event properties
		profile  string // profile traits
		want     string // profile traits afterwards
		warnings int
	}{
		{"equals", []domain.ProfileMapping{{From: "event@properties.plan", To: "profile@traits.plan", Op: "equals"}},
			`{"plan":"gold"}`, `{"plan":"silver"}`, `{"plan":"gold"}`, 0},
		{"equals copies objects deeply", []domain.ProfileMapping{{From: "event@properties.address", To: "profile@traits.address", Op: "equals"}},
			`{"address":{"town":"Leeds","lines":["1 High St"]}}`, `{}`, `{"address":{"town":"Leeds","lines":["1 High St"]}}`, 0},
		{"missing source does nothing", []domain.ProfileMapping{{From: "event@properties.plan", To: "profile@traits.plan", Op: "equals"}},
			`{}`, `{"plan":"silver"}`, `{"plan":"silver"}`, 0},
		{"null source does nothing", []domain.ProfileMapping{{From: "event@properties.plan", To: "profile@traits.plan", Op: "equals"}},
			`{"plan":null}`, `{"plan":"silver"}`, `{"plan":"silver"}`, 0},
		{"equals-if-not-exists keeps", []domain.ProfileMapping{{From: "event@properties.plan", To: "profile@traits.plan", Op: "equals-if-not-exists"}},
			`{"plan":"gold"}`, `{"plan":"silver"}`, `{"plan":"silver"}`, 0},
		{"equals-if-not-exists fills empty", []domain.ProfileMapping{{From: "event@properties.plan", To: "profile@traits.plan", Op: "equals-if-not-exists"}},
			`{"plan":"gold"}`, `{"plan":""}`, `{"plan":"gold"}`, 0},
		{"append to missing", []domain.ProfileMapping{{From: "event@properties.tag", To: "profile@traits.tags", Op: "append"}},
			`{"tag":"a"}`, `{}`, `{"tags":["a"]}`, 0},
		{"append skips duplicates, spreads arrays", []domain.ProfileMapping{{From: "event@properties.tags", To: "profile@traits.tags", Op: "append"}},
			`{"tags":["a","c",{"x":1}]}`, `{"tags":["a","b"]}`, `{"tags":["a","b","c",{"x":1}]}`, 0},
		{"append to a scalar", []domain.ProfileMapping{{From: "event@properties.tag", To: "profile@traits.tags", Op: "append"}},
			`{"tag":"b"}`, `{"tags":"a"}`, `{"tags":["a","b"]}`, 0},
		{"increment by value", []domain.ProfileMapping{{From: "event@properties.amount", To: "profile@traits.spent", Op: "increment"}},
			`{"amount":12.5}`, `{"spent":10}`, `{"spent":22.5}`, 0},
		{"increment by one", []domain.ProfileMapping{{To: "profile@traits.orders", Op: "increment"}},
			`{}`, `{}`, `{"orders":1}`, 0},
		{"increment of a string warns", []domain.ProfileMapping{{To: "profile@traits.orders", Op: "increment"}},
			`{}`, `{"orders":"many"}`, `{"orders":"many"}`, 1},
		{"increment by a string warns", []domain.ProfileMapping{{From: "event@properties.amount", To: "profile@traits.spent", Op: "increment"}},
			`{"amount":"12"}`, `{}`, `{}`, 1},
		{"delete", []domain.ProfileMapping{{To: "profile@traits.a.b", Op: "delete"}},
			`{}`, `{"a":{"b":1,"c":2}}`, `{"a":{"c":2}}`, 0},
		{"condition false", []domain.ProfileMapping{{From: "event@properties.plan", To: "profile@traits.plan", Op: "equals", Condition: `event@properties.vip == true`}},
			`{"plan":"gold"}`, `{}`, `{}`, 0},
		{"condition true", []domain.ProfileMapping{{From: "event@properties.plan", To: "profile@traits.plan", Op: "equals", Condition: `event@properties.vip == true AND profile@traits.plan NOT EXISTS`}},
			`{"plan":"gold","vip":true}`, `{}`, `{"plan":"gold"}`, 0},
		{"conditions see earlier mappings", []domain.ProfileMapping{
			{From: "event@properties.plan", To: "profile@traits.plan", Op: "equals"},
			{To: "profile@traits.golds", Op: "increment", Condition: `profile@traits.plan == "gold"`}},
			`{"plan":"gold"}`, `{}`, `{"plan":"gold","golds":1}`, 0},
		{"typed event fields", []domain.ProfileMapping{{From: "event@type", To: "profile@traits.last_type", Op: "equals"},
			{From: "session@device.type", To: "profile@traits.device", Op: "equals"}},
			`{}`, `{}`, `{"last_type":"purchase","device":"mobile"}`, 0},
		{"from the profile", []domain.ProfileMapping{{From: "profile@traits.a", To: "profile@traits.b", Op: "equals"}},
			`{}`, `{"a":1}`, `{"a":1,"b":1}`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ, err := mapping.Compile(&domain.EventType{Meta: domain.Meta{ID: "purchase"}, ProfileMapping: tc.m})
			if err != nil {
				t.Fatal(err)
			}
			p := domain.NewProfile("p1", domain.Now())
			mustJSON(t, tc.profile, &p.Traits)
			ev := &domain.Event{ID: "e1", Type: "purchase"}
			mustJSON(t, tc.props, &ev.Properties)
			w := &pipeline.Work{Profile: p, Session: &domain.Session{ID: "s1", Device: domain.Device{Type: "mobile"}}, Events: []*domain.Event{ev}, Now: domain.Now()}
			typ.Apply(w, ev)
			var want map[string]any
			mustJSON(t, tc.want, &want)
			if !reflect.DeepEqual(normal(t, p.Traits), want) || len(w.Warnings) != tc.warnings {
				t.Fatalf("traits = %v, warnings %v; want %v and %d warnings", p.Traits, w.Warnings, want, tc.warnings)
			}
			// The profile never shares a map or slice with the event.
			if addr, ok := ev.Properties["address"].(map[string]any); ok {
				addr["town"] = "changed"
				if p.Traits["address"].(map[string]any)["town"] != "Leeds" {
					t.Fatal("the profile shares the event's object")
				}
			}
		})
	}
}

func TestApplyNumbers(t *testing.T) {
	typ, err := mapping.Compile(&domain.EventType{Meta: domain.Meta{ID: "purchase"}, ProfileMapping: []domain.ProfileMapping{
		{To: "profile@stats.counters.purchases", Op: "increment"},
		{From: "event@properties.amount", To: "profile@stats.counters.spent", Op: "increment"},
		{From: "event@properties.score", To: "profile@interests.shoes", Op: "equals-if-not-exists"},
		{From: "event@properties.name", To: "profile@interests.hats", Op: "equals"},
		{To: "profile@interests.old", Op: "delete"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	p := domain.NewProfile("p1", domain.Now())
	p.Interests["old"], p.Interests["shoes"] = 1, 0.5
	ev := &domain.Event{Type: "purchase", Properties: map[string]any{"amount": 20.0, "score": 0.9, "name": "x"}}
	w := &pipeline.Work{Profile: p, Events: []*domain.Event{ev}, Now: domain.Now()}
	typ.Apply(w, ev)
	typ.Apply(w, ev)
	if p.Stats.Counters["purchases"] != 2 || p.Stats.Counters["spent"] != 40 || p.Interests["shoes"] != 0.5 ||
		len(p.Interests) != 1 || len(w.Warnings) != 2 {
		t.Fatalf("counters %v interests %v warnings %v", p.Stats.Counters, p.Interests, w.Warnings)
	}
}

func mustJSON(t *testing.T, s string, dst any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), dst); err != nil {
		t.Fatal(err)
	}
}

// normal round-trips v through JSON, so that numbers compare as float64.
func normal(t *testing.T, v any) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	mustJSON(t, string(b), &m)
	return m
}

// TestMapperInPipeline runs the mapper as the collector's first stage: mappings apply
// after the built-in copy rules, only for enabled types, and a change applies at once
// after Invalidate.
func TestMapperInPipeline(t *testing.T) {
	store, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	put := func(kind, id string, v any) {
		doc, _ := json.Marshal(v)
		if _, err := store.Entities().Put(ctx, &storage.Entity{Kind: kind, ID: id, Doc: doc}, -1); err != nil {
			t.Fatal(err)
		}
	}
	put(domain.EntitySource, "web", domain.Source{Meta: domain.Meta{ID: "web", Name: "Web", Enabled: true}, Type: domain.SourceREST, Trusted: true})
	// sign-in's built-in rules fill data.contact.email.main; the mapping reads it back
	// from event data, which exists only after them.
	put(domain.EntityEventType, "sign-in", domain.EventType{Meta: domain.Meta{ID: "sign-in", Name: "Sign in", Enabled: true},
		ProfileMapping: []domain.ProfileMapping{{From: "event@data.contact.email.main", To: "profile@traits.login_email", Op: "equals"},
			{To: "profile@stats.counters.sign_ins", Op: "increment"}}})
	put(domain.EntityEventType, "off", domain.EventType{Meta: domain.Meta{ID: "off", Name: "Off", Enabled: false},
		ProfileMapping: []domain.ProfileMapping{{To: "profile@stats.counters.off", Op: "increment"}}})
	m := mapping.New(mapping.Config{TTL: time.Hour}, store.Entities(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	col, err := collector.New(collector.Config{CacheSize: 100}, store, local.NewLocker(), collector.NewSourceCache(store.Entities(), time.Minute), m)
	if err != nil {
		t.Fatal(err)
	}
	track := func(events string) {
		req, err := collector.DecodeTrack([]byte(fmt.Sprintf(`{"source":{"id":"web"},"profile":{"id":"p1"},"events":[%s]}`, events)), col.Limits())
		if err != nil {
			t.Fatal(err)
		}
		src, _ := col.CheckSource(ctx, "web", collector.RouteTrack, "")
		if _, err := col.Track(ctx, src, req, collector.RequestMeta{}); err != nil {
			t.Fatal(err)
		}
	}
	track(`{"type":"sign-in","properties":{"email":{"main":" A@Example.com "}}},{"type":"off"}`)
	p, _ := store.Profiles().Get(ctx, "p1")
	if p.Traits["login_email"] != "a@example.com" || p.Stats.Counters["sign_ins"] != 1 || p.Stats.Counters["off"] != 0 {
		t.Fatalf("traits %v counters %v", p.Traits, p.Stats.Counters)
	}
	put(domain.EntityEventType, "off", domain.EventType{Meta: domain.Meta{ID: "off", Name: "Off", Enabled: true},
		ProfileMapping: []domain.ProfileMapping{{To: "profile@stats.counters.off", Op: "increment"}}})
	m.Invalidate()
	track(`{"type":"off"}`)
	if p, _ := store.Profiles().Get(ctx, "p1"); p.Stats.Counters["off"] != 1 {
		t.Fatalf("after enabling: %v", p.Stats.Counters)
	}
}
