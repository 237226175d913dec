package integration

import (
	"context"
	"net/http"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// TestRetryAfterLostProfileWriteCountsOnce: on OpenSearch an event and its profile are
// separate documents of one bulk write, so a commit can store the event and lose the
// profile write (here: the profiles index refuses writes for a moment). The client gets
// a 503 and retries the same event id; the retry must apply the event's change to the
// profile (it was lost), and a further retry must not apply it again.
func TestRetryAfterLostProfileWriteCountsOnce(t *testing.T) {
	c := newCluster(t, 1)
	c.source(c.replicas[0], "web")
	r := c.replicas[0]
	profiles := c.prefix + "-profiles"
	track := func(eid string) *response {
		t.Helper()
		return r.do("POST", "/track", pageView("lost-1", "s-lost-1", eid))
	}
	for _, eid := range []string{"lost-e0", "lost-e0b"} { // an existing profile, with events applied before
		if res := track(eid); res.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", eid, res.Status, res.Body)
		}
	}

	c.blockWrites(profiles, true)
	res := track("lost-e1")
	c.blockWrites(profiles, false)
	if res.Status != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("a commit whose profile write failed: %d %s (Retry-After %q), want 503 with Retry-After",
			res.Status, res.Body, res.Header.Get("Retry-After"))
	}
	s := c.openStore()
	ctx := context.Background()
	s.Refresh(ctx)
	if got, err := s.Events().Existing(ctx, []string{"lost-e1"}); err != nil || !got["lost-e1"] {
		t.Fatalf("the event of the failed commit should be stored (the case under test): %v %v", got, err)
	}

	for i := range 2 { // the SDK's retry, then a duplicate retry
		if res := track("lost-e1"); res.Status != http.StatusOK {
			t.Fatalf("retry %d: %d %s", i, res.Status, res.Body)
		}
	}
	s.Refresh(ctx)
	p, err := s.Profiles().Get(ctx, "lost-1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Stats.Views != 3 {
		t.Errorf("profile views %d after 3 acknowledged page views (one retried after its profile write was lost), want 3", p.Stats.Views)
	}
	if _, total, err := s.Events().ListByProfile(ctx, []string{"lost-1"}, storage.Page{Limit: 1}); err != nil || total != 3 {
		t.Errorf("events stored for the profile: %d (%v), want 3", total, err)
	}
}

// TestRetryAfterLostEventWriteCountsOnce is the other way round: the event write fails
// (the events index refuses writes for a moment). The commit must not leave the profile
// with the event's change either (the profile is written only once the events are
// stored), or the retry, finding no event, would apply it a second time.
func TestRetryAfterLostEventWriteCountsOnce(t *testing.T) {
	c := newCluster(t, 1)
	c.source(c.replicas[0], "web")
	r := c.replicas[0]
	events := c.prefix + "-events" // the read alias: every monthly index
	track := func(eid string) *response {
		t.Helper()
		return r.do("POST", "/track", pageView("lost-2", "s-lost-2", eid))
	}
	if res := track("lost-f0"); res.Status != http.StatusOK {
		t.Fatalf("first view: %d %s", res.Status, res.Body)
	}
	c.blockWrites(events, true)
	res := track("lost-f1")
	c.blockWrites(events, false)
	if res.Status != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("a commit whose event write failed: %d %s, want 503 with Retry-After", res.Status, res.Body)
	}
	s := c.openStore()
	ctx := context.Background()
	s.Refresh(ctx)
	if p, err := s.Profiles().Get(ctx, "lost-2"); err != nil {
		t.Fatal(err)
	} else if p.Stats.Views != 1 {
		t.Fatalf("after the failed commit the profile has %d views, want 1: it was written with the change of an event that is not stored", p.Stats.Views)
	}
	for i := range 2 {
		if res := track("lost-f1"); res.Status != http.StatusOK {
			t.Fatalf("retry %d: %d %s", i, res.Status, res.Body)
		}
	}
	s.Refresh(ctx)
	p, err := s.Profiles().Get(ctx, "lost-2")
	if err != nil {
		t.Fatal(err)
	}
	if p.Stats.Views != 2 {
		t.Errorf("profile views %d after 2 acknowledged page views (one retried after its event write was lost), want 2", p.Stats.Views)
	}
	if _, total, err := s.Events().ListByProfile(ctx, []string{"lost-2"}, storage.Page{Limit: 1}); err != nil || total != 2 {
		t.Errorf("events stored for the profile: %d (%v), want 2", total, err)
	}
}

// TestRetryWithoutIDsAfterLostProfileWrite: a new visitor's request names no profile or
// session (the server makes them) and its profile write is lost while its event is
// stored. The client's retry, still naming no ids, must not be answered with the id of a
// profile that does not exist: it is processed again under the ids the first attempt
// made, so the profile is written with the event applied once, and a further retry
// answers the same profile.
func TestRetryWithoutIDsAfterLostProfileWrite(t *testing.T) {
	c := newCluster(t, 1)
	c.source(c.replicas[0], "web")
	r := c.replicas[0]
	profiles := c.prefix + "-profiles"
	body := map[string]any{"source": map[string]any{"id": "web"},
		"events": []any{map[string]any{"id": "anon-e1", "type": "page-view"}}}

	c.blockWrites(profiles, true)
	res := r.do("POST", "/track", body)
	c.blockWrites(profiles, false)
	if res.Status != http.StatusServiceUnavailable {
		t.Fatalf("a commit whose profile write failed: %d %s, want 503", res.Status, res.Body)
	}
	s := c.openStore()
	ctx := context.Background()
	s.Refresh(ctx)
	ev, err := s.Events().Get(ctx, "anon-e1")
	if err != nil {
		t.Fatalf("the event of the failed commit should be stored (the case under test): %v", err)
	}

	var pids []string
	for i := range 2 { // the SDK's retry, then a duplicate retry
		res := r.do("POST", "/track", body)
		if res.Status != http.StatusOK {
			t.Fatalf("retry %d: %d %s", i, res.Status, res.Body)
		}
		prof, _ := res.JSON(t)["profile"].(map[string]any)
		pid, _ := prof["id"].(string)
		pids = append(pids, pid)
	}
	if pids[0] != ev.Profile.ID || pids[1] != ev.Profile.ID {
		t.Errorf("retries answered profiles %v, want the stored event's %s", pids, ev.Profile.ID)
	}
	s.Refresh(ctx)
	p, err := s.Profiles().Get(ctx, ev.Profile.ID)
	if err != nil {
		t.Fatalf("the profile the retries answered: %v", err)
	}
	if p.Stats.Views != 1 || p.Stats.Visits != 1 {
		t.Errorf("profile views %d, visits %d after one acknowledged page view, want 1 and 1", p.Stats.Views, p.Stats.Visits)
	}
	if _, total, err := s.Events().ListByProfile(ctx, []string{ev.Profile.ID}, storage.Page{Limit: 1}); err != nil || total != 1 {
		t.Errorf("events stored for the profile: %d (%v), want 1", total, err)
	}
}
