package cache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is a manual clock: tests move time, they never wait for it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// source is a loader that counts its calls and fails while down.
type source struct {
	loads atomic.Int64
	down  atomic.Bool
	val   atomic.Int64
	gate  chan struct{} // if set, each load waits for it
}

var errDown = errors.New("source down")

func (s *source) load(ctx context.Context, _ int64, _ bool) (int64, error) {
	s.loads.Add(1)
	if s.gate != nil {
		<-s.gate
	}
	if s.down.Load() {
		return 0, errDown
	}
	return s.val.Load(), nil
}

func newValue(s *source, c *clock, stale *atomic.Int64) *Value[int64] {
	return New(Config{TTL: 5 * time.Second, Now: c.now, OnStale: func(error) { stale.Add(1) }}, s.load)
}

func TestValuePolicy(t *testing.T) {
	ctx := context.Background()
	type step struct {
		advance time.Duration
		down    bool
		set     int64 // new value at the source (0: unchanged)
		inval   bool
		want    int64
		wantErr bool
		loads   int64 // loads so far
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"fresh values are not reloaded", []step{
			{set: 1, want: 1, loads: 1}, {advance: time.Second, set: 2, want: 1, loads: 1}, {advance: 4 * time.Second, want: 2, loads: 2}}},
		{"invalidate reloads at once", []step{
			{set: 1, want: 1, loads: 1}, {set: 2, inval: true, want: 2, loads: 2}}},
		{"an outage serves the stale value with back-off", []step{
			{set: 1, want: 1, loads: 1},
			{advance: 5 * time.Second, down: true, want: 1, loads: 2},        // reload fails: stale, back-off 1s
			{advance: 500 * time.Millisecond, down: true, want: 1, loads: 2}, // within back-off: no reload
			{advance: 600 * time.Millisecond, down: true, want: 1, loads: 3}, // back-off 2s now
			{advance: time.Second, down: true, want: 1, loads: 3},
			{advance: 1100 * time.Millisecond, down: true, want: 1, loads: 4}, // back-off 4s now
			{advance: 4100 * time.Millisecond, set: 7, want: 7, loads: 5},     // back up
			{advance: time.Second, want: 7, loads: 5},                         // fresh again for the TTL
		}},
		{"without a value the error is returned", []step{
			{down: true, wantErr: true, loads: 1}, {down: true, wantErr: true, loads: 2}, {set: 3, want: 3, loads: 3}}},
		{"an invalidated value survives a failed reload", []step{
			{set: 1, want: 1, loads: 1}, {inval: true, down: true, want: 1, loads: 2}, {advance: 1100 * time.Millisecond, set: 2, want: 2, loads: 3}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: time.Unix(1e9, 0)}
			s := &source{}
			var stale atomic.Int64
			v := newValue(s, c, &stale)
			for i, st := range tc.steps {
				c.add(st.advance)
				s.down.Store(st.down)
				if st.set != 0 {
					s.val.Store(st.set)
				}
				if st.inval {
					v.Invalidate()
				}
				got, err := v.Get(ctx)
				if (err != nil) != st.wantErr || (!st.wantErr && got != st.want) {
					t.Fatalf("step %d: Get = %d, %v; want %d (error %v)", i, got, err, st.want, st.wantErr)
				}
				if n := s.loads.Load(); n != st.loads {
					t.Fatalf("step %d: %d loads, want %d", i, n, st.loads)
				}
			}
		})
	}
}

