package loadtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func testPairs(n int) []Pair {
	out := make([]Pair, n)
	for i := range out {
		out[i] = Pair{Profile: "p-" + strconv.Itoa(i), Session: "s-" + strconv.Itoa(i)}
	}
	return out
}

// parse reads a precomputed request back with net/http's own parser, so framing mistakes show.
func parse(t *testing.T, raw []byte) (*http.Request, map[string]any) {
	t.Helper()
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("request does not parse: %v\n%s", err, raw)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(body)) != req.ContentLength {
		t.Fatalf("body %d bytes, Content-Length %d", len(body), req.ContentLength)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	return req, doc
}

func get(doc map[string]any, path string) any {
	var cur any = doc
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func TestCountsSplitExactly(t *testing.T) {
	m := DefaultMix("s", "h")
	tests := []struct {
		n    int
		want [numKinds]int
	}{
		{100, [numKinds]int{80, 15, 5}},
		{1, [numKinds]int{1, 0, 0}},
		{7, [numKinds]int{6, 1, 0}},
		{50000, [numKinds]int{40000, 7500, 2500}},
	}
	for _, tc := range tests {
		got, err := m.counts(tc.n)
		if err != nil || got != tc.want {
			t.Errorf("counts(%d) = %v, %v; want %v", tc.n, got, err, tc.want)
		}
	}
	if _, err := (Mix{}).counts(10); err == nil {
		t.Error("all-zero shares should fail")
	}
}

func TestBuildPoolMix(t *testing.T) {
	pairs := testPairs(500)
	m := DefaultMix("bench", "127.0.0.1:8686")
	pool, err := BuildPool(m, pairs, 2000)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]string{}
	for _, p := range pairs {
		known[p.Profile] = p.Session
	}
	var kinds [numKinds]int
	emailProfiles := map[string]map[string]bool{}
	profiles := map[string]bool{}
	for _, r := range pool {
		kinds[r.Kind]++
		if r.Events != 1 {
			t.Fatalf("%v request with %d events", r.Kind, r.Events)
		}
		req, doc := parse(t, r.Raw)
		if req.Method != "POST" || req.URL.Path != "/track" || req.Host != "127.0.0.1:8686" {
			t.Fatalf("request line/host: %s %s %s", req.Method, req.URL, req.Host)
		}
		if req.Header.Get("Content-Type") != "application/json" || req.Header.Get("User-Agent") == "" {
			t.Fatalf("headers %v", req.Header)
		}
		if get(doc, "source.id") != "bench" {
			t.Fatalf("source %v", doc["source"])
		}
		for _, f := range []string{"context.page.url", "context.page.title", "context.browser.local.browser.userAgent", "context.screen.local.width"} {
			if get(doc, f) == nil {
				t.Fatalf("%v request lacks %s", r.Kind, f)
			}
		}
		if _, ok := get(doc, "context.page.referer").(map[string]any); !ok {
			t.Fatalf("referer should be an object: %v", get(doc, "context.page.referer"))
		}
		events := doc["events"].([]any)
		if len(events) != 1 {
			t.Fatalf("%d events", len(events))
		}
		ev := events[0].(map[string]any)
		pid, _ := get(doc, "profile.id").(string)
		sid, _ := get(doc, "session.id").(string)
		switch r.Kind {
		case NewVisitor:
			if doc["profile"] != nil || doc["session"] != nil {
				t.Fatal("a new visitor must not carry ids")
			}
			if ev["type"] != "page-view" {
				t.Fatalf("new visitor event %v", ev["type"])
			}
		case Returning, SignIn:
			if known[pid] != sid || sid == "" {
				t.Fatalf("%v with unknown pair %q/%q", r.Kind, pid, sid)
			}
			profiles[pid] = true
		}
		if r.Kind == Returning && ev["type"] != "page-view" {
			t.Fatalf("returning visitor event %v", ev["type"])
		}
		if r.Kind == SignIn {
			if ev["type"] != "sign-in" {
				t.Fatalf("sign-in event %v", ev["type"])
			}
			email, _ := get(ev, "properties.email.main").(string)
			if !strings.HasSuffix(email, "@example.com") {
				t.Fatalf("sign-in e-mail %q", email)
			}
			if emailProfiles[email] == nil {
				emailProfiles[email] = map[string]bool{}
			}
			emailProfiles[email][pid] = true
		}
	}
	if kinds != [numKinds]int{1600, 300, 100} {
		t.Fatalf("kinds %v", kinds)
	}
	if len(profiles) != len(pairs) {
		t.Errorf("pool touches %d of %d warm profiles; want all of them", len(profiles), len(pairs))
	}
	// About a fifth of the sign-ins bring an e-mail another profile signed in with: merges.
	reused := 0
	for _, ps := range emailProfiles {
		reused += len(ps) - 1
	}
	if reused < 10 || reused > 30 {
		t.Errorf("%d of 100 sign-ins reuse another profile's e-mail; want about 20", reused)
	}
}

func TestBuildPoolDeterministic(t *testing.T) {
	pairs := testPairs(50)
	m := DefaultMix("bench", "h")
	a, _ := BuildPool(m, pairs, 300)
	b, _ := BuildPool(m, pairs, 300)
	for i := range a {
		if !bytes.Equal(a[i].Raw, b[i].Raw) {
			t.Fatalf("request %d differs between two builds", i)
		}
	}
	m.Seed = 2
	c, _ := BuildPool(m, pairs, 300)
	same := 0
	for i := range a {
		if bytes.Equal(a[i].Raw, c[i].Raw) {
			same++
		}
	}
	if same == len(a) {
		t.Fatal("another seed gives the same pool")
	}
}

func TestBuildPoolErrors(t *testing.T) {
	m := DefaultMix("bench", "h")
	if _, err := BuildPool(m, nil, 10); err == nil {
		t.Error("returning visitors without pairs should fail")
	}
	m.Returning, m.SignIn = 0, 0
	if _, err := BuildPool(m, nil, 10); err != nil {
		t.Errorf("new visitors alone need no pairs: %v", err)
	}
	if _, err := BuildPool(m, nil, 0); err == nil {
		t.Error("empty pool should fail")
	}
}

func TestWarmupPool(t *testing.T) {
	pool, err := WarmupPool(DefaultMix("bench", "h"), 20, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range pool {
		_, doc := parse(t, r.Raw)
		if r.Kind != NewVisitor || r.Events != 3 || len(doc["events"].([]any)) != 3 {
			t.Fatalf("warm-up request %v with %d events", r.Kind, r.Events)
		}
		if doc["profile"] != nil || doc["session"] != nil {
			t.Fatal("warm-up requests must create profiles")
		}
	}
}

func TestPairsRoundTrip(t *testing.T) {
	pairs := testPairs(10)
	var buf bytes.Buffer
	if err := WritePairs(&buf, pairs); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPairs(&buf)
	if err != nil || !slices.Equal(got, pairs) {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := ReadPairs(strings.NewReader("only-one-column\n")); err == nil {
		t.Fatal("want an error for a bad line")
	}
}
