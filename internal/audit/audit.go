// Package audit keeps the trail of changes to configuration and users: who changed
// what, how, and when. Entries are configuration entities of kind "audit", so every
// storage backend keeps them through storage.Entities; their ids sort newest first,
// so the store's own id order pages them without loading them all.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Actions.
const (
	ActionCreate  = "create"
	ActionUpdate  = "update"
	ActionDelete  = "delete"
	ActionInstall = "install"
	// ActionPassword is a change of a user's password.
	ActionPassword = "password"
	// ActionRevokeTokens ends every session (token) of a user.
	ActionRevokeTokens = "revoke_tokens"
)

// Entry is one recorded change.
type Entry struct {
	ID   string      `json:"id"`
	Time domain.Time `json:"time"`
	// Actor is the id of the user who made the change ("" for the installation).
	Actor    string `json:"actor"`
	Action   string `json:"action"`
	Kind     string `json:"kind"`
	ObjectID string `json:"object_id"`
	// Version is the object's version after the change (0 for deletions).
	Version  int64  `json:"version,omitempty"`
	ClientIP string `json:"client_ip,omitempty"`
}

// Log stores e, filling its id and time.
func Log(ctx context.Context, entities storage.Entities, e *Entry) error {
	if e.Time.IsZero() {
		e.Time = domain.Now()
	}
	e.ID = newID(time.Now())
	doc, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := entities.Put(ctx, &storage.Entity{Kind: domain.EntityAudit, ID: e.ID, Doc: doc}, 0); err != nil {
		return fmt.Errorf("recording audit entry: %w", err)
	}
	return nil
}

// lastNano makes the ids of one process strictly ordered even when two changes fall in
// the same clock tick: it is a clock, not state.
var lastNano atomic.Int64

// newID makes ids whose byte order is newest first: the time in nanoseconds counted
// down from the end of time, in fixed-width hex, then a random suffix against
// collisions between processes.
func newID(t time.Time) string {
	n := t.UnixNano()
	for {
		last := lastNano.Load()
		if n <= last {
			n = last + 1
		}
		if lastNano.CompareAndSwap(last, n) {
			break
		}
	}
	var suffix [4]byte
	rand.Read(suffix[:])
	return fmt.Sprintf("%016x-%s", uint64(math.MaxInt64-n), hex.EncodeToString(suffix[:]))
}

// Filter selects entries; empty fields match everything.
type Filter struct {
	Actor, Action, Kind, ObjectID string
}

func (f Filter) empty() bool { return f == Filter{} }

func (f Filter) match(e *Entry) bool {
	return (f.Actor == "" || f.Actor == e.Actor) && (f.Action == "" || f.Action == e.Action) &&
		(f.Kind == "" || f.Kind == e.Kind) && (f.ObjectID == "" || f.ObjectID == e.ObjectID)
}

// List returns one page of entries matching f, newest first, and how many match.
// Without a filter the store pages; with one, entries are scanned here (the trail is
// configuration-sized, not event-sized).
func List(ctx context.Context, entities storage.Entities, f Filter, page storage.Page) ([]*Entry, int64, error) {
	opts := storage.ListOptions{}
	if f.empty() {
		opts.Page = page
	}
	ents, total, err := entities.List(ctx, domain.EntityAudit, opts)
	if err != nil {
		return nil, 0, fmt.Errorf("listing audit entries: %w", err)
	}
	out := make([]*Entry, 0, min(len(ents), max(page.Limit, 0)))
	n := int64(0)
	for _, ent := range ents {
		var e Entry
		if err := json.Unmarshal(ent.Doc, &e); err != nil {
			return nil, 0, fmt.Errorf("decoding audit entry %q: %w", ent.ID, err)
		}
		if f.empty() {
			out = append(out, &e)
			continue
		}
		if !f.match(&e) {
			continue
		}
		if n >= int64(page.Offset) && (page.Limit <= 0 || len(out) < page.Limit) {
			out = append(out, &e)
		}
		n++
	}
	if !f.empty() {
		total = n
	}
	return out, total, nil
}
