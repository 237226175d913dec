package storagetest

import (
	"context"
	"errors"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// testErasure checks storage.Erasure: a person's profiles (live and tombstone), sessions
// and events go, nobody else's, and the same ids can be written again afterwards.
func testErasure(t *testing.T, s storage.Store) {
	ctx := context.Background()
	er := s.Erasure()
	for _, b := range []*storage.Batch{
		SampleBatch("er-a", "er-s1", "er-e1", "er-e2"),
		SampleBatch("er-b", "er-s2", "er-e3"),
		SampleBatch("er-keep", "er-s3", "er-e4"),
	} {
		if err := s.Commit(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	extra := SampleBatch("er-a", "er-s4", "er-e5")
	extra.Profiles = nil
	if err := s.Commit(ctx, extra); err != nil {
		t.Fatal(err)
	}
	sess, err := er.SessionsOf(ctx, []string{"er-a", "er-b"}, 100)
	if err != nil || len(sess) != 3 {
		t.Fatalf("SessionsOf: %d sessions, %v; want 3", len(sess), err)
	}
	if evs, total, err := er.EventsOf(ctx, []string{"er-a", "er-b"}, 3); err != nil || len(evs) != 3 || total != 4 {
		t.Fatalf("EventsOf: %d events of %d, %v; want 3 of 4", len(evs), total, err)
	}
	n, err := er.Erase(ctx, []string{"er-a", "er-b", "er-never"})
	if err != nil {
		t.Fatal(err)
	}
	if n != (storage.Erased{Profiles: 2, Sessions: 3, Events: 4}) {
		t.Fatalf("erased %+v, want 2 profiles, 3 sessions, 4 events", n)
	}
	for _, id := range []string{"er-a", "er-b"} {
		if _, err := s.Profiles().Get(ctx, id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("profile %s after erasure: %v", id, err)
		}
	}
	if _, err := s.Sessions().Get(ctx, "er-s1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("session after erasure: %v", err)
	}
	if evs, total, err := s.Events().ListByProfile(ctx, []string{"er-a", "er-b"}, storage.Page{Limit: 10}); err != nil || total != 0 || len(evs) != 0 {
		t.Errorf("events after erasure: %d (%d), %v", len(evs), total, err)
	}
	if _, err := s.Events().Get(ctx, "er-e1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("event after erasure: %v", err)
	}
	if _, total, err := s.Profiles().Search(ctx, storage.Query{}); err != nil || total != 1 {
		t.Errorf("profiles left: %d, %v; want 1", total, err)
	}
	if got, err := s.Profiles().FindByKey(ctx, "data.contact.email.main", "a@example.com", 10); err != nil || len(got) != 1 || got[0].ID != "er-keep" {
		t.Errorf("FindByKey after erasure: %v, %v", ids(got), err)
	}
	// The same ids can come back.
	if err := s.Commit(ctx, SampleBatch("er-a", "er-s1", "er-e1")); err != nil {
		t.Fatalf("writing an erased id again: %v", err)
	}
	if p, err := s.Profiles().Get(ctx, "er-a"); err != nil || p.Stats.Views != 1 {
		t.Fatalf("profile written again: %+v, %v", p, err)
	}

	// Single documents.
	if err := er.DeleteEvent(ctx, "er-e4"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Events().Get(ctx, "er-e4"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("deleted event: %v", err)
	}
	if err := er.DeleteEvent(ctx, "er-e4"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("deleting a deleted event: %v", err)
	}
	if err := er.DeleteSession(ctx, "er-s3"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sessions().Get(ctx, "er-s3"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("deleted session: %v", err)
	}
	if err := er.DeleteSession(ctx, "er-s3"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("deleting a deleted session: %v", err)
	}
	if err := s.Commit(ctx, &storage.Batch{Sessions: []*domain.Session{{ID: "er-s3", Profile: domain.Ref{ID: "er-keep"}}}}); err != nil {
		t.Fatalf("writing a deleted session again: %v", err)
	}
}
