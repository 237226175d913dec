package collector

import "github.com/thamesthrive/thamesthrive/internal/domain"

// Saved reports whether ev, one of w.Events, is to be stored (the request's and the
// event's save options): a stage that takes an event out of w.Events and stores it
// itself (an event that failed its type's schema) honours it.
func (w *Work) Saved(ev *domain.Event) bool { return w.save[ev] }
