package httpapi

import (
	"log/slog"
	"sync"
	"time"
)

// unavailableLog logs why requests are answered 503. Under load a failing dependency
// turns every request into a 503, so it logs the first at once and then at most one
// line a second, each with the number of 503s it stands for; a cause never goes
// unlogged for longer than that second.
type unavailableLog struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

func (u *unavailableLog) log(log *slog.Logger, path, msg string, cause error) {
	u.mu.Lock()
	now := time.Now()
	if now.Sub(u.last) < time.Second {
		u.suppressed++
		u.mu.Unlock()
		return
	}
	n := u.suppressed + 1
	u.last, u.suppressed = now, 0
	u.mu.Unlock()
	cs := "none recorded"
	if cause != nil {
		cs = cause.Error()
	}
	log.Warn("service_unavailable", "path", path, "error", msg, "cause", cs, "answers_503", n)
}
