package loadtest

import (
	"context"
	"fmt"
	"net"
	"syscall"
	"time"
	"unsafe"
)

// The event loop drives every connection from one goroutine with epoll, the way wrk does:
// per request one write and one read system call, and no goroutine hand-offs. In an open
// loop a goroutine per connection costs the generator about three times the CPU of a closed
// loop per request (each request wakes the idle runtime several times), which at half of a
// bare handler's saturation is more than one CPU: the generator would measure itself. The
// pacer is a timerfd in the same epoll set, so sends go out within microseconds of their
// schedule.

const haveEventLoop = true

type evConn struct {
	idx     int
	fd      int // -1: not connected
	rb      respBuf
	req     *Request
	start   time.Time // latency runs from here
	inspect bool
	busy    bool   // a request is in flight
	written bool   // and was written in full
	pending []byte // the unwritten rest of it
	retryAt time.Time
}

type evLoop struct {
	p       *Phase
	epfd    int
	tfd     int
	sa      syscall.Sockaddr
	family  int
	conns   []*evConn
	byFd    map[int]*evConn
	ws      workerStats
	busy    int
	start   time.Time
	end     time.Time
	until   time.Time // hard deadline: what is still in flight then is a timeout
	next    int64     // closed: next request index; open: next token to schedule
	oks     int64
	stopped bool // no more sends

	// open loop
	total    int64
	drainEnd time.Time
	idle     []*evConn
	backlog  []token
}

func (p *Phase) runEventLoop(ctx context.Context, start time.Time, drain time.Duration) ([]*workerStats, int64, error) {
	tcp, err := net.ResolveTCPAddr("tcp", p.Addr)
	if err != nil {
		return nil, 0, err
	}
	l := &evLoop{p: p, start: start, end: start.Add(p.Duration), byFd: map[int]*evConn{}, tfd: -1}
	l.until = l.end.Add(drain + 10*time.Second)
	l.drainEnd = l.end.Add(drain)
	if ip4 := tcp.IP.To4(); ip4 != nil {
		sa := &syscall.SockaddrInet4{Port: tcp.Port}
		copy(sa.Addr[:], ip4)
		l.sa, l.family = sa, syscall.AF_INET
	} else {
		sa := &syscall.SockaddrInet6{Port: tcp.Port}
		copy(sa.Addr[:], tcp.IP.To16())
		l.sa, l.family = sa, syscall.AF_INET6
	}
	if l.epfd, err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC); err != nil {
		return nil, 0, fmt.Errorf("epoll: %w", err)
	}
	defer syscall.Close(l.epfd)
	l.conns = make([]*evConn, p.Concurrency)
	for i := range l.conns {
		l.conns[i] = &evConn{idx: i, fd: -1}
	}
	defer func() {
		for _, c := range l.conns {
			if c.fd >= 0 {
				syscall.Close(c.fd)
			}
		}
	}()
	if p.Rate > 0 {
		if err := l.runOpen(ctx); err != nil {
			return nil, 0, err
		}
		return []*workerStats{&l.ws}, l.next, nil
	}
	l.runClosed(ctx)
	return []*workerStats{&l.ws}, 0, nil
}

func (l *evLoop) dial(c *evConn) error {
	fd, err := syscall.Socket(l.family, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	tv := syscall.NsecToTimeval(int64(5 * time.Second))
	_ = syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_SNDTIMEO, &tv)
	err = syscall.Connect(fd, l.sa)
	for err == syscall.EINTR || err == syscall.EALREADY { // the runtime's signals interrupt connect
		time.Sleep(time.Millisecond)
		err = syscall.Connect(fd, l.sa)
	}
	if err != nil && err != syscall.EISCONN {
		syscall.Close(fd)
		return err
	}
	_ = syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return err
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		syscall.Close(fd)
		return err
	}
	c.fd = fd
	c.rb.reset()
	l.byFd[fd] = c
	return nil
}

// ensure connects c if it is not; on failure it counts an error and backs off.
func (l *evLoop) ensure(c *evConn, now time.Time) bool {
	if c.fd >= 0 {
		return true
	}
	if now.Before(c.retryAt) {
		return false
	}
	if err := l.dial(c); err != nil {
		l.ws.sent++
		l.ws.fail("dial: "+classify(err), false, nil)
		c.retryAt = now.Add(20 * time.Millisecond) // a refused dial returns at once; don't spin
		return false
	}
	return true
}

func (l *evLoop) closeConn(c *evConn) {
	if c.fd < 0 {
		return
	}
	syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	syscall.Close(c.fd)
	delete(l.byFd, c.fd)
	c.fd = -1
	c.pending = nil
	c.rb.reset()
	if c.busy {
		c.busy = false
		l.busy--
	}
}

// fail ends c's request with an error and closes c.
func (l *evLoop) fail(c *evConn, kind string) {
	if c.busy {
		l.ws.fail(kind, c.written, c.req)
	}
	l.closeConn(c)
}

