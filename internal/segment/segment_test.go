package segment_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/jobs"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/segment"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/local"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type env struct {
	t      testing.TB
	store  storage.Store
	col    *collector.Collector
	engine *segment.Engine
}

func newEnv(t testing.TB) *env {
	t.Helper()
	store, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	doc, _ := json.Marshal(domain.Source{Meta: domain.Meta{ID: "web", Name: "Web", Enabled: true}, Type: domain.SourceREST, Trusted: true})
	if _, err := store.Entities().Put(context.Background(), &storage.Entity{Kind: domain.EntitySource, ID: "web", Doc: doc}, 0); err != nil {
		t.Fatal(err)
	}
	engine := segment.NewEngine(segment.Config{TTL: time.Hour}, store.Entities(), quiet)
	col, err := collector.New(collector.Config{CacheSize: 1000}, store, local.NewLocker(), collector.NewSourceCache(store.Entities(), time.Minute), engine)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: store, col: col, engine: engine}
}

// put stores a segment (as the API does) and invalidates the engine's cache.
func (e *env) put(seg domain.Segment) {
	e.t.Helper()
	seg.MachineName = domain.SegmentMachineName(seg.Name)
	doc, _ := json.Marshal(seg)
	if _, err := e.store.Entities().Put(context.Background(), &storage.Entity{Kind: domain.EntitySegment, ID: seg.ID, Doc: doc}, -1); err != nil {
		e.t.Fatal(err)
	}
	e.engine.Invalidate()
}

