package e2e

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// TestDestinations is the destinations resource on the real binary: CRUD, listing by
// text and tag, optimistic versions, validation naming the field, the outbound address
// guard, and secrets that are never answered and survive an update that sends the mask.
func TestDestinations(t *testing.T) {
	s := start(t, "")
	base := "/api/v1/destinations"
	const mask = "********"
	webhook := func(u string, auth map[string]any) map[string]any {
		return map[string]any{"url": u, "method": "PUT", "headers": map[string]string{"X-Source": "thamesthrive"}, "timeout": "3s", "auth": auth}
	}
	crm := map[string]any{"id": "crm", "name": "CRM sync", "description": "Purchases to the CRM", "tags": []string{"crm", "sales"},
		"events": true, "filter": `type == "purchase"`, "template": `{"email": "{{profile@data.contact.email.main}}", "type": "{{event@type}}"}`,
		"webhook": webhook("https://crm.example.com/hook", map[string]any{"type": "basic", "username": "tt", "password": "pa55-word-crm"})}
	ads := map[string]any{"id": "ads", "name": "Ad audience", "tags": []string{"ads"}, "profiles": true,
		"webhook": webhook("https://ads.example.com/audience", map[string]any{"type": "bearer", "token": "tok-ads-123"})}
	bad := func(extra map[string]any) map[string]any {
		d := map[string]any{"name": "Bad", "events": true, "webhook": map[string]any{"url": "https://x.example.com"}}
		for k, v := range extra {
			d[k] = v
		}
		return d
	}
	cases := []struct {
		name, method, path string
		body               any
		status             int
		want               []string
	}{
		{"create crm", "POST", base, crm, 201, []string{`"id":"crm"`, `"version":1`, `"password":"` + mask + `"`}},
		{"create ads", "POST", base, ads, 201, []string{`"token":"` + mask + `"`, `"method":"PUT"`}},
		{"list", "GET", base, nil, 200, []string{`"total":2`}},
		{"list by text", "GET", base + "?q=purchases", nil, 200, []string{`"total":1`, `"id":"crm"`}},
		{"list by tag", "GET", base + "?tag=ads", nil, 200, []string{`"total":1`, `"id":"ads"`}},
		{"list by two tags", "GET", base + "?tag=crm&tag=sales", nil, 200, []string{`"total":1`}},
		{"list paged", "GET", base + "?limit=1&offset=1", nil, 200, []string{`"total":2`}},
		{"get", "GET", base + "/crm", nil, 200, []string{`"username":"tt"`, `"password":"` + mask + `"`, `"filter":"type == \"purchase\""`}},
		{"update keeping the password", "PUT", base + "/crm", merge(crm, map[string]any{"version": 1, "name": "CRM",
			"webhook": webhook("https://crm.example.com/hook2", map[string]any{"type": "basic", "username": "tt", "password": mask})}), 200,
			[]string{`"version":2`, `"name":"CRM"`, `"password":"` + mask + `"`}},
		{"stale update", "PUT", base + "/crm", merge(crm, map[string]any{"version": 1}), 409, []string{"version"}},
		{"update missing", "PUT", base + "/nope", crm, 404, nil},
		{"no name", "POST", base, bad(map[string]any{"name": ""}), 400, []string{`"field":"name"`}},
		{"bad type", "POST", base, bad(map[string]any{"type": "smtp"}), 400, []string{`"field":"type"`}},
		{"nothing forwarded", "POST", base, bad(map[string]any{"events": false}), 400, []string{`"field":"events"`}},
		{"not http", "POST", base, bad(map[string]any{"webhook": map[string]any{"url": "file:///etc/passwd"}}), 400, []string{`"field":"webhook.url"`}},
		{"loopback", "POST", base, bad(map[string]any{"webhook": map[string]any{"url": "http://127.0.0.1:9/"}}), 400, []string{`"field":"webhook.url"`, "OUTBOUND_ALLOW_PRIVATE"}},
		{"private", "POST", base, bad(map[string]any{"webhook": map[string]any{"url": "http://192.168.1.10/"}}), 400, []string{`"field":"webhook.url"`}},
		{"metadata service", "POST", base, bad(map[string]any{"webhook": map[string]any{"url": "http://169.254.169.254/"}}), 400, []string{`"field":"webhook.url"`}},
		{"bad method", "POST", base, bad(map[string]any{"webhook": map[string]any{"url": "https://x.example.com", "method": "DELETE"}}), 400, []string{`"field":"webhook.method"`}},
		{"bad timeout", "POST", base, bad(map[string]any{"webhook": map[string]any{"url": "https://x.example.com", "timeout": "soon"}}), 400, []string{`"field":"webhook.timeout"`}},
		{"bad auth", "POST", base, bad(map[string]any{"webhook": map[string]any{"url": "https://x.example.com", "auth": map[string]any{"type": "bearer"}}}), 400, []string{`"field":"webhook.auth.token"`}},
		{"bad filter", "POST", base, bad(map[string]any{"filter": `type == "a" and (`}), 400, []string{`"field":"filter"`}},
		{"bad template", "POST", base, bad(map[string]any{"template": `{"t": "{{event@type"}`}), 400, []string{`"field":"template"`}},
		{"delete", "DELETE", base + "/ads", nil, 204, nil},
		{"deleted", "GET", base + "/ads", nil, 404, nil},
		{"list after delete", "GET", base, nil, 200, []string{`"total":1`}},
	}
	for _, tc := range cases {
		r := s.auth(tc.method, tc.path, tc.body)
		if r.Status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
			continue
		}
		for _, w := range tc.want {
			if !bytes.Contains(r.Body, []byte(w)) {
				t.Errorf("%s: answer lacks %s: %s", tc.name, w, r.Body)
			}
		}
		for _, secret := range []string{"pa55-word-crm", "tok-ads-123", "ttsec:"} {
			if bytes.Contains(r.Body, []byte(secret)) {
				t.Errorf("%s: answer holds the secret %q: %s", tc.name, secret, r.Body)
			}
		}
	}
	// Secrets are encrypted at rest: no file of the data directory holds them.
	filepath.WalkDir(s.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(path)
		for _, secret := range []string{"pa55-word-crm", "tok-ads-123"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds the secret %q in the clear", path, secret)
			}
		}
		return nil
	})
	// The OpenAPI document knows destinations.
	if r := s.auth("GET", "/api/v1/openapi.json", nil); !bytes.Contains(r.Body, []byte(`"/api/v1/destinations/{id}"`)) {
		t.Errorf("destinations missing from the OpenAPI document")
	}

	// OUTBOUND_ALLOW_PRIVATE=yes lets a destination call a private address.
	p := start(t, "", "OUTBOUND_ALLOW_PRIVATE=yes")
	if r := p.auth("POST", base, bad(map[string]any{"webhook": map[string]any{"url": "http://127.0.0.1:9/"}})); r.Status != 201 {
		t.Errorf("loopback with OUTBOUND_ALLOW_PRIVATE=yes: %d %s", r.Status, r.Body)
	}
}