// send writes req on c (connected, not busy); its latency runs from start.
func (l *evLoop) send(c *evConn, req *Request, start time.Time) {
	c.req, c.start, c.busy, c.written, c.pending = req, start, true, false, nil
	c.inspect = l.ws.begin(l.p, req)
	l.busy++
	l.write(c, req.Raw)
}

func (l *evLoop) write(c *evConn, b []byte) {
	for len(b) > 0 {
		n, err := syscall.Write(c.fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			break
		}
		if err != nil {
			l.fail(c, "write: "+classify(err))
			c.retryAt = time.Now().Add(20 * time.Millisecond)
			return
		}
		b = b[n:]
	}
	wasPending := c.pending != nil
	if len(b) == 0 {
		c.written, c.pending = true, nil
		if wasPending {
			ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(c.fd)}
			syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_MOD, c.fd, &ev)
		}
		return
	}
	c.pending = b
	if !wasPending {
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLOUT, Fd: int32(c.fd)}
		syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_MOD, c.fd, &ev)
	}
}

// readable reads what c has; it returns true when c's request completed (c is then idle,
// or closed if the server asked).
func (l *evLoop) readable(c *evConn) bool {
	buf := c.rb.space()
	n, err := syscall.Read(c.fd, buf)
	for err == syscall.EINTR {
		n, err = syscall.Read(c.fd, buf)
	}
	if err == syscall.EAGAIN {
		return false
	}
	if err != nil {
		l.fail(c, classify(err))
		return false
	}
	atEOF := n == 0
	c.rb.added(n)
	if !c.busy {
		// Nothing was asked: the server closed an idle connection (or sent junk).
		l.closeConn(c)
		return false
	}
	pr, m, perr := parseResponse(c.rb.unparsed(), c.inspect, atEOF)
	if perr != nil {
		l.fail(c, classify(perr))
		return false
	}
	if m == 0 {
		if atEOF {
			l.fail(c, "connection closed")
		}
		return false
	}
	c.rb.consume(m)
	lat := time.Since(c.start)
	c.busy = false
	l.busy--
	l.ws.done(l.p, c.idx, c.req, pr.status, pr.body, c.inspect, lat)
	if pr.status == 200 {
		l.oks++
	}
	if pr.closeAfter || atEOF {
		l.closeConn(c)
	}
	return true
}

// wait blocks in epoll for at most timeout and hands each ready connection to on. The wait
// is a raw system call: through the runtime's syscall path, sysmon would take the P back
// from every wait longer than 20µs and keep itself awake doing so, costing the generator
// CPU; the timeout is short, so the runtime loses nothing by not knowing.
func (l *evLoop) wait(events []syscall.EpollEvent, timeout time.Duration, on func(c *evConn, ev uint32), onTimer func()) error {
	ms := int(timeout / time.Millisecond)
	if timeout > 0 && ms == 0 {
		ms = 1
	}
	r, _, errno := syscall.RawSyscall6(syscall.SYS_EPOLL_PWAIT, uintptr(l.epfd),
		uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), uintptr(ms), 0, 0)
	if errno == syscall.EINTR {
		return nil
	}
	if errno != 0 {
		return fmt.Errorf("epoll_wait: %w", errno)
	}
	for _, ev := range events[:int(r)] {
		fd := int(ev.Fd)
		if fd == l.tfd {
			onTimer()
			continue
		}
		if c := l.byFd[fd]; c != nil {
			on(c, ev.Events)
		}
	}
	return nil
}

func (l *evLoop) handle(c *evConn, ev uint32, after func(c *evConn)) {
	if ev&syscall.EPOLLOUT != 0 && c.pending != nil {
		l.write(c, c.pending)
		if c.fd < 0 {
			after(c)
			return
		}
	}
	if ev&(syscall.EPOLLIN|syscall.EPOLLERR|syscall.EPOLLHUP) != 0 && c.fd >= 0 {
		if l.readable(c) || c.fd < 0 {
			after(c)
		}
	}
}

// timeoutAll ends what is still in flight at the hard deadline.
func (l *evLoop) timeoutAll() {
	for _, c := range l.conns {
		if c.busy {
			l.fail(c, "timeout")
		}
	}
}

func (l *evLoop) runClosed(ctx context.Context) {
	p := l.p
	attempts := p.attempts()
	var next func(c *evConn)
	next = func(c *evConn) {
		if l.stopped {
			return
		}
		now := time.Now()
		if !now.Before(l.end) || ctx.Err() != nil || (p.Limit > 0 && l.oks >= p.Limit) || l.next >= attempts {
			l.stopped = true
			return
		}
		if !l.ensure(c, now) {
			return
		}
		i := l.next
		l.next++
		l.send(c, p.request(i), now)
		if c.fd < 0 { // the write failed: try again (after a back-off if it was the dial)
			next(c)
		}
	}
	for _, c := range l.conns {
		next(c)
	}
	events := make([]syscall.EpollEvent, len(l.conns)+1)
	for {
		now := time.Now()
		if !l.stopped && (!now.Before(l.end) || ctx.Err() != nil) {
			l.stopped = true
		}
		if l.stopped && l.busy == 0 {
			return
		}
		if now.After(l.until) {
			l.timeoutAll()
			return
		}
		if !l.stopped {
			for _, c := range l.conns {
				if !c.busy {
					next(c) // reconnects what was closed, once its back-off passed
				}
			}
		}
		timeout := 10 * time.Millisecond
		if !l.stopped {
			timeout = min(timeout, max(time.Until(l.end), time.Millisecond))
		}
		if err := l.wait(events, timeout, func(c *evConn, ev uint32) { l.handle(c, ev, next) }, func() {}); err != nil {
			l.ws.fail(err.Error(), false, nil)
			l.timeoutAll()
			return
		}
	}
}

