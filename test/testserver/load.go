package testserver

import (
	"sync"
	"sync/atomic"
)

// Load calls send(n), n = 1, 2, 3… in turn across workers goroutines, each calling
// it again as soon as it returns, until stop is called; stop returns once the calls
// in flight have returned. The load tests (a replica killed, a backup taken under
// /track) drive their requests with it.
func Load(workers int, send func(n int64)) (stop func()) {
	var seq atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				send(seq.Add(1))
			}
		}()
	}
	return func() {
		close(done)
		wg.Wait()
	}
}
