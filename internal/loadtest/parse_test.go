package loadtest

import (
	"errors"
	"testing"
)

func TestParseResponseIncrementally(t *testing.T) {
	tests := []struct {
		name, raw  string
		status     int
		body       string
		closeAfter bool
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":[1,2]}", 200, `{"a":[1,2]}`, false},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\nA\r\n0123456789\r\n0\r\n\r\n", 200, "abcd0123456789", false},
		{"no body", "HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n", 204, "", false},
		{"close", "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 4\r\n\r\nbusy", 503, "busy", true},
		{"1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", 200, "ok", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Every prefix is incomplete; the whole is one response and nothing more.
			for i := 0; i < len(tc.raw); i++ {
				if _, n, err := parseResponse([]byte(tc.raw[:i]), true, false); n != 0 || err != nil {
					t.Fatalf("prefix of %d bytes: n=%d err=%v", i, n, err)
				}
			}
			// A second response behind it is left alone.
			buf := []byte(tc.raw + "HTTP/1.1 200 OK\r\n")
			r, n, err := parseResponse(buf, true, false)
			if err != nil || n != len(tc.raw) {
				t.Fatalf("n=%d (want %d) err=%v", n, len(tc.raw), err)
			}
			if r.status != tc.status || string(r.body) != tc.body || r.closeAfter != tc.closeAfter {
				t.Fatalf("got %d %q close=%v", r.status, r.body, r.closeAfter)
			}
			if r, _, _ := parseResponse([]byte(tc.raw), false, false); r.body != nil {
				t.Fatal("body kept though not asked for")
			}
		})
	}
}

func TestParseResponseToClose(t *testing.T) {
	raw := []byte("HTTP/1.1 200 OK\r\n\r\nuntil the end")
	if _, n, err := parseResponse(raw, true, false); n != 0 || err != nil {
		t.Fatalf("before EOF: n=%d err=%v", n, err)
	}
	r, n, err := parseResponse(raw, true, true)
	if err != nil || n != len(raw) || string(r.body) != "until the end" || !r.closeAfter {
		t.Fatalf("at EOF: %+v n=%d err=%v", r, n, err)
	}
}

func TestParseResponseMalformed(t *testing.T) {
	for _, raw := range []string{
		"SMTP 220 ready\r\n\r\n",
		"HTTP/1.1 2x0 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY",
	} {
		if _, _, err := parseResponse([]byte(raw), true, false); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err %v, want ErrMalformed", raw, err)
		}
	}
}

func TestRespBuf(t *testing.T) {
	var rb respBuf
	total := 0
	for range 10 {
		sp := rb.space()
		if len(sp) < 4096 {
			t.Fatalf("space %d", len(sp))
		}
		n := copy(sp, make([]byte, 3000))
		rb.added(n)
		total += n
	}
	if len(rb.unparsed()) != total {
		t.Fatalf("unparsed %d, want %d", len(rb.unparsed()), total)
	}
	rb.consume(total - 10)
	rb.space() // compacts
	if len(rb.unparsed()) != 10 || rb.off != 0 {
		t.Fatalf("after compaction: %d unparsed, off %d", len(rb.unparsed()), rb.off)
	}
}
