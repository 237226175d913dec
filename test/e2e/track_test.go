package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func ua() map[string]any {
	return map[string]any{
		"page":    map[string]any{"url": "https://shop.example.com/p?utm_source=news&utm_campaign=spring", "title": "Shoes", "referer": map[string]any{"host": "google.com"}},
		"browser": map[string]any{"local": map[string]any{"browser": map[string]any{"userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1", "language": "en-GB"}}},
		"screen":  map[string]any{"local": map[string]any{"width": 390, "height": 844}},
	}
}

func TestTrackCreatesSessionProfileAndEvents(t *testing.T) {
	s := start(t, "")
	s.source("web")
	res := s.track(map[string]any{"source": map[string]any{"id": "web"}, "context": ua(),
		"events": []any{map[string]any{"type": "Page View", "properties": map[string]any{"category": "shoes"}}}})
	if res.Profile.ID == "" || res.Session.ID == "" || len(res.Events) != 1 {
		t.Fatalf("response: %+v", res)
	}
	p := s.get("/api/v1/profiles/" + res.Profile.ID)
	for path, want := range map[string]any{"stats.visits": 1.0, "stats.views": 1.0, "metadata.time.visit.count": 1.0, "active": true} {
		if got := at(p, path); got != want {
			t.Errorf("profile %s = %v, want %v", path, got, want)
		}
	}
	sess := s.get("/api/v1/sessions/" + res.Session.ID)
	for path, want := range map[string]any{
		"profile.id": res.Profile.ID, "device.type": "mobile", "os.name": "iOS", "app.name": "Safari", "app.bot": false,
		"app.language": "en-GB", "device.resolution": "390x844", "device.ip": "127.0.0.1", "utm.source": "news",
		"utm.campaign": "spring", "metadata.status": "started",
	} {
		if got := at(sess, path); got != want {
			t.Errorf("session %s = %v, want %v", path, got, want)
		}
	}
	ev := s.get("/api/v1/events/" + res.Events[0])
	for path, want := range map[string]any{
		"type": "page-view", "profile.id": res.Profile.ID, "session.id": res.Session.ID, "source.id": "web",
		"hit.name": "Shoes", "hit.referer": "google.com", "data.page.category": "shoes", "metadata.status": "processed",
		"device.type": "mobile",
	} {
		if got := at(ev, path); got != want {
			t.Errorf("event %s = %v, want %v", path, got, want)
		}
	}

	// The same visitor comes back in the same session: no new visit, one more view.
	again := s.track(map[string]any{"source": map[string]any{"id": "web"}, "session": map[string]any{"id": res.Session.ID},
		"profile": map[string]any{"id": res.Profile.ID}, "events": []any{map[string]any{"type": "page-view"}}})
	if again.Profile.ID != res.Profile.ID || again.Session.ID != res.Session.ID {
		t.Fatalf("returning visitor got new ids: %+v", again)
	}
	// And in a new session: a new visit.
	third := s.track(map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": res.Profile.ID},
		"events": []any{map[string]any{"type": "page-view"}}})
	if third.Profile.ID != res.Profile.ID || third.Session.ID == res.Session.ID {
		t.Fatalf("new session: %+v", third)
	}
	p = s.get("/api/v1/profiles/" + res.Profile.ID)
	if at(p, "stats.visits") != 2.0 || at(p, "stats.views") != 3.0 {
		t.Fatalf("stats = %v", at(p, "stats"))
	}
	if at(s.get("/api/v1/sessions/"+res.Session.ID), "metadata.status") != "active" {
		t.Error("a returning session is not active")
	}
}

