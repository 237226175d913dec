package later_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/later"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

// putOnce is the queue's contract the scheduler relies on: a job id is queued once.
type putOnce struct {
	mu   sync.Mutex
	seen map[string]bool
	jobs []string
}

func (p *putOnce) put(_ context.Context, items []*storage.WorkItem) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, it := range items {
		if !p.seen[it.ID] {
			p.seen[it.ID] = true
			p.jobs = append(p.jobs, it.ID)
		}
	}
	return nil
}

// TestSchedulerFiresEachDueTimeOnce: two schedulers (two worker processes) over one
// store fire a schedule once per due time, collapse missed due times to the latest,
// and leave disabled schedules alone.
func TestSchedulerFiresEachDueTimeOnce(t *testing.T) {
	st, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for _, sc := range []domain.Schedule{
		{Meta: domain.Meta{ID: "s", Enabled: true, Updated: domain.NewTime(t0)}, Cron: "@every 10s", FlowID: "f", Target: "once"},
		{Meta: domain.Meta{ID: "off", Enabled: false, Updated: domain.NewTime(t0)}, Cron: "@every 10s", FlowID: "f", Target: "once"},
	} {
		doc, _ := json.Marshal(sc)
		if _, err := st.Entities().Put(ctx, &storage.Entity{Kind: domain.EntitySchedule, ID: sc.ID, Doc: doc}, 0); err != nil {
			t.Fatal(err)
		}
	}
	q := &putOnce{seen: map[string]bool{}}
	var now time.Time
	clock := func() time.Time { return now }
	log := slog.New(slog.DiscardHandler)
	a := &later.Scheduler{Entities: st.Entities(), Queue: q.put, Logger: log, Now: clock}
	b := &later.Scheduler{Entities: st.Entities(), Queue: q.put, Logger: log, Now: clock}
	ms := func(d time.Duration) string { return "schedule:s:" + itoa(t0.Add(d).UnixMilli()) + ":" }
	for _, step := range []struct {
		at   time.Duration
		want []string // all jobs queued so far
	}{
		{5 * time.Second, nil},
		{10 * time.Second, []string{ms(10 * time.Second)}},
		{15 * time.Second, []string{ms(10 * time.Second)}},
		{20 * time.Second, []string{ms(10 * time.Second), ms(20 * time.Second)}},
		// 21-44 s: nobody looked; at 45 s only the latest due time (40 s) fires.
		{45 * time.Second, []string{ms(10 * time.Second), ms(20 * time.Second), ms(40 * time.Second)}},
	} {
		now = t0.Add(step.at)
		for _, s := range []*later.Scheduler{a, b, a} {
			if err := s.Tick(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if len(q.jobs) != len(step.want) {
			t.Fatalf("at +%s: jobs %v, want %v", step.at, q.jobs, step.want)
		}
		for i := range step.want {
			if q.jobs[i] != step.want[i] {
				t.Fatalf("at +%s: jobs %v, want %v", step.at, q.jobs, step.want)
			}
		}
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