// TestOutageDoesNotMultiplyReloads: many readers of an expired value during an outage
// cause one reload, not one each; readers with a stale value do not wait for it.
func TestOutageDoesNotMultiplyReloads(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Unix(1e9, 0)}
	s := &source{}
	s.val.Store(1)
	var stale atomic.Int64
	v := newValue(s, c, &stale)
	if _, err := v.Get(ctx); err != nil {
		t.Fatal(err)
	}
	c.add(10 * time.Second)
	s.down.Store(true)
	s.gate = make(chan struct{})
	first := make(chan int64)
	go func() { got, _ := v.Get(ctx); first <- got }() // starts the (slow) reload
	for s.loads.Load() != 2 {
		time.Sleep(time.Millisecond)
	}
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got, err := v.Get(ctx); err != nil || got != 1 {
				t.Errorf("Get during the reload = %d, %v; want the stale 1", got, err)
			}
		}()
	}
	wg.Wait() // all returned while the reload is still blocked
	close(s.gate)
	if got := <-first; got != 1 {
		t.Fatalf("the reloading reader got %d, want the stale 1", got)
	}
	for range 100 {
		v.Get(ctx) // within the back-off
	}
	if n := s.loads.Load(); n != 2 {
		t.Fatalf("%d loads, want 2 (one initial, one failed reload)", n)
	}
	if stale.Load() != 1 {
		t.Fatalf("OnStale called %d times, want 1", stale.Load())
	}
}

// TestWaitersShareOneLoad: without a value, concurrent readers wait for one load and
// share its result (also its error).
func TestWaitersShareOneLoad(t *testing.T) {
	for _, down := range []bool{false, true} {
		c := &clock{t: time.Unix(1e9, 0)}
		s := &source{gate: make(chan struct{})}
		s.val.Store(5)
		s.down.Store(down)
		var stale atomic.Int64
		v := newValue(s, c, &stale)
		var wg sync.WaitGroup
		var errs atomic.Int64
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := v.Get(context.Background())
				if err != nil {
					errs.Add(1)
				} else if got != 5 {
					t.Errorf("got %d", got)
				}
			}()
		}
		for s.loads.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond) // let the others queue behind the load
		close(s.gate)
		wg.Wait()
		if down && errs.Load() == 0 || !down && errs.Load() != 0 {
			t.Fatalf("down=%v: %d errors", down, errs.Load())
		}
		if n := s.loads.Load(); n > 2 {
			t.Fatalf("down=%v: %d loads for 50 concurrent readers", down, n)
		}
	}
}

func TestRefresh(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Unix(1e9, 0)}
	s := &source{}
	s.val.Store(1)
	v := New(Config{Now: c.now}, s.load) // TTL 0: fresh until invalidated
	v.Get(ctx)
	s.val.Store(2)
	c.add(time.Hour)
	if got, _ := v.Get(ctx); got != 1 {
		t.Fatalf("TTL 0 value expired: %d", got)
	}
	if got, _ := v.Refresh(ctx, time.Second); got != 2 || s.loads.Load() != 2 {
		t.Fatalf("Refresh of an old value = %d after %d loads", got, s.loads.Load())
	}
	s.val.Store(3)
	if got, _ := v.Refresh(ctx, time.Second); got != 2 || s.loads.Load() != 2 {
		t.Fatal("Refresh reloaded a value younger than minAge")
	}
}

func TestMap(t *testing.T) {
	ctx := context.Background()
	var loads atomic.Int64
	m := NewMap(Config{TTL: time.Hour}, 3, func(_ context.Context, k string, _ string, _ bool) (string, error) {
		loads.Add(1)
		return "v-" + k, nil
	})
	for _, k := range []string{"a", "b", "a", "c"} {
		if got, _ := m.Get(ctx, k); got != "v-"+k {
			t.Fatalf("Get(%s) = %s", k, got)
		}
	}
	if loads.Load() != 3 {
		t.Fatalf("%d loads, want 3", loads.Load())
	}
	m.Invalidate("a")
	m.Get(ctx, "a")
	m.Get(ctx, "b")
	if loads.Load() != 4 {
		t.Fatalf("%d loads after invalidating a, want 4", loads.Load())
	}
	m.Get(ctx, "d") // a fourth key: the map starts again
	m.Get(ctx, "a")
	if loads.Load() != 6 {
		t.Fatalf("%d loads after overflowing the map, want 6", loads.Load())
	}
}