func TestBuiltinEventTypes(t *testing.T) {
	s := start(t, "")
	s.source("web")
	send := func(pid string, typ string, props map[string]any) trackResult {
		body := map[string]any{"source": map[string]any{"id": "web"}, "events": []any{map[string]any{"type": typ, "properties": props}}}
		if pid != "" {
			body["profile"] = map[string]any{"id": pid}
		}
		return s.track(body)
	}
	pid := send("", "sign-in", map[string]any{"email": map[string]any{"main": "  Ann@Example.COM "}, "firstname": "Ann", "lastname": "Lee", "login": "ann"}).Profile.ID
	send(pid, "identification", map[string]any{"phone": map[string]any{"mobile": "+44 7700 900000"}, "id": "cust-1"})
	send(pid, "profile-update", map[string]any{"pii": map[string]any{"language": map[string]any{"native": "en"}}, "traits": map[string]any{"plan": "gold"}, "contact": map[string]any{"address": map[string]any{"town": "London"}}})
	if r := s.auth("POST", "/api/v1/consent-types", map[string]any{"id": "marketing", "name": "Marketing", "revokable": true, "enabled": true}); r.Status != http.StatusCreated {
		t.Fatalf("consent type: %d %s", r.Status, r.Body)
	}
	send(pid, "consent-update", map[string]any{"consents": map[string]any{"marketing": map[string]any{"granted": true}}})
	o := send(pid, "order-completed", map[string]any{"order": map[string]any{"id": "o-1", "total": 42.5}})
	send(pid, "order-completed", map[string]any{"order": map[string]any{"id": "o-2", "total": 7.5}})
	send(pid, "sign-in", map[string]any{"firstname": ""}) // empty values never erase data

	p := s.get("/api/v1/profiles/" + pid)
	for path, want := range map[string]any{
		"data.contact.email.main": "ann@example.com", "data.pii.firstname": "Ann", "data.pii.lastname": "Lee",
		"data.identifier.token": "ann", "data.contact.phone.mobile": "+44 7700 900000", "data.identifier.id": "cust-1",
		"data.pii.language.native": "en", "traits.plan": "gold", "data.contact.address.town": "London",
		"consents.marketing.granted": true, "data.metrics.ltv": 50.0, "stats.views": 0.0,
	} {
		if got := at(p, path); got != want {
			t.Errorf("profile %s = %v, want %v", path, got, want)
		}
	}
	ev := s.get("/api/v1/events/" + o.Events[0])
	if at(ev, "data.ec.order.id") != "o-1" {
		t.Errorf("order event data = %v", at(ev, "data"))
	}
}

