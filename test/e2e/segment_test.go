package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/segmentio"
)

// writeKeySource creates a REST source and returns its generated write key.
func (s *server) writeKeySource(id string, extra ...map[string]any) string {
	s.t.Helper()
	body := map[string]any{"id": id, "name": "Source " + id, "type": "rest"}
	for _, e := range extra {
		for k, v := range e {
			body[k] = v
		}
	}
	r := s.auth("POST", "/api/v1/event-sources", body)
	if r.Status != http.StatusCreated {
		s.t.Fatalf("creating source: %d %s", r.Status, r.Body)
	}
	key, _ := r.JSON(s.t)["write_key"].(string)
	if len(key) < 16 {
		s.t.Fatalf("source has no write key: %s", r.Body)
	}
	return key
}

func basic(key string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":")) }

func gz(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// The /v1 routes' answers for what clients get wrong: write keys, content types,
// encodings, sizes, shapes.
func TestSegmentRequestScenarios(t *testing.T) {
	s := start(t, "")
	key := s.writeKeySource("seg")
	s.writeKeySource("off", map[string]any{"enabled": false, "write_key": "disabled-source-key-0001"})
	track := `{"type":"track","event":"Clicked","anonymousId":"a1","messageId":"m-%d"}`
	big := fmt.Sprintf(`{"event":"Big","anonymousId":"a1","properties":{"x":"%s"}}`, strings.Repeat("x", 33<<10))
	var many []string
	for i := 0; i < 20; i++ {
		many = append(many, fmt.Sprintf(`{"type":"track","event":"E","anonymousId":"a2","properties":{"x":"%s"}}`, strings.Repeat("y", 30<<10)))
	}
	type hdr = []string
	cases := []struct {
		name, path string
		body       any
		headers    hdr
		status     int
		field      string
	}{
		{"basic auth", "/v1/track", fmt.Sprintf(track, 1), hdr{"Authorization", basic(key)}, 200, ""},
		{"writeKey in body, text/plain, short form", "/v1/t", `{"writeKey":"` + key + `","event":"E","anonymousId":"a1"}`, hdr{"Content-Type", "text/plain"}, 200, ""},
		{"batch", "/v1/batch", `{"writeKey":"` + key + `","batch":[{"type":"page","anonymousId":"a1"},{"type":"identify","userId":"u1"}]}`, nil, 200, ""},
		{"gzip", "/v1/b", gz(`{"batch":[{"type":"track","event":"Zipped","anonymousId":"a1"}]}`), hdr{"Authorization", basic(key), "Content-Encoding", "gzip"}, 200, ""},
		{"no write key", "/v1/track", `{"event":"E","anonymousId":"a1"}`, nil, 401, "writeKey"},
		{"unknown write key", "/v1/track", `{"event":"E","anonymousId":"a1"}`, hdr{"Authorization", basic("no-such-key-000000")}, 401, "writeKey"},
		{"disabled source", "/v1/track", `{"event":"E","anonymousId":"a1"}`, hdr{"Authorization", basic("disabled-source-key-0001")}, 401, "writeKey"},
		{"JSON labelled as a form (RudderStack's Node SDK)", "/v1/track", `{"event":"E","anonymousId":"a1"}`, hdr{"Authorization", basic(key), "Content-Type", "application/x-www-form-urlencoded"}, 200, ""},
		{"a real form", "/v1/track", `event=E&anonymousId=a1`, hdr{"Authorization", basic(key), "Content-Type", "application/x-www-form-urlencoded"}, 400, "body"},
		{"multipart", "/v1/track", `{"event":"E","anonymousId":"a1"}`, hdr{"Authorization", basic(key), "Content-Type", "multipart/form-data; boundary=x"}, 415, "Content-Type"},
		{"no content type", "/v1/track", `{"event":"E","anonymousId":"a1"}`, hdr{"Authorization", basic(key), "Content-Type", ""}, 200, ""},
		{"xml content type", "/v1/track", `{"event":"E","anonymousId":"a1"}`, hdr{"Authorization", basic(key), "Content-Type", "application/xml"}, 415, "Content-Type"},
		{"unknown encoding", "/v1/track", `{"event":"E","anonymousId":"a1"}`, hdr{"Authorization", basic(key), "Content-Encoding", "br"}, 415, "Content-Encoding"},
		{"bad gzip", "/v1/track", `not gzip`, hdr{"Authorization", basic(key), "Content-Encoding", "gzip"}, 400, "body"},
		{"message over 32 KB", "/v1/track", big, hdr{"Authorization", basic(key)}, 413, "body"},
		{"message over 32 KB in a batch", "/v1/batch", `{"batch":[{"type":"track","event":"ok","anonymousId":"a"},` + big[:1] + `"type":"track",` + big[1:] + `]}`, hdr{"Authorization", basic(key)}, 400, "batch[1]"},
		{"batch over 500 KB", "/v1/batch", `{"batch":[` + strings.Join(many, ",") + `]}`, hdr{"Authorization", basic(key)}, 413, "body"},
		{"gzip bomb over 500 KB", "/v1/batch", gz(`{"batch":[` + strings.Join(many, ",") + `]}`), hdr{"Authorization", basic(key), "Content-Encoding", "gzip"}, 413, "body"},
		{"no ids", "/v1/track", `{"event":"E"}`, hdr{"Authorization", basic(key)}, 400, "userId"},
		{"track without event", "/v1/track", `{"anonymousId":"a"}`, hdr{"Authorization", basic(key)}, 400, "event"},
		{"unknown type in batch", "/v1/batch", `{"batch":[{"type":"track","event":"E","anonymousId":"a"},{"type":"bogus","anonymousId":"a"}]}`, hdr{"Authorization", basic(key)}, 400, "batch[1].type"},
		{"bad timestamp", "/v1/track", `{"event":"E","anonymousId":"a","timestamp":"yesterday"}`, hdr{"Authorization", basic(key)}, 400, "timestamp"},
		{"userId not a string", "/v1/identify", `{"userId":{"x":1}}`, hdr{"Authorization", basic(key)}, 400, "userId"},
		{"not JSON", "/v1/track", `{"event":`, hdr{"Authorization", basic(key)}, 400, "body"},
		{"array body", "/v1/track", `[1,2]`, hdr{"Authorization", basic(key)}, 400, "body"},
		{"empty batch", "/v1/batch", `{"batch":[]}`, hdr{"Authorization", basic(key)}, 400, "batch"},
		{"unknown route", "/v1/nope", `{}`, hdr{"Authorization", basic(key)}, 404, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := append(hdr{"Content-Type", "application/json"}, c.headers...)
			r := s.do("POST", c.path, c.body, h...)
			if r.Status != c.status {
				t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
			}
			got := r.JSON(t)
			if c.status == 200 {
				if got["success"] != true {
					t.Fatalf("answer %s", r.Body)
				}
				return
			}
			if f, _ := got["field"].(string); !strings.HasSuffix(f, c.field) || got["status"] != float64(c.status) {
				t.Fatalf("error %s does not name %q", r.Body, c.field)
			}
		})
	}
}

