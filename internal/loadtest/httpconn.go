package loadtest

import (
	"fmt"
	"io"
	"net"
	"time"
)

// Conn is a minimal keep-alive HTTP/1.1 client connection: it writes a precomputed request
// and reads one response (Content-Length, chunked or close-delimited). It exists because
// net/http's client spends more CPU per request than a bare net/http server does, and a load
// generator on one CPU must be cheaper than what it measures, or it measures itself. The
// event loop (evloop_linux.go) is cheaper still; Conn serves the goroutine engine and setup.
type Conn struct {
	nc     net.Conn
	rb     respBuf
	closed bool
}

// Dial opens a connection to addr (host:port).
func Dial(addr string, timeout time.Duration) (*Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	return &Conn{nc: nc}, nil
}

// SetDeadline bounds all I/O on the connection.
func (c *Conn) SetDeadline(t time.Time) error { return c.nc.SetDeadline(t) }

// Close closes the connection.
func (c *Conn) Close() error {
	c.closed = true
	return c.nc.Close()
}

// Reusable reports whether another request may be sent on c: false after an error or when
// the server asked to close.
func (c *Conn) Reusable() bool { return !c.closed }

// Response is what Do read. Body is only filled when asked for, and only valid until the
// next call.
type Response struct {
	Status int
	Body   []byte
}

// Do writes req, a complete HTTP/1.1 request, and reads the response. Written reports whether
// the request was written in full (so the server may have acted on it even when err is set).
// After an error the connection is closed.
func (c *Conn) Do(req []byte, wantBody bool) (resp Response, written bool, err error) {
	if _, err = c.nc.Write(req); err != nil {
		c.Close()
		return resp, false, fmt.Errorf("write: %w", err)
	}
	c.rb.reset()
	atEOF := false
	for {
		pr, n, perr := parseResponse(c.rb.unparsed(), wantBody, atEOF)
		if perr != nil {
			c.Close()
			return resp, true, fmt.Errorf("read: %w", perr)
		}
		if n > 0 {
			c.rb.consume(n)
			resp.Status, resp.Body = pr.status, pr.body
			if pr.closeAfter {
				c.Close()
			}
			return resp, true, nil
		}
		if atEOF {
			c.Close()
			return resp, true, fmt.Errorf("read: %w", io.ErrUnexpectedEOF)
		}
		m, rerr := c.nc.Read(c.rb.space())
		c.rb.added(m)
		if rerr == io.EOF {
			atEOF = true
			if len(c.rb.unparsed()) == 0 {
				c.Close()
				return resp, true, fmt.Errorf("read: %w", io.EOF)
			}
		} else if rerr != nil {
			c.Close()
			return resp, true, fmt.Errorf("read: %w", rerr)
		}
	}
}
