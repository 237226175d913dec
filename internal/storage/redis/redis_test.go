package redis_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/redis"
	"github.com/thamesthrive/thamesthrive/internal/storage/storagetest"
)

var seq atomic.Int64

// client returns a client on the Redis named by REDIS_HOST (and REDIS_PORT) with a key
// prefix of its own, or skips the test when REDIS_HOST is unset.
func client(t *testing.T) *redis.Client {
	t.Helper()
	host := os.Getenv("REDIS_HOST")
	if host == "" {
		t.Skip("REDIS_HOST is not set: no Redis to test against")
	}
	port := os.Getenv("REDIS_PORT")
	if port == "" {
		port = "6379"
	}
	c, err := redis.New(redis.Config{Addrs: []string{net.JoinHostPort(host, port)}, Password: os.Getenv("REDIS_PASSWORD"),
		KeyPrefix: fmt.Sprintf("tt-test-%d-%d", time.Now().UnixNano(), seq.Add(1))})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Drop(context.Background())
		c.Close()
	})
	return c
}

func TestLockerConformance(t *testing.T) {
	storagetest.RunLocker(t, client(t).Locker(0, nil))
}

func TestLockOfDeadHolderExpires(t *testing.T) {
	c := client(t)
	ctx := context.Background()
	dead := c.Locker(300*time.Millisecond, nil)
	if _, err := dead.Lock(ctx, "k"); err != nil { // never released, as if the process died
		t.Fatal(err)
	}
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
	// A process that stalled: its lock expired (nobody renewed it: simulate with a
	// second Locker that takes the key after the first one's release is delayed).
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
