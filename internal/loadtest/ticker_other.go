//go:build !linux

package loadtest

import "time"

func newTicker(interval time.Duration) (ticker, error) { return newPortableTicker(interval), nil }