func (e *env) track(pid string, events ...string) *collector.TrackResponse {
	e.t.Helper()
	body := fmt.Sprintf(`{"source":{"id":"web"},"profile":{"id":%q},"events":[%s]}`, pid, strings.Join(events, ","))
	ctx := context.Background()
	req, err := collector.DecodeTrack([]byte(body), e.col.Limits())
	if err != nil {
		e.t.Fatal(err)
	}
	src, err := e.col.CheckSource(ctx, "web", collector.RouteTrack, "")
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := e.col.Track(ctx, src, req, collector.RequestMeta{IP: "192.0.2.1"})
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

func (e *env) profile(id string) *domain.Profile {
	e.t.Helper()
	p, err := e.store.Profiles().Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// internalEvents lists the profile's stored segment events as "type:machine-name".
func (e *env) internalEvents(pid string) []string {
	e.t.Helper()
	evs, _, err := e.store.Events().ListByProfile(context.Background(), []string{pid}, storage.Page{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- { // oldest first
		ev := evs[i]
		if ev.Source.ID != pipeline.InternalSource {
			continue
		}
		if ev.Metadata.Channel != pipeline.InternalSource || ev.Profile.ID != pid || ev.Properties["segment_id"] == nil {
			e.t.Errorf("internal event not marked: %+v", ev)
		}
		out = append(out, ev.Type+":"+ev.Properties["segment"].(string))
	}
	return out
}

const pageView = `{"type":"page-view"}`

func TestParseCondition(t *testing.T) {
	for _, tc := range []struct{ src, err string }{
		{`stats.visits > 1`, ""},
		{`profile@traits.vip == true AND segments CONTAINS "x"`, ""},
		{`event@type == "x"`, "line 1, col 1: a segment condition can only use profile fields, not event@"},
		{`stats.visits >`, "line 1, col 15"},
	} {
		_, err := segment.ParseCondition(tc.src)
		var qe *query.Error
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.src, err)
		case tc.err != "" && (err == nil || !errors.As(err, &qe) || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: err = %v, want %q", tc.src, err, tc.err)
		}
	}
}

func TestEngineOnTrack(t *testing.T) {
	e := newEnv(t)
	e.put(domain.Segment{Meta: domain.Meta{ID: "s1", Name: "Frequent visitors", Enabled: true}, Condition: `stats.views >= 2`})
	e.put(domain.Segment{Meta: domain.Meta{ID: "s2", Name: "Signed in!", Enabled: true}, Condition: `data.contact.email.main EXISTS`,
		EventTypes: []string{"Sign In"}})
	e.put(domain.Segment{Meta: domain.Meta{ID: "s3", Name: "Everyone", Enabled: false}, Condition: `id EXISTS`})

	e.track("p1", pageView)
	if p := e.profile("p1"); len(p.Segments) != 0 {
		t.Fatalf("after one view: %v", p.Segments)
	}
	resp := e.track("p1", pageView)
	if p := e.profile("p1"); !slices.Equal(p.Segments, []string{"frequent-visitors"}) {
		t.Fatalf("after two views: %v", p.Segments)
	}
	if len(resp.Events) != 1 {
		t.Fatalf("the answer lists only the request's events, got %v", resp.Events)
	}
	// The profile holds an e-mail, but the segment waits for a sign-in event.
	e.track("p1", `{"type":"profile-update","properties":{"contact":{"email":{"main":"a@example.com"}}}}`)
	if p := e.profile("p1"); slices.Contains(p.Segments, "signed-in") {
		t.Fatalf("evaluated without its event type: %v", p.Segments)
	}
	e.track("p1", `{"type":"sign-in","properties":{"email":{"main":"a@example.com"}}}`)
	if p := e.profile("p1"); !slices.Equal(p.Segments, []string{"frequent-visitors", "signed-in"}) {
		t.Fatalf("after sign-in: %v", p.Segments)
	}
	// A changed condition applies at the next request; the profile leaves.
	e.put(domain.Segment{Meta: domain.Meta{ID: "s1", Name: "Frequent visitors", Enabled: true}, Condition: `stats.views >= 100`})
	e.track("p1", pageView)
	if p := e.profile("p1"); !slices.Equal(p.Segments, []string{"signed-in"}) {
		t.Fatalf("after the change: %v", p.Segments)
	}
	want := []string{"segment-entered:frequent-visitors", "segment-entered:signed-in", "segment-left:frequent-visitors"}
	if got := e.internalEvents("p1"); !slices.Equal(got, want) {
		t.Fatalf("internal events = %v, want %v", got, want)
	}
	// Segments the engine does not manage (added by a workflow) stay.
	err := e.col.Mutate(context.Background(), "p1", func(w *pipeline.Work) error {
		w.Profile.Segments = append(w.Profile.Segments, "hand-picked")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.track("p1", pageView)
	if p := e.profile("p1"); !slices.Equal(p.Segments, []string{"signed-in", "hand-picked"}) {
		t.Fatalf("manual segment: %v", p.Segments)
	}
}

// task is a jobs.Task for calling a handler directly.
type task struct {
	mu       sync.Mutex
	params   []byte
	total    int64
	done     int64
	counters map[string]int64
}

func newTask(segmentID string) *task {
	b, _ := json.Marshal(segment.RefreshParams{SegmentID: segmentID})
	return &task{params: b, counters: map[string]int64{}}
}

func (t *task) Job() jobs.Job                { return jobs.Job{Params: t.params} }
func (t *task) Decode(dst any) error         { return json.Unmarshal(t.params, dst) }
func (t *task) SetTotal(n int64)             { t.mu.Lock(); t.total = n; t.mu.Unlock() }
func (t *task) Advance(n int64)              { t.mu.Lock(); t.done += n; t.mu.Unlock() }
func (t *task) Count(name string, n int64)   { t.mu.Lock(); t.counters[name] += n; t.mu.Unlock() }
func (t *task) Report(string)                {}
func (t *task) Checkpoint(any) (bool, error) { return false, nil }
func (t *task) SaveCheckpoint(any) error     { return nil }

func (e *env) refresh(r *segment.Refresher, id string) *task {
	e.t.Helper()
	tk := newTask(id)
	if err := r.Run(context.Background(), tk); err != nil {
		e.t.Fatal(err)
	}
	return tk
}

func (e *env) members(name string) []string {
	e.t.Helper()
	var out []string
	for i := 1; i <= 6; i++ {
		id := fmt.Sprint("p", i)
		if slices.Contains(e.profile(id).Segments, name) {
			out = append(out, id)
		}
	}
	return out
}

func TestRefresher(t *testing.T) {
	e := newEnv(t)
	// p1..p6 with 1..6 views; no segments yet.
	for i := 1; i <= 6; i++ {
		for j := 0; j < i; j++ {
			e.track(fmt.Sprint("p", i), pageView)
		}
	}
	r := segment.NewRefresher(e.store, e.col, 2) // small batches: several pages
	e.put(domain.Segment{Meta: domain.Meta{ID: "s1", Name: "Fans", Enabled: true}, Condition: `stats.views > 3`})
	tk := e.refresh(r, "s1")
	if got := e.members("fans"); !slices.Equal(got, []string{"p4", "p5", "p6"}) {
		t.Fatalf("members = %v", got)
	}
	if tk.total != 6 || tk.done != 6 || tk.counters["entered"] != 3 {
		t.Fatalf("progress: total %d done %d counters %v", tk.total, tk.done, tk.counters)
	}
	if got := e.internalEvents("p4"); !slices.Equal(got, []string{"segment-entered:fans"}) {
		t.Fatalf("p4 events = %v", got)
	}
	// Idempotent: nothing to do the second time.
	if tk := e.refresh(r, "s1"); tk.counters["entered"]+tk.counters["left"]+tk.counters["removed_names"] != 0 {
		t.Fatalf("second run changed profiles: %v", tk.counters)
	}

	// A rename and a new condition: the old name goes, members keep their membership
	// silently, p4 leaves, p3 enters.
	e.put(domain.Segment{Meta: domain.Meta{ID: "s1", Name: "Big fans", Enabled: true}, Condition: `stats.views >= 3 AND stats.views != 4`})
	tk = e.refresh(r, "s1")
	if got, old := e.members("big-fans"), e.members("fans"); !slices.Equal(got, []string{"p3", "p5", "p6"}) || old != nil {
		t.Fatalf("after rename: big-fans %v, fans %v", got, old)
	}
	if tk.counters["entered"] != 1 || tk.counters["left"] != 1 || tk.counters["removed_names"] != 3 {
		t.Fatalf("rename counters %v", tk.counters)
	}
	if got := e.internalEvents("p5"); !slices.Equal(got, []string{"segment-entered:fans"}) {
		t.Fatalf("p5 was told about a rename: %v", got)
	}
	if got := e.internalEvents("p4"); !slices.Equal(got, []string{"segment-entered:fans", "segment-left:big-fans"}) {
		t.Fatalf("p4 events = %v", got)
	}

	// Disabled: members lose the name, without events.
	e.put(domain.Segment{Meta: domain.Meta{ID: "s1", Name: "Big fans", Enabled: false}, Condition: `stats.views >= 3`})
	tk = e.refresh(r, "s1")
	if got := e.members("big-fans"); got != nil || tk.total != 3 || tk.counters["removed_names"] != 3 {
		t.Fatalf("after disable: %v, total %d, %v", got, tk.total, tk.counters)
	}
	if got := e.internalEvents("p5"); len(got) != 1 {
		t.Fatalf("p5 events after disable = %v", got)
	}

	// Re-enabled, then deleted.
	e.put(domain.Segment{Meta: domain.Meta{ID: "s1", Name: "Big fans", Enabled: true}, Condition: `stats.views >= 3`})
	e.refresh(r, "s1")
	if got := e.members("big-fans"); len(got) != 4 {
		t.Fatalf("re-enabled: %v", got)
	}
	if err := e.store.Entities().Delete(context.Background(), domain.EntitySegment, "s1"); err != nil {
		t.Fatal(err)
	}
	e.engine.Invalidate()
	e.refresh(r, "s1")
	if got := e.members("big-fans"); got != nil {
		t.Fatalf("after delete: %v", got)
	}
	if tk := e.refresh(r, "s1"); tk.total != 0 {
		t.Fatalf("nothing left to clean, yet total %d", tk.total)
	}
}

// unsupportedStore answers query.ErrUnsupported for profile searches and scans with a
// condition combining others, as Elasticsearch does for conditions it cannot express.
type unsupportedStore struct{ storage.Store }

type unsupportedProfiles struct{ storage.Profiles }

func (s unsupportedStore) Profiles() storage.Profiles { return unsupportedProfiles{s.Store.Profiles()} }

func (p unsupportedProfiles) Search(ctx context.Context, q storage.Query) ([]*domain.Profile, int64, error) {
	if _, ok := q.Where.(*query.Binary); ok {
		return nil, 0, fmt.Errorf("searching: %w", query.ErrUnsupported)
	}
	return p.Profiles.Search(ctx, q)
}

func (p unsupportedProfiles) Scan(ctx context.Context, where query.Expr, after string, limit int) ([]*domain.Profile, error) {
	if _, ok := where.(*query.Binary); ok {
		return nil, fmt.Errorf("scanning: %w", query.ErrUnsupported)
	}
	return p.Profiles.Scan(ctx, where, after, limit)
}

// TestRefreshCandidates: with Candidates the job reads only the profiles that meet the
// condition or hold one of the segment's names, with the same result as reading all;
// a condition the store cannot express makes it read every profile.
func TestRefreshCandidates(t *testing.T) {
	e := newEnv(t)
	for i := 1; i <= 6; i++ {
		for j := 0; j < i; j++ {
			e.track(fmt.Sprint("p", i), pageView)
		}
	}
	r := segment.NewRefresher(e.store, e.col, 2)
	r.Candidates = true
	e.put(domain.Segment{Meta: domain.Meta{ID: "s1", Name: "Fans", Enabled: true}, Condition: `stats.views > 3`})
	tk := e.refresh(r, "s1")
	if got := e.members("fans"); !slices.Equal(got, []string{"p4", "p5", "p6"}) || tk.total != 3 || tk.done != 3 || tk.counters["entered"] != 3 {
		t.Fatalf("members = %v, total %d, done %d, %v", got, tk.total, tk.done, tk.counters)
	}
	// A new condition and a new name: p4 leaves (it holds the old name), p2 and p3 enter.
	e.put(domain.Segment{Meta: domain.Meta{ID: "s1", Name: "Regulars", Enabled: true}, Condition: `stats.views >= 2 AND stats.views != 4`})
	tk = e.refresh(r, "s1")
	if got, old := e.members("regulars"), e.members("fans"); !slices.Equal(got, []string{"p2", "p3", "p5", "p6"}) || old != nil || tk.total != 5 {
		t.Fatalf("regulars %v, fans %v, total %d", got, old, tk.total)
	}

	u := segment.NewRefresher(unsupportedStore{e.store}, e.col, 2)
	u.Candidates = true
	e.put(domain.Segment{Meta: domain.Meta{ID: "s1", Name: "Regulars", Enabled: true}, Condition: `stats.views > 4`})
	tk = e.refresh(u, "s1")
	if got := e.members("regulars"); !slices.Equal(got, []string{"p5", "p6"}) || tk.total != 6 || tk.done != 6 {
		t.Fatalf("unsupported condition: members = %v, total %d, done %d", got, tk.total, tk.done)
	}
}

// TestRenameBeforeAnyRefresh: the pipeline hands out a segment's machine name as soon
// as the segment is saved; a rename before any refresh ran must still remove it,
// because the API remembers every name it saves.
func TestRenameBeforeAnyRefresh(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	save := func(name string) {
		seg := domain.Segment{Meta: domain.Meta{ID: "s1", Name: name, Enabled: true}, Condition: `stats.views >= 1`}
		e.put(seg)
		seg.MachineName = domain.SegmentMachineName(name)
		if err := segment.Remember(ctx, e.store.Entities(), &seg); err != nil {
			t.Fatal(err)
		}
	}
	save("First")
	e.track("p1", pageView)
	save("Second")
	e.track("p2", pageView)
	save("Third")
	e.refresh(segment.NewRefresher(e.store, e.col, 0), "s1")
	for _, id := range []string{"p1", "p2"} {
		if got := e.profile(id).Segments; !slices.Equal(got, []string{"third"}) {
			t.Fatalf("%s segments = %v", id, got)
		}
	}
}

// TestRefreshWhileTracking runs a refresh while the same profiles receive views: the
// refresh goes through the pipeline's locks, so no view is lost and every profile
// ends in the segment exactly when its final view count says so.
func TestRefreshWhileTracking(t *testing.T) {
	e := newEnv(t)
	for i := 1; i <= 6; i++ {
		e.track(fmt.Sprint("p", i), pageView)
	}
	e.put(domain.Segment{Meta: domain.Meta{ID: "s1", Name: "Even views", Enabled: true}, Condition: `stats.views == [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22]`})
	r := segment.NewRefresher(e.store, e.col, 1)
	var wg sync.WaitGroup
	for i := 1; i <= 6; i++ {
		wg.Add(1)
		go func(pid string) {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				e.track(pid, pageView)
			}
		}(fmt.Sprint("p", i))
	}
	for k := 0; k < 3; k++ {
		e.refresh(r, "s1")
	}
	wg.Wait()
	for i := 1; i <= 6; i++ {
		p := e.profile(fmt.Sprint("p", i))
		if p.Stats.Views != 11 {
			t.Fatalf("%s views = %d", p.ID, p.Stats.Views)
		}
		if slices.Contains(p.Segments, "even-views") {
			t.Fatalf("%s with 11 views is in the segment", p.ID)
		}
	}
}

// BenchmarkEngineProcess measures the segmentation stage of one /track request with
// ten enabled segments on a profile with some data (no commit).
func BenchmarkEngineProcess(b *testing.B) {
	e := newEnv(b)
	conds := []string{`stats.views > 10`, `traits.plan == "gold"`, `data.contact.email.main ENDS WITH "@example.com"`,
		`metadata.time.visit.last < now.offset("-30d")`, `segments CONTAINS "x" OR stats.visits BETWEEN 2 AND 5`,
		`interests.shoes > 0.5`, `NOT traits.vip EXISTS`, `lower(data.pii.firstname) == "ann"`, `consents.marketing.granted == true`, `stats.counters.purchases >= 3`}
	for i, c := range conds {
		e.put(domain.Segment{Meta: domain.Meta{ID: fmt.Sprint("s", i), Name: fmt.Sprint("Segment ", i), Enabled: true}, Condition: c})
	}
	p := domain.NewProfile("p1", domain.Now())
	p.Stats.Views, p.Stats.Visits = 12, 3
	p.Traits["plan"] = "gold"
	p.Data["contact"] = map[string]any{"email": map[string]any{"main": "ann@example.com"}}
	p.Data["pii"] = map[string]any{"firstname": "Ann", "lastname": "Smith"}
	p.Interests["shoes"] = 0.7
	p.Stats.Counters["purchases"] = 4
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

// TestProfileDocMatchesJSON holds ProfileDoc to what encoding/json makes of a profile
// with every field set, and fails when domain.Profile gains a field it does not know.
func TestProfileDocMatchesJSON(t *testing.T) {
	p := fullProfile(domain.Now())
	for _, pr := range []*domain.Profile{p, {ID: "bare"}} {
		b, _ := json.Marshal(pr)
		var want map[string]any
		json.Unmarshal(b, &want)
		b, _ = json.Marshal(segment.ProfileDoc(pr))
		var got map[string]any
		json.Unmarshal(b, &got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ProfileDoc differs from JSON:\n got %v\nwant %v", got, want)
		}
	}
	// Every field of the profile's types: adding one means teaching ProfileDoc.
	known := map[reflect.Type]int{
		reflect.TypeFor[domain.Profile](): 11, reflect.TypeFor[domain.ProfileMetadata](): 4, reflect.TypeFor[domain.ProfileTime](): 4,
		reflect.TypeFor[domain.VisitTime](): 3, reflect.TypeFor[domain.ProfileStats](): 3, reflect.TypeFor[domain.Consent](): 2,
		reflect.TypeFor[domain.MergeRecord](): 5, reflect.TypeFor[domain.AppliedEvent](): 2,
	}
	for typ, n := range known {
		if typ.NumField() != n {
			t.Errorf("%s has %d fields, ProfileDoc knows %d: update segment.ProfileDoc and this test", typ, typ.NumField(), n)
		}
	}
}