// The Segment semantics: messageId is the event id, anonymous then identified profiles
// merge on userId, traits land on the profile, page/group/alias, skew correction.
func TestSegmentSemantics(t *testing.T) {
	s := start(t, "")
	key := s.writeKeySource("seg")
	send := func(path, body string) {
		t.Helper()
		if r := s.do("POST", path, body, "Authorization", basic(key)); r.Status != 200 {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
	}
	now := time.Now().UTC()
	// The client's clock is an hour fast: made 10 s before it was sent.
	skewed := now.Add(time.Hour)
	send("/v1/page", fmt.Sprintf(`{"anonymousId":"anon-1","messageId":"msg-page-1","name":"Home","properties":{"path":"/"},
		"context":{"page":{"url":"https://shop.example.com/?utm_source=x","title":"Home","referrer":"https://google.com/q"},
		"userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
		"locale":"en-GB","campaign":{"name":"spring","source":"news"},"library":{"name":"analytics.js","version":"2"}},
		"timestamp":%q,"sentAt":%q}`, skewed.Add(-10*time.Second).Format(time.RFC3339Nano), skewed.Format(time.RFC3339Nano)))
	send("/v1/p", `{"anonymousId":"anon-1","messageId":"msg-page-1","name":"Home"}`) // a retry
	ev := s.get("/api/v1/events/msg-page-1")
	anon := segmentio.DeriveID("anonymous", "anon-1")
	for path, want := range map[string]any{"type": "page-view", "name": "Home", "profile.id": anon, "hit.name": "Home",
		"hit.referer": "google.com", "properties.name": "Home", "source.id": "seg"} {
		if got := at(ev, path); got != want {
			t.Errorf("event %s = %v, want %v", path, got, want)
		}
	}
	created, _ := time.Parse(time.RFC3339Nano, at(ev, "metadata.time.create").(string))
	if d := now.Sub(created); d < 5*time.Second || d > 60*time.Second {
		t.Errorf("skew not corrected: created %v, now %v", created, now)
	}
	sess := s.get("/api/v1/sessions/" + at(ev, "session.id").(string))
	for path, want := range map[string]any{"app.name": "Chrome", "app.language": "en-GB", "utm.campaign": "spring", "utm.source": "news"} {
		if got := at(sess, path); got != want {
			t.Errorf("session %s = %v, want %v", path, got, want)
		}
	}
	if p := s.get("/api/v1/profiles/" + anon); at(p, "stats.views") != 1.0 {
		t.Errorf("the retried page was counted twice: %v", at(p, "stats"))
	}

	// A known customer from the back end, then the anonymous visitor identifies.
	send("/v1/track", `{"userId":"cust-42","event":"Order Completed","messageId":"msg-order","properties":{"total":30}}`)
	send("/v1/identify", `{"anonymousId":"anon-1","userId":"cust-42","messageId":"msg-id","traits":{"email":"Ann@Example.com","firstName":"Ann","plan":"gold","address":{"city":"London"}}}`)
	send("/v1/group", `{"userId":"cust-42","groupId":"acme","traits":{"name":"Acme"}}`)
	p := s.get("/api/v1/profiles/" + segmentio.UserProfile("cust-42"))
	if p["id"] != anon {
		t.Fatalf("profiles not merged: the survivor is %v, want the older anonymous %v", p["id"], anon)
	}
	for path, want := range map[string]any{"data.identifier.id": "cust-42", "data.contact.email.main": "ann@example.com",
		"data.pii.firstname": "Ann", "traits.plan": "gold", "data.contact.address.town": "London", "stats.views": 1.0} {
		if got := at(p, path); got != want {
			t.Errorf("profile %s = %v, want %v", path, got, want)
		}
	}
	if g, _ := at(p, "traits.groups").([]any); len(g) != 1 || g[0] != "acme" {
		t.Errorf("group membership: %v", at(p, "traits.groups"))
	}

	// alias: a previous user id is merged into the new one.
	send("/v1/track", `{"userId":"old-login","event":"Logged In"}`)
	send("/v1/alias", `{"previousId":"old-login","userId":"cust-42","messageId":"msg-alias"}`)
	if p := s.get("/api/v1/profiles/" + segmentio.UserProfile("old-login")); p["id"] != anon {
		t.Errorf("alias did not merge: %v", p["id"])
	}

	// Settings for analytics.js point it back here.
	r := s.do("GET", "/v1/projects/"+key+"/settings", nil)
	seg, _ := at(r.JSON(t), "integrations").(map[string]any)["Segment.io"].(map[string]any)
	if r.Status != 200 || seg["apiHost"] != strings.TrimPrefix(s.URL, "http://")+"/v1" {
		t.Errorf("settings: %d %s", r.Status, r.Body)
	}
	if r := s.do("GET", "/v1/projects/not-a-key-at-all/settings", nil); r.Status != 401 {
		t.Errorf("settings for an unknown key: %d", r.Status)
	}
}

// Write keys: generated, kept by a PUT that leaves them out, unique, served with
// EXPOSE_GUI_API=no.
func TestSourceWriteKeys(t *testing.T) {
	s := start(t, "")
	key := s.writeKeySource("a")
	r := s.auth("PUT", "/api/v1/event-sources/a", map[string]any{"name": "renamed", "type": "rest"})
	if r.Status != 200 || r.JSON(t)["write_key"] != key {
		t.Fatalf("PUT without write_key: %d %s", r.Status, r.Body)
	}
	r = s.auth("POST", "/api/v1/event-sources", map[string]any{"id": "b", "name": "b", "write_key": key})
	if r.Status != 400 || r.JSON(t)["field"] != "write_key" {
		t.Fatalf("duplicate write key: %d %s", r.Status, r.Body)
	}
	r = s.auth("POST", "/api/v1/event-sources", map[string]any{"id": "c", "name": "c", "write_key": "short"})
	if r.Status != 400 {
		t.Fatalf("short write key: %d %s", r.Status, r.Body)
	}
}
