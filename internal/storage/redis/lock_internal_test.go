package redis

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// TestLockOfDeadHolderExpires: a lock left by a process that died (nobody renews it)
// is free once its TTL has passed.
func TestLockOfDeadHolderExpires(t *testing.T) {
	c := testClient(t, "dead")
	ctx := context.Background()
	// The dead process's lock: set as Lock sets it, and never renewed.
	if err := c.rdb.Set(ctx, c.key("lock", "p1"), "dead-token", 400*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	l := c.Locker(10*time.Second, nil)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(short, "p1"); err == nil {
		t.Fatal("took a lock that is held")
	}
	start := time.Now()
	wait, cancel2 := context.WithTimeout(ctx, 3*time.Second)
	defer cancel2()
	unlock, err := l.Lock(wait, "p1")
	if err != nil {
		t.Fatalf("the dead holder's lock did not expire: %v", err)
	}
	unlock()
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v", d)
	}
}

// TestPipelinedCommandsAfterScriptFlush: release and the cache's conditional set go
// through shared pipelines as EVALSHA; after Redis lost its scripts (a restart, SCRIPT
// FLUSH) they load them again instead of failing, and many callers at once each get
// their own answers.
func TestPipelinedCommandsAfterScriptFlush(t *testing.T) {
	c := testClient(t, "pipe")
	ctx := context.Background()
	l := c.Locker(10*time.Second, nil)
	cache := c.DocCache(time.Minute)
	for round := range 2 {
		if err := c.rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for i := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprintf("k%d-%d", round, i)
				unlock, err := l.Lock(ctx, key)
				if err != nil {
					errs <- err
					return
				}
				doc := storage.CachedDoc{Key: key, SeqNo: int64(i), Term: 1, Source: []byte(fmt.Sprintf(`{"i":%d}`, i))}
				if err := cache.Set(ctx, []storage.CachedDoc{doc}); err != nil {
					errs <- fmt.Errorf("set %s: %w", key, err)
				}
				got, ok, err := cache.Get(ctx, key)
				if err != nil || !ok || got.SeqNo != int64(i) || string(got.Source) != string(doc.Source) {
					errs <- fmt.Errorf("get %s: %v %v %+v", key, err, ok, got)
				}
				unlock()
				if n, err := c.rdb.Exists(ctx, c.key("lock", key)).Result(); err != nil || n != 0 {
					errs <- fmt.Errorf("lock %s still held after unlock (%v)", key, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}

// TestCombinedReleaseComparesEachToken: the releases of one pipeline go in one script
// run; each key is deleted only if it still holds its own releaser's token, so a lock
// that expired and was taken by another holder stays with that holder.
func TestCombinedReleaseComparesEachToken(t *testing.T) {
	c := testClient(t, "rel")
	ctx := context.Background()
	if !c.pipe.combine {
		t.Fatal("releases are not combined on a single Redis")
	}
	mine, theirs, gone := c.key("lock", "mine"), c.key("lock", "theirs"), c.key("lock", "gone")
	for k, v := range map[string]string{mine: "t-mine", theirs: "t-new-holder"} {
		if err := c.rdb.Set(ctx, k, v, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 2 { // the second after SCRIPT FLUSH: the script is loaded again
		if round == 1 {
			if err := c.rdb.Set(ctx, mine, "t-mine", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			if err := c.rdb.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		}
		rels := []*pipeRelease{{key: mine, token: "t-mine"}, {key: theirs, token: "t-old-holder"}, {key: gone, token: "t-gone"}}
		batch := make([]*pipeCall, len(rels))
		for i, r := range rels {
			batch[i] = &pipeCall{rel: r, done: make(chan struct{})}
		}
		c.pipe.send(batch) // one pipeline: one script run for the three
		for _, r := range rels {
			if r.err != nil {
				t.Fatalf("round %d: release of %s: %v", round, r.key, r.err)
			}
		}
		if n, _ := c.rdb.Exists(ctx, mine).Result(); n != 0 {
			t.Errorf("round %d: the releaser's own lock is still held", round)
		}
		if v, _ := c.rdb.Get(ctx, theirs).Result(); v != "t-new-holder" {
			t.Errorf("round %d: the new holder's lock was released (value %q)", round, v)
		}
	}
}

// testClient is a client on the Redis named by REDIS_HOST (and REDIS_PORT) with a key
// prefix of its own, dropped at the end of the test; it skips the test when REDIS_HOST
// is unset.
func testClient(t *testing.T, name string) *Client {
	t.Helper()
	host := os.Getenv("REDIS_HOST")
	if host == "" {
		t.Skip("REDIS_HOST is not set: no Redis to test against")
	}
	port := os.Getenv("REDIS_PORT")
	if port == "" {
		port = "6379"
	}
	c, err := New(Config{Addrs: []string{net.JoinHostPort(host, port)}, Password: os.Getenv("REDIS_PASSWORD"),
		KeyPrefix: fmt.Sprintf("tt-test-%s-%d", name, time.Now().UnixNano())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Drop(context.Background()); c.Close() })
	return c
}
