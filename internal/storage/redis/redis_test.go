package redis_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/redis"
	"github.com/thamesthrive/thamesthrive/internal/storage/redis/redistest"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
	"github.com/thamesthrive/thamesthrive/internal/storage/storagetest"
)

// client returns a client on the Redis of REDIS_HOST with a key prefix of its own.
func client(t *testing.T) *redis.Client { return redistest.Client(t, "test") }

func TestLockerConformance(t *testing.T) {
	storagetest.RunLocker(t, client(t).Locker(0, nil))
}

func TestLockIsRenewedWhileHeld(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	holder := c.Locker(300*time.Millisecond, nil)
	unlock, err := holder.Lock(ctx, "k") // held for longer than its TTL
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	// While the holder lives its lock is renewed beyond its TTL.
	other := c.Locker(300*time.Millisecond, nil)
	c1, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
	defer cancel()
	if _, err := other.Lock(c1, "k"); err == nil {
		t.Fatal("took a lock that its holder keeps renewing")
	}
}

func TestUnlockAfterExpiryKeepsNewHolder(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	// a's release arrives again after b took the key (as a release from a holder whose
	// lock expired would): the compare-and-delete must leave b's lock alone.
	a := c.Locker(200*time.Millisecond, nil)
	unlockA, err := a.Lock(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	unlockA() // released normally
	b := c.Locker(10*time.Second, nil)
	unlockB, err := b.Lock(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	defer unlockB()
	unlockA() // a late second release must not free b's lock
	c1, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := a.Lock(c1, "k"); err == nil {
		t.Fatal("a stale release freed another holder's lock")
	}
}

func TestQueueConformance(t *testing.T) {
	storagetest.RunQueue(t, func(t *testing.T, o storagetest.QueueOptions) storage.Queue {
		return client(t).Queue(redis.QueueOptions{Lease: o.Lease, MaxDeliveries: o.MaxDeliveries, Poll: 50 * time.Millisecond})
	})
}

func TestDeadLettersConformance(t *testing.T) {
	storagetest.RunDeadLetters(t, func(t *testing.T) storagetest.DeadLetterQueue {
		return client(t).Queue(redis.QueueOptions{Lease: time.Minute, Poll: 50 * time.Millisecond})
	})
}

func TestDeliveryLogConformance(t *testing.T) {
	storagetest.RunDeliveryLog(t, client(t).DeliveryLog(0))
}

// TestQueueSurvivesConsumerDeath: a job taken by a consumer that dies is delivered to
// another process's consumer once the lease runs out.
func TestQueueSurvivesConsumerDeath(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	o := redis.QueueOptions{Lease: 300 * time.Millisecond, Poll: 50 * time.Millisecond}
	first, second := c.Queue(o), c.Queue(o)
	id, err := first.Enqueue(ctx, "deliveries", []byte("payload"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if j, err := first.Dequeue(ctx, "deliveries"); err != nil || j.ID != id {
		t.Fatalf("first: %v %v", j, err)
	}
	c1, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	j, err := second.Dequeue(c1, "deliveries")
	if err != nil || j.ID != id || j.Deliveries != 2 {
		t.Fatalf("second: %+v %v", j, err)
	}
	if err := second.Ack(ctx, j); err != nil {
		t.Fatal(err)
	}
}

func TestBusInvalidatesAcrossClients(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	a, err := c.Bus(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	got := make(chan string, 10)
	a.OnChange(func(kind, id string) {
		if kind != "" {
			got <- kind + "/" + id
		}
	})
	b, err := c.Bus(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Publish(ctx, "source", "web"); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m != "source/web" {
			t.Fatalf("got %q", m)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no invalidation received")
	}
}

func TestDocCacheKeepsNewestVersion(t *testing.T) {
	d := client(t).DocCache(time.Minute)
	ctx := context.Background()
	set := func(term, seq int64, src string) {
		t.Helper()
		if err := d.Set(ctx, []storage.CachedDoc{{Key: "profiles:p", Term: term, SeqNo: seq, Source: []byte(src)}}); err != nil {
			t.Fatal(err)
		}
	}
	get := func() string {
		t.Helper()
		doc, ok, err := d.Get(ctx, "profiles:p")
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return ""
		}
		return fmt.Sprintf("%d/%d %s", doc.Term, doc.SeqNo, doc.Source)
	}
	if got := get(); got != "" {
		t.Fatalf("empty cache answered %q", got)
	}
	set(1, 5, `{"v":5}`)
	set(1, 3, `{"v":3}`) // a late writer of an older version
	if got := get(); got != `1/5 {"v":5}` {
		t.Fatalf("got %q", got)
	}
	set(2, 1, `{"v":"t2"}`) // a new primary term outranks any sequence number of the old one
	if got := get(); got != `2/1 {"v":"t2"}` {
		t.Fatalf("got %q", got)
	}
	if err := d.Delete(ctx, "profiles:p", "profiles:other"); err != nil {
		t.Fatal(err)
	}
	if got := get(); got != "" {
		t.Fatalf("deleted entry answered %q", got)
	}
}

func TestRateLimiterIsShared(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	// Two replicas, one limit: 10/s with bursts of 5 for the key in all.
	a, b := c.RateLimiter(10, 5), c.RateLimiter(10, 5)
	allowed := 0
	var wait time.Duration
	for i := 0; i < 10; i++ {
		l := a
		if i%2 == 1 {
			l = b
		}
		ok, w, err := l.Allow(ctx, "1.2.3.4")
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			allowed++
		} else {
			wait = w
		}
	}
	if allowed < 5 || allowed > 6 {
		t.Fatalf("%d of 10 immediate requests allowed, want the burst of 5", allowed)
	}
	if wait <= 0 || wait > 200*time.Millisecond {
		t.Fatalf("retry after %v", wait)
	}
	time.Sleep(wait + 10*time.Millisecond)
	if ok, _, _ := a.Allow(ctx, "1.2.3.4"); !ok {
		t.Fatal("not allowed after waiting")
	}
	if ok, _, _ := b.Allow(ctx, "5.6.7.8"); !ok {
		t.Fatal("keys are not separate")
	}
}

func TestThrottleCountsPerWindow(t *testing.T) {
	th := client(t).Throttle()
	ctx := context.Background()
	for want := 1; want <= 3; want++ {
		n, reset, err := th.Hit(ctx, "ip:192.0.2.1", time.Minute)
		if err != nil || n != want || reset <= 0 || reset > time.Minute {
			t.Fatalf("hit %d: n=%d reset=%s err=%v", want, n, reset, err)
		}
	}
	if n, _, _ := th.Hit(ctx, "ip:192.0.2.2", time.Minute); n != 1 {
		t.Fatalf("keys are not separate: %d", n)
	}
	if err := th.Reset(ctx, "ip:192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := th.Hit(ctx, "ip:192.0.2.1", time.Minute); n != 1 {
		t.Fatalf("after reset: %d", n)
	}
	th.Hit(ctx, "short", 50*time.Millisecond)
	time.Sleep(120 * time.Millisecond)
	if n, _, _ := th.Hit(ctx, "short", 50*time.Millisecond); n != 1 {
		t.Fatalf("a new window did not start: %d", n)
	}
}

// TestNotifyingConformance: the store wrapped by Notifying (what every replica runs with
// REDIS_HOST set) is still a storage.Store in every respect the conformance suite checks,
// and it announces the entity changes the suite makes.
func TestNotifyingConformance(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	bus, err := c.Bus(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	listener, err := c.Bus(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	var changes atomic.Int64
	listener.OnChange(func(kind, _ string) {
		if kind != "" {
			changes.Add(1)
		}
	})
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return redis.Notifying(s, bus)
	})
	deadline := time.Now().Add(3 * time.Second)
	for changes.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if changes.Load() == 0 {
		t.Fatal("the suite changed entities but no change was announced")
	}
}

// TestQueuePutOnce: a swept item is queued under its own id once, however often it is
// put (a second sweep of the same outbox document, or two sweepers racing); a delayed
// one waits for its delay.
func TestQueuePutOnce(t *testing.T) {
	ctx := context.Background()
	q := client(t).Queue(redis.QueueOptions{Lease: time.Second})
	items := []*storage.WorkItem{{ID: "e1:d", Topic: "t", Payload: []byte(`1`)}, {ID: "e2:d", Topic: "t", Payload: []byte(`2`)}}
	for round, want := range []int{2, 0, 0} {
		n, err := q.Put(ctx, items)
		if err != nil || n != want {
			t.Fatalf("round %d: Put = %d, %v; want %d", round, n, err, want)
		}
	}
	if n, err := q.Put(ctx, []*storage.WorkItem{{ID: "e3:d", Topic: "t", Payload: []byte(`3`), Delay: time.Hour}}); n != 1 || err != nil {
		t.Fatalf("delayed Put = %d, %v", n, err)
	}
	if d, _ := q.Depth(ctx, "t"); d != 3 {
		t.Fatalf("depth %d, want 3 (two due, one delayed)", d)
	}
	got := map[string]string{}
	for range 2 {
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		j, err := q.Dequeue(dctx, "t")
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		got[j.ID] = string(j.Payload)
		if err := q.Ack(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	if got["e1:d"] != "1" || got["e2:d"] != "2" {
		t.Fatalf("dequeued %v, want the items under their own ids", got)
	}
	dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if j, err := q.Dequeue(dctx, "t"); err == nil {
		t.Fatalf("dequeued %s: the delayed item (or a repeat) was due", j.ID)
	}
}