func (l *evLoop) runOpen(ctx context.Context) error {
	p := l.p
	l.total = int64(p.Duration.Seconds() * p.Rate)
	tfd, err := newTimerFD()
	if err != nil {
		return err
	}
	l.tfd = tfd
	defer syscall.Close(tfd)
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(tfd)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, tfd, &ev); err != nil {
		return err
	}
	tbuf := make([]byte, 8)
	onTimer := func() { syscall.Read(tfd, tbuf) }

	// dispatch sends a due request. Its lag (how late it goes out) is the generator's own
	// lateness when a connection was free, and counts as queued when it had to wait for one.
	dispatch := func(c *evConn, tok token, now time.Time, queued bool) {
		sched := l.start.Add(tok.at)
		if queued {
			l.ws.queued++
		} else {
			l.ws.lag.Record(now.Sub(sched))
		}
		l.send(c, p.request(tok.seq), sched)
	}
	// free hands an idle, connected c the oldest waiting request, or parks it.
	var free func(c *evConn)
	free = func(c *evConn) {
		now := time.Now()
		if c.fd < 0 && !l.ensure(c, now) {
			return // retried in the main loop
		}
		if len(l.backlog) > 0 && !now.After(l.drainEnd) {
			tok := l.backlog[0]
			l.backlog = l.backlog[1:]
			dispatch(c, tok, now, true)
			if c.fd < 0 {
				free(c)
			}
			return
		}
		l.idle = append(l.idle, c)
	}
	for _, c := range l.conns {
		free(c)
	}
	events := make([]syscall.EpollEvent, len(l.conns)+1)
	armed := time.Duration(-1)
	for {
		now := time.Now()
		if ctx.Err() != nil {
			l.ws.missed += l.total - l.next + int64(len(l.backlog))
			l.total, l.next, l.backlog = 0, 0, nil
		}
		// Release what is due: to an idle connection, or to the backlog if none is free.
		for l.next < l.total && p.scheduledAt(l.next) <= now.Sub(l.start) {
			tok := token{seq: l.next, at: p.scheduledAt(l.next)}
			l.next++
			var c *evConn
			for len(l.idle) > 0 && c == nil {
				c = l.idle[len(l.idle)-1]
				l.idle = l.idle[:len(l.idle)-1]
				if c.fd < 0 || c.busy {
					c = nil
				}
			}
			if c == nil {
				l.backlog = append(l.backlog, tok)
				continue
			}
			dispatch(c, tok, now, false)
			if c.fd < 0 {
				free(c)
			}
		}
		if now.After(l.drainEnd) && len(l.backlog) > 0 {
			l.ws.missed += int64(len(l.backlog))
			l.backlog = nil
		}
		if l.next >= l.total && len(l.backlog) == 0 && l.busy == 0 {
			return nil
		}
		if now.After(l.until) {
			l.timeoutAll()
			return nil
		}
		for _, c := range l.conns {
			if c.fd < 0 && !c.busy && !now.Before(c.retryAt) {
				free(c)
			}
		}
		// Sleep until the next request is due (the timer is one-shot, armed for exactly that
		// time: a periodic tick would release each request up to a tick late), or until a
		// connection has something.
		timeout := 10 * time.Millisecond
		if l.next < l.total {
			due := p.scheduledAt(l.next)
			if d := due - time.Since(l.start); d <= 0 {
				timeout = 0
			} else if due != armed {
				if err := armTimerFD(tfd, d); err != nil {
					return err
				}
				armed = due
			}
		}
		if err := l.wait(events, timeout, func(c *evConn, ev uint32) { l.handle(c, ev, free) }, onTimer); err != nil {
			return err
		}
	}
}

// newTimerFD makes a non-blocking timerfd, not armed.
func newTimerFD() (int, error) {
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, 1 /* CLOCK_MONOTONIC */, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return -1, fmt.Errorf("timerfd_create: %w", errno)
	}
	return int(fd), nil
}

// armTimerFD makes fd fire once, after d, and then every interval (0: once only).
func armTimerFD(fd int, d time.Duration, interval ...time.Duration) error {
	spec := struct{ interval, value syscall.Timespec }{value: syscall.NsecToTimespec(int64(d))}
	if len(interval) > 0 {
		spec.interval = syscall.NsecToTimespec(int64(interval[0]))
	}
	if _, _, errno := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, uintptr(fd), 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); errno != 0 {
		return fmt.Errorf("timerfd_settime: %w", errno)
	}
	return nil
}
