package loadtest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// These tests check what the driver counts, not how fast anything is. Each runs on every
// engine this platform has.

func engines() []string {
	if haveEventLoop {
		return []string{"goroutines", "eventloop"}
	}
	return []string{"goroutines"}
}

func forEachEngine(t *testing.T, f func(t *testing.T, engine string)) {
	for _, e := range engines() {
		t.Run(e, func(t *testing.T) { f(t, e) })
	}
}

func testServer(t *testing.T, every503 int64) (addr string, hits *atomic.Int64) {
	hits = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n := hits.Add(1)
		if every503 > 0 && n%every503 == 0 {
			w.WriteHeader(503)
			return
		}
		io.WriteString(w, `{"profile":{"id":"p"},"session":{"id":"s"},"events":["e"]}`)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), hits
}

func newVisitorPool(t *testing.T, host string) []Request {
	m := DefaultMix("bench", host)
	m.Returning, m.SignIn = 0, 0
	pool, err := BuildPool(m, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	return pool
}

func TestClosedLoopCounts(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		addr, hits := testServer(t, 4)
		var inspected atomic.Int64
		p := Phase{Name: "closed", Addr: addr, Requests: newVisitorPool(t, addr), Concurrency: 4, Engine: engine,
			Duration: 200 * time.Millisecond, InspectEvery: 1,
			Inspect: func(w int, r *Request, body []byte) {
				if strings.Contains(string(body), `"events":["e"]`) {
					inspected.Add(1)
				}
			}}
		r, err := p.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if r.Mode != "closed" || r.Responses == 0 || r.Responses != hits.Load() || r.Sent != r.Responses {
			t.Fatalf("mode %s, responses %d, sent %d, server saw %d", r.Mode, r.Responses, r.Sent, hits.Load())
		}
		if r.OK+r.Statuses["503"] != r.Responses || r.Statuses["503"] != hits.Load()/4 {
			t.Fatalf("statuses %v of %d", r.Statuses, r.Responses)
		}
		if r.EventsAcked != r.OK || inspected.Load() != r.OK {
			t.Fatalf("acked %d, inspected %d, ok %d", r.EventsAcked, inspected.Load(), r.OK)
		}
		if r.Latency.Count != uint64(r.Responses) || r.ByKind["new"].Requests != r.Sent {
			t.Fatalf("latency count %d, by kind %+v", r.Latency.Count, r.ByKind)
		}
	})
}

func TestClosedLoopLimit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		addr, _ := testServer(t, 0)
		p := Phase{Name: "warmup", Addr: addr, Requests: newVisitorPool(t, addr), Concurrency: 3, Engine: engine,
			Duration: 10 * time.Second, Limit: 50}
		r, err := p.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// Requests in flight when the limit is reached still complete.
		if r.OK < 50 || r.OK > 50+3 {
			t.Fatalf("ok %d, want 50..53", r.OK)
		}
	})
}

func TestOpenLoopSchedule(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		addr, hits := testServer(t, 0)
		p := Phase{Name: "open", Addr: addr, Requests: newVisitorPool(t, addr), Concurrency: 4, Engine: engine,
			Duration: 500 * time.Millisecond, Rate: 200}
		r, err := p.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if r.Mode != "open" || r.Scheduled != 100 {
			t.Fatalf("mode %s, scheduled %d; want open, 100", r.Mode, r.Scheduled)
		}
		if r.Sent+r.Missed != r.Scheduled || r.Responses != hits.Load() || r.SendLag == nil {
			t.Fatalf("sent %d + missed %d != scheduled %d (server saw %d)", r.Sent, r.Missed, r.Scheduled, hits.Load())
		}
	})
}

func TestOpenLoopCountsUnsentAsMissed(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(100 * time.Millisecond)
		}))
		defer srv.Close()
		addr := strings.TrimPrefix(srv.URL, "http://")
		p := Phase{Name: "open", Addr: addr, Requests: newVisitorPool(t, addr), Concurrency: 1, Engine: engine,
			Duration: 200 * time.Millisecond, Rate: 100, Drain: 50 * time.Millisecond}
		r, err := p.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if r.Missed == 0 || r.Sent+r.Missed != r.Scheduled {
			t.Fatalf("sent %d, missed %d, scheduled %d", r.Sent, r.Missed, r.Scheduled)
		}
		// Latency runs from the scheduled time, so queueing behind the slow server shows.
		if r.Latency.MaxMs < 150 {
			t.Fatalf("max latency %.1f ms; queueing should show", r.Latency.MaxMs)
		}
	})
}

func TestRefusedConnectionsAreErrors(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		addr, _ := testServer(t, 0)
		p := Phase{Name: "closed", Addr: "127.0.0.1:1", Requests: newVisitorPool(t, addr), Concurrency: 2, Engine: engine,
			Duration: 100 * time.Millisecond}
		r, err := p.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if r.Errors == 0 || r.OK != 0 || r.ErrorsAfterWrite != 0 || r.ErrorKinds["dial: connection refused"] == 0 {
			t.Fatalf("errors %d %v, ok %d", r.Errors, r.ErrorKinds, r.OK)
		}
	})
}

func TestClosedConnectionsAndChunkedAnswers(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine string) {
		var n atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			switch n.Add(1) % 3 {
			case 0:
				w.Header().Set("Connection", "close")
				io.WriteString(w, `{"events":["e"]}`)
			case 1: // chunked
				io.WriteString(w, `{"events":`)
				w.(http.Flusher).Flush()
				io.WriteString(w, `["e"]}`)
			default:
				io.WriteString(w, `{"events":["e"]}`)
			}
		}))
		defer srv.Close()
		addr := strings.TrimPrefix(srv.URL, "http://")
		var good, bad atomic.Int64
		p := Phase{Name: "closed", Addr: addr, Requests: newVisitorPool(t, addr), Concurrency: 3, Engine: engine,
			Duration: 200 * time.Millisecond, InspectEvery: 1,
			Inspect: func(w int, r *Request, body []byte) {
				if string(body) == `{"events":["e"]}` {
					good.Add(1)
				} else {
					bad.Add(1)
				}
			}}
		r, err := p.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if r.Errors != 0 || r.OK == 0 || r.OK != r.Responses || r.OK != n.Load() {
			t.Fatalf("ok %d of %d (server saw %d), errors %v", r.OK, r.Responses, n.Load(), r.ErrorKinds)
		}
		if good.Load() != r.OK || bad.Load() != 0 {
			t.Fatalf("bodies: %d good, %d bad", good.Load(), bad.Load())
		}
	})
}

func TestPhaseRequestOffset(t *testing.T) {
	reqs := make([]Request, 5)
	for i := range reqs {
		reqs[i].Events = i
	}
	p := Phase{Requests: reqs, Offset: 7}
	for i, want := range []int{2, 3, 4, 0, 1, 2} {
		if got := p.request(int64(i)).Events; got != want {
			t.Fatalf("request(%d) is #%d, want #%d", i, got, want)
		}
	}
}
