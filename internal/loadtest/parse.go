package loadtest

import (
	"bytes"
	"errors"
	"fmt"
)

// maxKeptBody bounds a response the client holds in memory.
const maxKeptBody = 16 << 20

// ErrMalformed reports a response the client could not parse.
var ErrMalformed = errors.New("malformed HTTP response")

var crlfcrlf = []byte("\r\n\r\n")

// parsedResponse is one HTTP/1.1 response parsed from a buffer.
type parsedResponse struct {
	status     int
	body       []byte // only when asked for; may alias the buffer
	closeAfter bool   // the server will close the connection
}

// parseResponse parses one response from the start of b. It returns the bytes the response
// took, or 0 (and no error) when b does not hold all of it yet. atEOF says the connection
// was closed after b, which completes a response whose body runs to the close.
func parseResponse(b []byte, wantBody, atEOF bool) (parsedResponse, int, error) {
	var r parsedResponse
	end := bytes.Index(b, crlfcrlf)
	if end < 0 {
		if len(b) > 64<<10 {
			return r, 0, fmt.Errorf("headers over 64 KiB: %w", ErrMalformed)
		}
		return r, 0, nil
	}
	head := b[:end]
	bodyStart := end + 4
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return r, 0, ErrMalformed
	}
	r.closeAfter = line[7] == '0'
	for _, ch := range line[9:12] {
		if ch < '0' || ch > '9' {
			return r, 0, ErrMalformed
		}
		r.status = r.status*10 + int(ch-'0')
	}
	length := int64(-1)
	chunked := false
	for len(rest) > 0 {
		var h []byte
		h, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return r, 0, ErrMalformed
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, ok := parseDecimal(value)
			if !ok {
				return r, 0, ErrMalformed
			}
			length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				r.closeAfter = true
			} else if bytes.EqualFold(value, []byte("keep-alive")) {
				r.closeAfter = false
			}
		}
	}
	switch {
	case r.status/100 == 1 || r.status == 204 || r.status == 304:
		return r, bodyStart, nil
	case chunked:
		body, n, err := parseChunked(b[bodyStart:], wantBody)
		if n == 0 || err != nil {
			return r, 0, err
		}
		r.body = body
		return r, bodyStart + n, nil
	case length >= 0:
		if length > maxKeptBody {
			return r, 0, fmt.Errorf("response body of %d bytes: %w", length, ErrMalformed)
		}
		if int64(len(b)-bodyStart) < length {
			return r, 0, nil
		}
		if wantBody {
			r.body = b[bodyStart : bodyStart+int(length)]
		}
		return r, bodyStart + int(length), nil
	default: // the body runs to the close
		if !atEOF {
			if len(b)-bodyStart > maxKeptBody {
				return r, 0, fmt.Errorf("close-delimited body over %d bytes: %w", maxKeptBody, ErrMalformed)
			}
			return r, 0, nil
		}
		r.closeAfter = true
		if wantBody {
			r.body = b[bodyStart:]
		}
		return r, len(b), nil
	}
}

// parseChunked parses a chunked body (and its trailers) from the start of b; 0 means
// incomplete.
func parseChunked(b []byte, wantBody bool) ([]byte, int, error) {
	var body []byte
	off := 0
	for {
		i := bytes.Index(b[off:], []byte("\r\n"))
		if i < 0 {
			return nil, 0, nil
		}
		line := b[off : off+i]
		if j := bytes.IndexByte(line, ';'); j >= 0 {
			line = line[:j]
		}
		size, ok := parseHex(bytes.TrimSpace(line))
		if !ok || size > maxKeptBody {
			return nil, 0, ErrMalformed
		}
		off += i + 2
		if size == 0 {
			for { // trailers, then an empty line
				k := bytes.Index(b[off:], []byte("\r\n"))
				if k < 0 {
					return nil, 0, nil
				}
				off += k + 2
				if k == 0 {
					return body, off, nil
				}
			}
		}
		if int64(len(b)-off) < size+2 {
			return nil, 0, nil
		}
		if wantBody {
			body = append(body, b[off:off+int(size)]...)
		}
		off += int(size)
		if b[off] != '\r' || b[off+1] != '\n' {
			return nil, 0, ErrMalformed
		}
		off += 2
	}
}

func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		n = n*10 + int64(ch-'0')
	}
	return n, true
}

func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, ch := range b {
		var d byte
		switch {
		case ch >= '0' && ch <= '9':
			d = ch - '0'
		case ch >= 'a' && ch <= 'f':
			d = ch - 'a' + 10
		case ch >= 'A' && ch <= 'F':
			d = ch - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}

// respBuf accumulates what a connection read until a whole response is there.
type respBuf struct {
	b   []byte
	off int // start of unparsed data
}

// space returns room to read into, compacting or growing the buffer.
func (rb *respBuf) space() []byte {
	if rb.off > 0 && rb.off == len(rb.b) {
		rb.b, rb.off = rb.b[:0], 0
	}
	if cap(rb.b)-len(rb.b) < 4096 {
		if rb.off > 0 {
			n := copy(rb.b, rb.b[rb.off:])
			rb.b, rb.off = rb.b[:n], 0
		}
		if cap(rb.b)-len(rb.b) < 4096 {
			nb := make([]byte, len(rb.b), max(2*cap(rb.b), 16<<10))
			copy(nb, rb.b)
			rb.b = nb
		}
	}
	return rb.b[len(rb.b):cap(rb.b)]
}

func (rb *respBuf) added(n int)      { rb.b = rb.b[:len(rb.b)+n] }
func (rb *respBuf) unparsed() []byte { return rb.b[rb.off:] }
func (rb *respBuf) consume(n int)    { rb.off += n }
func (rb *respBuf) reset()           { rb.b, rb.off = rb.b[:0], 0 }
