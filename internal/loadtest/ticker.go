package loadtest

import "time"

// ticker wakes the open loop's pacer periodically.
type ticker interface {
	Wait() error
	Stop()
}

type portableTicker struct{ t *time.Ticker }

func newPortableTicker(d time.Duration) ticker { return portableTicker{time.NewTicker(d)} }

func (p portableTicker) Wait() error { <-p.t.C; return nil }
func (p portableTicker) Stop()       { p.t.Stop() }
