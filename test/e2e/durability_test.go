package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// load sends page-views for profiles p0..p9 from workers until stop is closed, and
// returns the ids of events acknowledged with 200, by profile.
func load(t *testing.T, s *server, workers int, stop <-chan struct{}) map[string][]string {
	var mu sync.Mutex
	acked := map[string][]string{}
	var wg sync.WaitGroup
	var seq atomic.Int64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := seq.Add(1)
				pid := fmt.Sprintf("p%d", n%10)
				body := fmt.Sprintf(`{"source":{"id":"web"},"profile":{"id":%q},"session":{"id":"s-%s"},"events":[{"id":"e-%d","type":"page-view"}]}`, pid, pid, n)
				req, _ := http.NewRequest("POST", s.URL+"/track", strings.NewReader(body))
				resp, err := client.Do(req)
				if err != nil {
					continue // the server is gone: unacknowledged, may or may not be stored
				}
				var out struct{ Events []string }
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if resp.StatusCode == 200 && err == nil {
					mu.Lock()
					acked[pid] = append(acked[pid], out.Events[0])
					mu.Unlock()
				}
			}
		}(w)
	}
	<-stop
	wg.Wait()
	return acked
}

// checkAcked asserts that every acknowledged event is stored and that each profile's
// view count equals its stored events (profile and events are committed together).
func checkAcked(t *testing.T, s *server, acked map[string][]string) int {
	t.Helper()
	total := 0
	for pid, ids := range acked {
		for _, id := range ids {
			if r := s.auth("GET", "/api/v1/events/"+id, nil); r.Status != 200 {
				t.Fatalf("acknowledged event %s of %s lost: %d", id, pid, r.Status)
			}
		}
		total += len(ids)
		p := s.get("/api/v1/profiles/" + pid)
		stored := s.get("/api/v1/profiles/" + pid + "/events?limit=1")["total"].(float64)
		views := at(p, "stats.views").(float64)
		if views != stored || int(stored) < len(ids) {
			t.Fatalf("profile %s: views %v, stored events %v, acknowledged %d", pid, views, stored, len(ids))
		}
	}
	return total
}

func TestAcknowledgedEventsSurviveKill9(t *testing.T) {
	s := start(t, "")
	s.source("web")
	s.adminToken()
	stop := make(chan struct{})
	done := make(chan map[string][]string)
	go func() { done <- load(t, s, 16, stop) }()
	time.Sleep(1500 * time.Millisecond)
	s.kill() // SIGKILL in the middle of the load
	close(stop)
	acked := <-done
	s.launch()
	s.token = ""
	if n := checkAcked(t, s, acked); n < 50 {
		t.Fatalf("only %d requests were acknowledged before the kill; the test proves little", n)
	}
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	s := start(t, "")
	s.source("web")
	s.adminToken()
	stop := make(chan struct{})
	done := make(chan map[string][]string)
	go func() { done <- load(t, s, 16, stop) }()
	time.Sleep(1 * time.Second)
	exited, err := s.Stop(20 * time.Second)
	if !exited {
		t.Fatal("no exit after SIGTERM")
	}
	if err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, s.Stderr)
	}
	close(stop)
	acked := <-done
	if !strings.Contains(s.Stderr.String(), `"msg":"stopped"`) {
		t.Fatalf("no clean stop logged:\n%s", s.Stderr)
	}
	s.launch()
	s.token = ""
	checkAcked(t, s, acked)
}
