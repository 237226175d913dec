package loadtest

import (
	"os"
	"syscall"
	"time"
)

// newTicker returns a periodic ticker. On Linux it is a timerfd read through the runtime's
// poller: a sleeping Go timer with nothing else to do can wake up to a millisecond late
// (the poller waits in whole milliseconds), which would put the generator's own lateness into
// an open loop's latencies; a timerfd makes the poller return when it fires.
func newTicker(interval time.Duration) (ticker, error) {
	fd, err := newTimerFD()
	if err != nil {
		return newPortableTicker(interval), nil
	}
	if err := armTimerFD(fd, interval, interval); err != nil {
		syscall.Close(fd)
		return newPortableTicker(interval), nil
	}
	return &timerfdTicker{f: os.NewFile(uintptr(fd), "timerfd"), buf: make([]byte, 8)}, nil
}

type timerfdTicker struct {
	f   *os.File
	buf []byte
}

func (t *timerfdTicker) Wait() error {
	_, err := t.f.Read(t.buf) // the number of expirations; the pacer reads the clock instead
	return err
}

func (t *timerfdTicker) Stop() { t.f.Close() }