func merge(a, b map[string]any) map[string]any {
	m := map[string]any{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

// TestReportDefinitions saves report definitions, validates them against what the
// report routes accept, and runs them through the same code as the ad-hoc routes.
func TestReportDefinitions(t *testing.T) {
	s := start(t, "")
	s.source("web")
	s.track(map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "rd-1"},
		"events": []any{map[string]any{"type": "page-view"}, map[string]any{"type": "purchase"}, map[string]any{"type": "purchase"}}})
	base := "/api/v1/report-definitions"
	def := func(id, kind string, params map[string]any) map[string]any {
		return map[string]any{"id": id, "name": "Dashboard " + id, "kind": kind, "params": params, "tags": []string{"dashboard"}}
	}
	cases := []struct {
		name, method, path string
		body               any
		status             int
		want               []string
	}{
		{"histogram", "POST", base, def("purchases", "events-histogram", map[string]any{"range": "7d", "interval": "1d", "where": `type == "purchase"`}), 201, []string{`"version":1`}},
		{"breakdown", "POST", base, def("types", "events-breakdown", map[string]any{"by": "type", "limit": 3}), 201, nil},
		{"new profiles", "POST", base, def("new", "profiles-new", map[string]any{"range": "24h", "interval": "1h"}), 201, nil},
		{"active", "POST", base, def("active", "sessions-active", map[string]any{"within": "30m"}), 201, nil},
		{"list", "GET", base + "?tag=dashboard", nil, 200, []string{`"total":4`}},
		{"list by text", "GET", base + "?q=purchases", nil, 200, []string{`"total":1`}},
		{"run histogram", "GET", base + "/purchases/run", nil, 200, []string{`"total":2`, `"interval":"1d"`}},
		{"run breakdown", "GET", base + "/types/run", nil, 200, []string{`"by":"type"`, `"value":"page-view"`}},
		{"run new profiles", "GET", base + "/new/run", nil, 200, []string{`"total":1`}},
		{"run active sessions", "GET", base + "/active/run", nil, 200, []string{`"count":1`}},
		{"bad kind", "POST", base, def("x", "funnel", nil), 400, []string{`"field":"kind"`}},
		{"param the route does not take", "POST", base, def("x", "sessions-active", map[string]any{"range": "7d"}), 400, []string{`"field":"params.range"`}},
		{"bad interval", "POST", base, def("x", "profiles-new", map[string]any{"interval": "3h"}), 400, []string{`"field":"params.interval"`}},
		{"bad where", "POST", base, def("x", "events-histogram", map[string]any{"where": "type =="}), 400, []string{`"field":"params.where"`}},
		{"bad by", "POST", base, def("x", "events-breakdown", map[string]any{}), 400, []string{`"field":"params.by"`}},
		{"update", "PUT", base + "/purchases", def("purchases", "events-histogram", map[string]any{"range": "30d", "interval": "1d"}), 200, []string{`"version":2`}},
		{"stale", "PUT", base + "/purchases", merge(def("purchases", "events-histogram", nil), map[string]any{"version": 1}), 409, nil},
		{"run updated", "GET", base + "/purchases/run", nil, 200, []string{`"total":3`}},
		{"delete", "DELETE", base + "/purchases", nil, 204, nil},
		{"run deleted", "GET", base + "/purchases/run", nil, 404, nil},
		{"ad-hoc routes untouched", "GET", "/api/v1/reports/events/histogram?" + url.Values{"range": {"7d"}, "interval": {"1d"}}.Encode(), nil, 200, []string{`"total":3`}},
	}
	for _, tc := range cases {
		r := s.auth(tc.method, tc.path, tc.body)
		if r.Status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, r.Status, r.Body, tc.status)
			continue
		}
		for _, w := range tc.want {
			if !bytes.Contains(r.Body, []byte(w)) {
				t.Errorf("%s: answer lacks %s: %s", tc.name, w, r.Body)
			}
		}
	}
	// A run answers what the ad-hoc route answers for the same parameters.
	var saved, adhoc map[string]any
	json.Unmarshal(s.auth("GET", base+"/types/run", nil).Body, &saved)
	json.Unmarshal(s.auth("GET", "/api/v1/reports/events/breakdown?by=type&limit=3", nil).Body, &adhoc)
	if a, b := mustJSON(t, saved["items"]), mustJSON(t, adhoc["items"]); a != b {
		t.Errorf("saved run %s, ad-hoc %s", a, b)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
