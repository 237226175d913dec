package pipeline

import (
	"errors"
	"fmt"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

func TestWorkDeferredRunNewestFirstOnce(t *testing.T) {
	var order []int
	w := &Work{}
	for i := range 3 {
		w.Defer(func() { order = append(order, i) })
	}
	w.Done()
	w.Done()
	if fmt.Sprint(order) != "[2 1 0]" {
		t.Fatalf("deferred ran %v, want [2 1 0] once", order)
	}
}

func TestNewInternalEvent(t *testing.T) {
	now := domain.Now()
	sess := &domain.Session{ID: "s1"}
	w := &Work{Profile: &domain.Profile{ID: "p1"}, Session: sess, Now: now}
	ev := NewInternalEvent(w, "Segment Entered", nil)
	if ev.Type != "segment-entered" || ev.Name != "segment entered" || ev.Source.ID != InternalSource ||
		ev.Metadata.Channel != InternalSource || ev.Profile.ID != "p1" || ev.Session.ID != "s1" ||
		!ev.Metadata.Time.Create.Equal(now.Time) || ev.Properties == nil {
		t.Fatalf("event = %+v", ev)
	}
	if len(w.Events) != 1 || w.Events[0] != ev || !w.Saved(ev) {
		t.Fatal("the internal event is not added to the work as saved")
	}
	other := &domain.Event{ID: "x"}
	w.AddEvent(other, false)
	if w.Saved(other) {
		t.Fatal("an event added unsaved is saved")
	}
}

func TestErrorTextAndCause(t *testing.T) {
	cause := errors.New("disk full")
	e := Unavailablef(cause, "storage cannot accept the request now; retry later")
	if e.Error() != "storage cannot accept the request now; retry later" || !errors.Is(e, cause) || e.RetryAfter <= 0 {
		t.Fatalf("Unavailablef = %#v", e)
	}
	if got := Invalidf("events[0].type", "is required").Error(); got != "events[0].type is required" {
		t.Fatalf("Invalidf text = %q", got)
	}
	if Rejected.String() != "rejected" || ErrorKind(0).String() != "ErrorKind(0)" {
		t.Fatal("ErrorKind names")
	}
}
