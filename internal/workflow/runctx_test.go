package workflow

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestRunIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		id := newRunID()
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 4 || u.Variant() != uuid.RFC4122 || u.String() != id {
			t.Fatalf("run id %q is not a version 4 UUID: %v", id, err)
		}
		if seen[id] {
			t.Fatalf("run id %q repeats", id)
		}
		seen[id] = true
	}
}

func TestRunCtx(t *testing.T) {
	tests := []struct {
		name    string
		limit   time.Duration
		cancel  bool // the parent is cancelled
		done    bool // Done is asked for before the wait
		wantErr error
	}{
		{"within the limit", time.Hour, false, false, nil},
		{"within the limit, Done asked", time.Hour, false, true, nil},
		{"limit passed", 10 * time.Millisecond, false, false, context.DeadlineExceeded},
		{"limit passed, Done asked", 10 * time.Millisecond, false, true, context.DeadlineExceeded},
		{"parent cancelled", time.Hour, true, false, context.Canceled},
		{"parent cancelled, Done asked", time.Hour, true, true, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, cancel := context.WithCancel(context.Background())
			defer cancel()
			c := newRunCtx(parent, tt.limit)
			defer c.stop()
			if d, ok := c.Deadline(); !ok || d.After(time.Now().Add(tt.limit)) {
				t.Errorf("Deadline() = %v, %v", d, ok)
			}
			var done <-chan struct{}
			if tt.done {
				done = c.Done()
			}
			if tt.cancel {
				cancel()
			}
			if tt.wantErr != nil && !tt.done {
				// Without Done, Err alone notices: no timer is made.
				for end := time.Now().Add(5 * time.Second); c.Err() == nil && time.Now().Before(end); {
					time.Sleep(time.Millisecond)
				}
				if err := c.Err(); !errors.Is(err, tt.wantErr) || c.made() != nil {
					t.Fatalf("before Done: Err() = %v, timer made %v", err, c.made() != nil)
				}
			}
			if tt.wantErr != nil {
				select {
				case <-c.Done():
				case <-time.After(5 * time.Second):
					t.Fatal("Done not closed")
				}
			} else if done != nil {
				select {
				case <-done:
					t.Fatal("Done closed early")
				default:
				}
			}
			if err := c.Err(); !errors.Is(err, tt.wantErr) {
				t.Errorf("Err() = %v, want %v", err, tt.wantErr)
			}
			// A context derived from it sees the same.
			child, ccancel := context.WithCancel(c)
			defer ccancel()
			if tt.wantErr != nil {
				<-child.Done()
			}
			if err := child.Err(); !errors.Is(err, tt.wantErr) {
				t.Errorf("child Err() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
