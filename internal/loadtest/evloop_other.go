//go:build !linux

package loadtest

import (
	"context"
	"errors"
	"time"
)

const haveEventLoop = false

func (p *Phase) runEventLoop(ctx context.Context, start time.Time, drain time.Duration) ([]*workerStats, int64, error) {
	return nil, 0, errors.New("the event loop needs Linux")
}
