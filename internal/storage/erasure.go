package storage

import (
	"context"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// Erasure deletes stored documents for good: the right to be forgotten (DELETE of
// profiles, sessions and events in the GUI API). Callers that erase a profile hold its
// lock (and its sessions' locks), so that the pipeline cannot write half of it back;
// see collector.Collector.Erase.
type Erasure interface {
	// SessionsOf returns up to limit sessions of any of profileIDs (by profile.id),
	// in no particular order, including those committed a moment ago.
	SessionsOf(ctx context.Context, profileIDs []string, limit int) ([]*domain.Session, error)
	// EventsOf returns up to limit events of any of profileIDs, newest first, and how
	// many there are, including those another process committed a moment ago (a
	// search-based backend refreshes first).
	EventsOf(ctx context.Context, profileIDs []string, limit int) ([]*domain.Event, int64, error)
	// Erase deletes the profiles with profileIDs (live ones and merge tombstones
	// alike) and every session and event whose profile.id is one of them, and reports
	// how many of each it deleted. The deletion is durable when it returns nil.
	Erase(ctx context.Context, profileIDs []string) (Erased, error)
	// DeleteSession deletes one session (not its events); ErrNotFound when there is none.
	DeleteSession(ctx context.Context, id string) error
	// DeleteEvent deletes one event; ErrNotFound when there is none.
	DeleteEvent(ctx context.Context, id string) error
}

// Erased counts what an Erase deleted.
type Erased struct {
	Profiles int64 `json:"profiles"`
	Sessions int64 `json:"sessions"`
	Events   int64 `json:"events"`
}
