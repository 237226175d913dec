package loadtest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func rawPost(host, path, body string) []byte {
	return fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", path, host, len(body), body)
}

func TestConnAgainstNetHTTP(t *testing.T) {
	big := strings.Repeat("x", 10000) // net/http chunks what it cannot buffer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/echo":
			w.Write(b)
		case "/chunked":
			w.Write([]byte("part1-"))
			w.(http.Flusher).Flush()
			w.Write([]byte("part2"))
		case "/big":
			io.WriteString(w, big)
		case "/nocontent":
			w.WriteHeader(204)
		case "/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		default:
			w.WriteHeader(503)
			io.WriteString(w, `{"error":"busy"}`)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	c, err := Dial(host, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	tests := []struct {
		path, body string
		want       int
		wantBody   string
	}{
		{"/echo", `{"a":1}`, 200, `{"a":1}`},
		{"/chunked", "", 200, "part1-part2"},
		{"/big", "", 200, big},
		{"/nocontent", "", 204, ""},
		{"/busy", "{}", 503, `{"error":"busy"}`},
		{"/echo", "again", 200, "again"},
	}
	for _, tc := range tests {
		for _, keep := range []bool{true, false} {
			resp, written, err := c.Do(rawPost(host, tc.path, tc.body), keep)
			if err != nil || !written {
				t.Fatalf("%s: %v (written %v)", tc.path, err, written)
			}
			if resp.Status != tc.want {
				t.Fatalf("%s: status %d, want %d", tc.path, resp.Status, tc.want)
			}
			if keep && string(resp.Body) != tc.wantBody {
				t.Fatalf("%s: body %.40q, want %.40q", tc.path, resp.Body, tc.wantBody)
			}
			if !keep && resp.Body != nil {
				t.Fatalf("%s: body kept though not asked for", tc.path)
			}
			if !c.Reusable() {
				t.Fatalf("%s: connection not reusable", tc.path)
			}
		}
	}
	resp, _, err := c.Do(rawPost(host, "/close", ""), true)
	if err != nil || resp.Status != 200 || string(resp.Body) != "bye" {
		t.Fatalf("close: %v %d %q", err, resp.Status, resp.Body)
	}
	if c.Reusable() {
		t.Fatal("connection should not be reused after Connection: close")
	}
}

// fakeServer answers every request on a connection with canned bytes.
func fakeServer(t *testing.T, answer string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				r := bufio.NewReader(nc)
				if _, err := http.ReadRequest(r); err != nil {
					return
				}
				io.WriteString(nc, answer)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestConnOddResponses(t *testing.T) {
	tests := []struct {
		name, answer string
		status       int
		body         string
		wantErr      bool
		reusable     bool
	}{
		{"close-delimited HTTP/1.0", "HTTP/1.0 200 OK\r\n\r\nhello", 200, "hello", false, false},
		{"chunked with extension and trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nX-T: 1\r\n\r\n", 200, "abc", false, true},
		{"lower-case headers", "HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok", 201, "ok", false, true},
		{"garbage", "SMTP ready\r\n", 0, "", true, false},
		{"truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 200, "", true, false},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", 0, "", true, false},
		{"closed before answering", "", 0, "", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeServer(t, tc.answer)
			c, err := Dial(addr, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			resp, written, err := c.Do(rawPost(addr, "/", "{}"), true)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if !written {
				t.Fatal("request should have been written")
			}
			if !tc.wantErr && (resp.Status != tc.status || string(resp.Body) != tc.body) {
				t.Fatalf("got %d %q", resp.Status, resp.Body)
			}
			if c.Reusable() != tc.reusable {
				t.Fatalf("reusable %v, want %v", c.Reusable(), tc.reusable)
			}
		})
	}
}
