package identity

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/local"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

// scriptedLocker is the in-process locker, except that the first busyProfile attempts
// to lock another profile fail as a lock held past LockWait does. It counts attempts
// and the locks held.
type scriptedLocker struct {
	inner       storage.Locker
	mu          sync.Mutex
	busyProfile int
	attempts    map[string]int // by key prefix: "profile", "key"
	held        int
}

func (l *scriptedLocker) Lock(ctx context.Context, key string) (func(), error) {
	prefix, _, _ := strings.Cut(key, ":")
	l.mu.Lock()
	l.attempts[prefix]++
	if prefix == "profile" && l.busyProfile > 0 {
		l.busyProfile--
		l.mu.Unlock()
		return nil, context.DeadlineExceeded
	}
	l.mu.Unlock()
	unlock, err := l.inner.Lock(ctx, key)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.held++
	l.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			unlock()
			l.mu.Lock()
			l.held--
			l.mu.Unlock()
		})
	}, nil
}

func (l *scriptedLocker) count(prefix string) (attempts, held int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.attempts[prefix], l.held
}

const email = "ann@example.com"

// TestLockProtocol: the identity stage's locks. Key locks are waited for up to
// KeyLockWait; other profiles' locks up to LockWait, and a busy one makes the whole
// attempt release everything and start again, up to Attempts times; then the request
// answers Unavailable with the cause, having changed nothing. Every lock taken is
// released, on success once the batch is done.
func TestLockProtocol(t *testing.T) {
	tests := []struct {
		name        string
		busyProfile int  // profile-lock attempts that find the lock busy
		holdKey     bool // another request holds the key's lock throughout
		attempts    int
		// want
		merged          bool
		profileAttempts int
		cause           error
	}{
		{name: "free locks merge at once", attempts: 3, merged: true, profileAttempts: 1},
		{name: "busy profile is retried", busyProfile: 2, attempts: 3, merged: true, profileAttempts: 3},
		{name: "busy on every attempt gives up", busyProfile: 100, attempts: 3, profileAttempts: 3, cause: errContended},
		{name: "key lock wait times out", holdKey: true, attempts: 3, cause: context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			old := domain.NewProfile("old", domain.NewTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)))
			old.Data = map[string]any{"contact": map[string]any{"email": map[string]any{"main": email}}}
			if err := store.Commit(ctx, &storage.Batch{Profiles: []*domain.Profile{old}}); err != nil {
				t.Fatal(err)
			}
			inner := local.NewLocker()
			locker := &scriptedLocker{inner: inner, busyProfile: tc.busyProfile, attempts: map[string]int{}}
			r, err := New(Config{Attempts: tc.attempts, LockWait: time.Millisecond, KeyLockWait: 20 * time.Millisecond}, store, locker)
			if err != nil {
				t.Fatal(err)
			}
			if tc.holdKey {
				unlock, err := inner.Lock(ctx, "key:data.contact.email.main\x00"+email)
				if err != nil {
					t.Fatal(err)
				}
				defer unlock()
			}
			young := domain.NewProfile("young", domain.Now())
			young.Data = map[string]any{"contact": map[string]any{"email": map[string]any{"main": " Ann@Example.com "}}}
			w := &pipeline.Work{Profile: young, NewProfile: true, Session: &domain.Session{ID: "s1", Profile: domain.Ref{ID: "young"}}, Now: domain.Now()}

			err = r.Process(ctx, w)
			profileAttempts, held := locker.count("profile")
			if tc.cause != nil {
				var pe *pipeline.Error
				if !errors.As(err, &pe) || pe.Kind != pipeline.Unavailable || !errors.Is(err, tc.cause) {
					t.Fatalf("err = %v, want Unavailable caused by %v", err, tc.cause)
				}
				if held != 0 {
					t.Errorf("%d locks still held after the stage gave up", held)
				}
				if w.Profile.ID != "young" || len(w.ExtraProfiles) != 0 {
					t.Errorf("a failed merge changed the work: profile %s, %d extra", w.Profile.ID, len(w.ExtraProfiles))
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if profileAttempts != tc.profileAttempts {
				t.Errorf("%d attempts to lock the other profile, want %d", profileAttempts, tc.profileAttempts)
			}
			if tc.merged {
				if w.Profile.ID != "old" || len(w.ExtraProfiles) != 1 || w.ExtraProfiles[0].ID != "young" || w.Session.Profile.ID != "old" {
					t.Fatalf("not merged into the oldest: profile %s, extra %v", w.Profile.ID, w.ExtraProfiles)
				}
				if _, held := locker.count(""); held == 0 {
					t.Error("the key and profile locks were released before the batch was done")
				}
			}
			w.Done()
			if _, held := locker.count(""); held != 0 {
				t.Errorf("%d locks still held after the batch was done", held)
			}
		})
	}
}
