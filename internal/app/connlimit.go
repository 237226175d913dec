package app

import (
	"log/slog"
	"sync"
	"time"
)

// connRefusals logs connections refused past HTTP_MAX_CONNECTIONS: the first at once,
// then at most one line a second with the count it stands for.
func connRefusals(log *slog.Logger) func() {
	var mu sync.Mutex
	var last time.Time
	n := 0
	return func() {
		mu.Lock()
		defer mu.Unlock()
		n++
		if time.Since(last) < time.Second {
			return
		}
		log.Warn("connections_refused", "count", n, "note", "HTTP_MAX_CONNECTIONS reached; new connections get 503")
		last, n = time.Now(), 0
	}
}