func TestTrackRejectsBadInput(t *testing.T) {
	s := start(t, "", "TRACK_MAX_BODY_BYTES=65536", "TRACK_MAX_EVENTS=10")
	s.source("web")
	s.source("off", map[string]any{"enabled": false})
	s.source("hook", map[string]any{"type": "webhook"})
	s.source("strict", map[string]any{"allowed_origins": []string{"https://shop.example.com"}})
	deep := strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40)
	manyEvents := `{"source":{"id":"web"},"events":[` + strings.TrimSuffix(strings.Repeat(`{"type":"x"},`, 11), ",") + `]}`
	big := `{"source":{"id":"web"},"events":[{"type":"x","properties":{"s":"` + strings.Repeat("a", 70000) + `"}}]}`
	ok := `{"source":{"id":"web"},"events":[{"type":"page-view"}]}`
	cases := []struct {
		name    string
		body    string
		headers []string
		status  int
		want    string
	}{
		{"malformed JSON", `{"source":`, nil, 400, "body"},
		{"not an object", `[1,2]`, nil, 400, "body"},
		{"empty body", ``, nil, 400, "empty"},
		{"wrong type", `{"source":{"id":"web"},"events":[{"type":5}]}`, nil, 400, "type"},
		{"source not an object", `{"source":"web","events":[{"type":"x"}]}`, nil, 400, "source"},
		{"missing source", `{"events":[{"type":"x"}]}`, nil, 400, "source.id"},
		{"unknown source", `{"source":{"id":"nope"},"events":[{"type":"x"}]}`, nil, 401, "nope"},
		{"disabled source", `{"source":{"id":"off"},"events":[{"type":"x"}]}`, nil, 401, "off"},
		{"webhook source on /track", `{"source":{"id":"hook"},"events":[{"type":"x"}]}`, nil, 401, "webhook"},
		{"no events", `{"source":{"id":"web"},"events":[]}`, nil, 400, "events"},
		{"events missing", `{"source":{"id":"web"}}`, nil, 400, "events"},
		{"event without type", `{"source":{"id":"web"},"events":[{"properties":{}}]}`, nil, 400, "events[0].type"},
		{"too many events", manyEvents, nil, 400, "limit is 10"},
		{"too deep", `{"source":{"id":"web"},"events":[{"type":"x","properties":` + deep + `}]}`, nil, 400, "deeper"},
		{"invalid UTF-8", "{\"source\":{\"id\":\"web\"},\"events\":[{\"type\":\"\xff\xfe\"}]}", nil, 400, "UTF-8"},
		{"too large", big, nil, 413, "limit"},
		{"bad event id", `{"source":{"id":"web"},"events":[{"id":"a b","type":"x"}]}`, nil, 400, "events[0].id"},
		{"bad profile id", `{"source":{"id":"web"},"profile":{"id":"../x"},"events":[{"type":"x"}]}`, nil, 400, "profile.id"},
		{"bad time", `{"source":{"id":"web"},"events":[{"type":"x","time":{"create":"yesterday"}}]}`, nil, 400, "RFC 3339"},
		{"origin not allowed", `{"source":{"id":"strict"},"events":[{"type":"x"}]}`, []string{"Origin", "https://evil.example"}, 403, "evil"},
		{"origin allowed", `{"source":{"id":"strict"},"events":[{"type":"x"}]}`, []string{"Origin", "https://shop.example.com"}, 200, `"events"`},
		{"valid", ok, nil, 200, `"profile"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do("POST", "/track", tc.body, tc.headers...)
			if r.Status != tc.status || !strings.Contains(string(r.Body), tc.want) {
				t.Fatalf("status %d body %s; want %d containing %q", r.Status, r.Body, tc.status, tc.want)
			}
			if r.Status != 200 && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Errorf("error answer is not JSON: %q", r.Header.Get("Content-Type"))
			}
		})
	}
	// Nothing half-stored: only the two accepted requests left events behind.
	if n := metric(t, s, "thamesthrive_events_stored_total"); n != 2 {
		t.Fatalf("events stored = %v, want 2", n)
	}
	if r := s.do("POST", "/track", ok, "Origin", "https://shop.example.com"); r.Header.Get("Access-Control-Allow-Origin") != "https://shop.example.com" {
		t.Errorf("CORS header = %q", r.Header.Get("Access-Control-Allow-Origin"))
	}
	if r := s.do("OPTIONS", "/track", nil, "Origin", "https://shop.example.com", "Access-Control-Request-Method", "POST"); r.Status != 204 || r.Header.Get("Access-Control-Allow-Methods") == "" {
		t.Errorf("preflight: %d %v", r.Status, r.Header)
	}
}

// metric reads one unlabelled sample from /metrics.
func metric(t *testing.T, s *server, name string) float64 {
	t.Helper()
	r := s.do("GET", "/metrics", nil)
	for _, line := range strings.Split(string(r.Body), "\n") {
		if strings.HasPrefix(line, name+" ") {
			var v float64
			fmt.Sscan(strings.TrimPrefix(line, name+" "), &v)
			return v
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

func TestClientEventIDsAreIdempotent(t *testing.T) {
	s := start(t, "")
	s.source("web")
	body := map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "p-retry"},
		"events": []any{map[string]any{"id": "evt-1", "type": "page-view"}, map[string]any{"id": "evt-1", "type": "page-view"}}}
	first := s.track(body)
	second := s.track(body)
	if len(first.Events) != 2 || first.Events[0] != "evt-1" || second.Events[0] != "evt-1" || len(second.Warnings) == 0 {
		t.Fatalf("first %+v second %+v", first, second)
	}
	if v := at(s.get("/api/v1/profiles/p-retry"), "stats.views"); v != 1.0 {
		t.Fatalf("views = %v after sending one event id three times", v)
	}
	list := s.get("/api/v1/profiles/p-retry/events")
	if list["total"] != 1.0 {
		t.Fatalf("stored events = %v", list["total"])
	}
}

func TestConcurrentRequestsForOneProfile(t *testing.T) {
	s := start(t, "")
	s.source("web")
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.do("POST", "/track", map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "hot"},
				"session": map[string]any{"id": "hot-session"}, "events": []any{map[string]any{"type": "page-view"}}})
			if r.Status != http.StatusOK {
				errs <- fmt.Sprintf("%d %s", r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	p := s.get("/api/v1/profiles/hot")
	if at(p, "stats.views") != float64(n) || at(p, "stats.visits") != 1.0 {
		t.Fatalf("stats = %v, want views %d and one visit", at(p, "stats"), n)
	}
}

func TestCollectBridge(t *testing.T) {
	s := start(t, "")
	s.source("hook", map[string]any{"type": "webhook"})
	r := s.do("GET", "/collect/Order%20Paid/hook?amount=12&currency=EUR&profile_id=p-hook", nil)
	if r.Status != 200 {
		t.Fatalf("GET: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["events"].([]any)[0].(string)
	ev := s.get("/api/v1/events/" + id)
	if at(ev, "type") != "order-paid" || at(ev, "properties.amount") != "12" || at(ev, "profile.id") != "p-hook" || at(ev, "properties.profile_id") != nil {
		t.Fatalf("event from query: %v", ev)
	}
	r = s.do("POST", "/collect/sign-in/hook", `{"email":{"main":"hook@example.com"}}`)
	if r.Status != 200 {
		t.Fatalf("POST JSON: %d %s", r.Status, r.Body)
	}
	pid := r.JSON(t)["profile"].(map[string]any)["id"].(string)
	if at(s.get("/api/v1/profiles/"+pid), "data.contact.email.main") != "hook@example.com" {
		t.Fatal("JSON body did not become properties")
	}
	r = s.do("POST", "/collect/lead/hook", "name=Ann&tag=a&tag=b", "Content-Type", "application/x-www-form-urlencoded")
	if r.Status != 200 {
		t.Fatalf("POST form: %d %s", r.Status, r.Body)
	}
	ev = s.get("/api/v1/events/" + r.JSON(t)["events"].([]any)[0].(string))
	if at(ev, "properties.name") != "Ann" || len(at(ev, "properties.tag").([]any)) != 2 {
		t.Fatalf("form event: %v", at(ev, "properties"))
	}
	for _, tc := range []struct {
		path, body string
		status     int
	}{
		{"/collect/x/unknown", "", 401},
		{"/collect/x/hook", "{bad json", 400},
		{"/collect/x/hook", "[1]", 400},
	} {
		if r := s.do("POST", tc.path, tc.body); r.Status != tc.status {
			t.Errorf("POST %s %q: %d %s, want %d", tc.path, tc.body, r.Status, r.Body, tc.status)
		}
	}
}

func TestRateLimitAnswers429(t *testing.T) {
	s := start(t, "", "TRACK_RATE_LIMIT=1", "TRACK_RATE_BURST=3")
	s.source("web")
	body := `{"source":{"id":"web"},"events":[{"type":"page-view"}]}`
	codes := map[int]int{}
	var last *response
	for i := 0; i < 6; i++ {
		last = s.do("POST", "/track", body)
		codes[last.Status]++
	}
	if codes[200] != 3 || codes[429] != 3 {
		t.Fatalf("statuses %v, want 3×200 then 429s", codes)
	}
	if last.Header.Get("Retry-After") == "" || !strings.Contains(string(last.Body), "too many") {
		t.Fatalf("429 without Retry-After or message: %v %s", last.Header, last.Body)
	}
	if n := metric(t, s, "thamesthrive_events_stored_total"); n != 3 {
		t.Fatalf("stored %v events", n)
	}
}
