package httpapi

import (
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxBodyBytesInFlight is the default of Options.MaxBodyBytesInFlight.
const DefaultMaxBodyBytesInFlight = 16 << 20

// bodyBudget bounds the request-body bytes the process holds at once. A request
// reserves its Content-Length (or, for a body of unknown length, the most it may
// send) before its handler reads it and gives it back when answered; a request that
// does not fit is answered 503 with Retry-After instead of being read. Decoding and
// storing a body takes several times its size, so this bound is what keeps memory
// flat when many large bodies arrive at once (docs/reliability.md has the figures).
type bodyBudget struct {
	mu          sync.Mutex
	used, limit int64
}

func (b *bodyBudget) acquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit && b.used > 0 { // one body alone always fits
		return false
	}
	b.used += n
	return true
}

func (b *bodyBudget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// reservation is what a request reserves of the body budget.
func (s *Server) reservation(r *http.Request) int64 {
	if r.Body == nil || r.Body == http.NoBody {
		return 0
	}
	max := s.opt.MaxBodyBytes
	if max <= 0 {
		max = 1 << 20
	}
	if r.ContentLength >= 0 && r.ContentLength < max {
		return r.ContentLength
	}
	return max // unknown length, or one its handler refuses (413) without reading
}

// admitBody reserves r's body in the budget, or answers 503 and returns false.
func (s *Server) admitBody(w http.ResponseWriter, r *http.Request) (release func(), ok bool) {
	n := s.reservation(r)
	if n == 0 {
		return func() {}, true
	}
	if !s.bodies.acquire(n) {
		s.unavail.log(s.log, r.URL.Path, "request bodies in progress exceed MAX_BODY_BYTES_IN_FLIGHT", nil)
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Connection", "close") // the unread body is not drained
		writeError(w, http.StatusServiceUnavailable, "", "too many request bodies in progress; retry later")
		return nil, false
	}
	return func() { s.bodies.release(n) }, true
}

// LimitListener caps the connections a listener has open at once at max. Past it, a
// new connection is answered at once and closed: with plain HTTP, a 503 with
// Retry-After and a JSON body saying why; with TLS (tlsOn), which cannot be answered
// before a handshake, just closed. onReject is called for each (for the log and
// metrics, rate-limited by the caller).
func LimitListener(ln net.Listener, max int, tlsOn bool, onReject func()) net.Listener {
	return &limitListener{Listener: ln, max: int64(max), tls: tlsOn, onReject: onReject}
}

type limitListener struct {
	net.Listener
	max      int64
	open     atomic.Int64
	tls      bool
	onReject func()
}

var tooManyConnections = []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 73\r\n\r\n" +
	`{"status":503,"error":"too many open connections to this server; retry"}` + "\n")

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return &limitConn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		if l.onReject != nil {
			l.onReject()
		}
		go func() { // never let a refused connection hold up Accept
			defer c.Close()
			if l.tls {
				return
			}
			c.SetDeadline(time.Now().Add(time.Second))
			c.Write(tooManyConnections)
			// Closing with the request unread would reset the connection, and the
			// client might not see the answer: stop sending, read what came, close.
			if tc, ok := c.(interface{ CloseWrite() error }); ok {
				tc.CloseWrite()
				io.CopyN(io.Discard, c, 64<<10)
			}
		}()
	}
}

type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}
