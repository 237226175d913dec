package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/later"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/redis"
	"github.com/thamesthrive/thamesthrive/test/testserver"
)

// blockWrites sets index.blocks.write on the indices behind name (an index or alias)
// on the cluster, or clears it: a real refusal by the cluster (HTTP 403,
// cluster_block_exception) of every write to them, reads unaffected.
func (c *cluster) blockWrites(name string, block bool) {
	c.t.Helper()
	var v any
	if block {
		v = true
	}
	body, _ := json.Marshal(map[string]any{"index.blocks.write": v})
	req, err := http.NewRequest(http.MethodPut, strings.TrimRight(c.elastic.Hosts[0], "/")+"/"+name+"/_settings", bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	switch {
	case c.elastic.APIKey != "":
		req.Header.Set("Authorization", "ApiKey "+c.elastic.APIKey)
	case c.elastic.Username != "":
		req.SetBasicAuth(c.elastic.Username, c.elastic.Password)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		c.t.Fatalf("setting index.blocks.write=%v on %s: %d %s", block, name, res.StatusCode, b)
	}
}

// TestRetriedEventGetsItsDelivery reproduces the one window of the production outbox
// (docs/architecture.md, "Background work"): the cluster stores an event but refuses
// its outbox document (the outbox index is write-blocked, a real cluster refusal), so
// /track answers 503 with the event stored and its delivery not queued. The client's
// retry of the same body — with profile and session ids (the pipeline's path) and
// without (a replay answered from the stored event) — is answered 200 as already
// received and plans the delivery again: the receiver gets each event exactly once,
// with its Idempotency-Key, and a further retry after the delivery adds nothing (the
// sweeper's marker).
func TestRetriedEventGetsItsDelivery(t *testing.T) {
	c := newClusterEnv(t, 1, "OUTBOUND_ALLOW_PRIVATE=yes", "RUN_WORKERS=no")
	r := c.replicas[0]
	c.source(r, "web")
	c.startWorker()
	const dest = "it-retry"
	rc := testserver.NewReceiver(t, dest)
	c.hookDestination(dest, rc.URL()+"/hook", 1)
	// The whole path works before the fault: the replica knows the destination, the
	// worker sweeps and delivers.
	for i := 0; ; i++ {
		if ok, st := trackOnce(r, pageView("p-warm", "s-warm", fmt.Sprintf("warm-%d", i))); !ok {
			t.Fatalf("warm-up event: %d", st)
		}
		if waitUntil(5*time.Second, func() bool { return len(rc.Missing([]string{fmt.Sprintf("warm-%d", i)})) == 0 }) {
			break
		}
		if i == 5 {
			t.Fatalf("warm-up events never delivered:\nserve: %s\n", r.Stderr)
		}
	}

	withIDs := pageView("p-retry", "s-retry", "rt-a")
	bare := map[string]any{"source": map[string]any{"id": "web"}, "events": []any{map[string]any{"id": "rt-b", "type": "page-view"}}}
	outbox := c.prefix + "-outbox"
	c.blockWrites(outbox, true)
	unblocked := false
	defer func() {
		if !unblocked {
			c.blockWrites(outbox, false)
		}
	}()
	for _, body := range []map[string]any{withIDs, bare} {
		res := r.do("POST", "/track", body)
		if res.Status != http.StatusServiceUnavailable {
			t.Fatalf("/track with the outbox refused: %d %s, want 503", res.Status, res.Body)
		}
		t.Logf("/track with the outbox index write-blocked: %d %s", res.Status, bytes.TrimSpace(res.Body))
	}
	// The gap is real: the events are stored, their deliveries are not queued.
	st := c.openStore()
	stored, err := st.Events().Existing(context.Background(), []string{"rt-a", "rt-b"})
	if err != nil || !stored["rt-a"] || !stored["rt-b"] {
		t.Fatalf("events stored while the outbox refused writes: %v %v (the fault did not reproduce the gap)", stored, err)
	}
	c.blockWrites(outbox, false)
	unblocked = true

	retry := func(when string) {
		t.Helper()
		for _, body := range []map[string]any{withIDs, bare} {
			res := r.do("POST", "/track", body)
			if res.Status != http.StatusOK || !strings.Contains(string(res.Body), "already received") {
				t.Fatalf("retry %s: %d %s", when, res.Status, res.Body)
			}
		}
	}
	retry("after the fault")
	waitDelivered(t, rc, dest, []string{"rt-a", "rt-b"}, time.Minute)
	// The checks that end the sessions the failed requests started were lost with the
	// outbox documents too, and are queued again: one each for s-warm, s-retry and the
	// session made up for the request without ids (30 min away, so they wait in the
	// delay set).
	rq := c.redisQueue()
	sessionChecks := func() int64 {
		n, err := rq.Depth(context.Background(), later.TopicSessionEnd)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if !waitUntil(30*time.Second, func() bool { return sessionChecks() == 3 }) {
		t.Fatalf("%d session-end checks queued, want 3", sessionChecks())
	}

	// A retry after the delivery writes the outbox documents again; the sweeper finds
	// them marked as queued and queues nothing. A later event to the same destination
	// (one delivery at a time, in queue order) arrives after anything they had queued.
	retry("after the delivery")
	if ok, st := trackOnce(r, pageView("p-retry", "s-retry", "rt-after")); !ok {
		t.Fatalf("later event: %d", st)
	}
	waitDelivered(t, rc, dest, []string{"rt-after"}, time.Minute)
	if n := sessionChecks(); n != 3 {
		t.Errorf("%d session-end checks queued after the second retry, want still 3", n)
	}
	for _, id := range []string{"rt-a", "rt-b", "rt-after"} {
		if n := rc.Count(id); n != 1 {
			t.Errorf("event %s delivered %d times, want once", id, n)
		}
	}
	if bad := rc.Bad(); len(bad) > 0 {
		t.Errorf("deliveries with a key that does not name their event: %v", bad)
	}
}

// redisQueue opens the cluster's Redis queue in the test process.
func (c *cluster) redisQueue() *redis.Queue {
	c.t.Helper()
	rc, err := redis.New(redis.Config{Addrs: []string{os.Getenv("REDIS_HOST") + ":" + envOr("REDIS_PORT", "6379")},
		Password: os.Getenv("REDIS_PASSWORD"), KeyPrefix: c.prefix})
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { rc.Close() })
	return rc.Queue(redis.QueueOptions{})
}

// waitUntil polls cond every 100 ms for up to d and says whether it came true.
func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

// TestOutboxReplannedItemIsCreateOnly: a work item committed again under the id of one
// still in the outbox (a client's retry before the sweep) is a create conflict the
// store counts as success; the outbox keeps one document, the first one.
func TestOutboxReplannedItemIsCreateOnly(t *testing.T) {
	eachEngine(t, func(t *testing.T, e engine) {
		ctx := context.Background()
		st := openStore(t, migrated(t, e, nil))
		first := &storage.WorkItem{ID: "ev-1:crm", Topic: "destination:crm", Payload: []byte(`{"n":1}`)}
		again := &storage.WorkItem{ID: "ev-1:crm", Topic: "destination:crm", Payload: []byte(`{"n":2}`), Replanned: true}
		if err := st.Commit(ctx, &storage.Batch{Work: []*storage.WorkItem{first}}); err != nil {
			t.Fatal(err)
		}
		if err := st.Commit(ctx, &storage.Batch{Work: []*storage.WorkItem{again}}); err != nil {
			t.Fatalf("committing a replanned item already in the outbox: %v, want success", err)
		}
		var items []*storage.WorkItem
		if !waitUntil(10*time.Second, func() bool {
			var err error
			items, err = st.Outbox().Pending(ctx, 10)
			return err == nil && len(items) > 0
		}) {
			t.Fatal("the outbox item never became visible")
		}
		if len(items) != 1 || items[0].ID != "ev-1:crm" || string(items[0].Payload) != `{"n":1}` {
			t.Fatalf("outbox after a replanned commit: %d items, first %+v", len(items), items[0])
		}
	})
}
