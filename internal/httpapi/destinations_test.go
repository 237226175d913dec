package httpapi

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/netguard"
	"github.com/thamesthrive/thamesthrive/internal/secrets"
)

func hook(url string, auth map[string]any) map[string]any {
	w := map[string]any{"url": url}
	if auth != nil {
		w["auth"] = auth
	}
	return w
}

func TestDestinationsAPI(t *testing.T) {
	a := newAccessServer(t, Options{ExposeGUIAPI: true})
	admin, dev, mkt := a.tokens["admin"], a.tokens["developer"], a.tokens["marketer"]
	base := "/api/v1/destinations"
	basic := map[string]any{"type": "basic", "username": "crm", "password": "s3cret-pass"}
	dest := func(extra map[string]any) map[string]any {
		d := map[string]any{"id": "crm", "name": "CRM", "events": true, "webhook": hook("https://crm.example.com/in", basic)}
		for k, v := range extra {
			d[k] = v
		}
		return d
	}
	cases := []struct {
		name, method, path, token string
		body                      any
		status                    int
		want                      string
	}{
		{"create", "POST", base, dev, dest(map[string]any{"tags": []string{"crm"}, "filter": `type = "purchase" and profile@stats.visits > 1`,
			"template": `{"email": "{{profile@data.contact.email.main}}"}`}), 201, `"password":"` + secrets.Mask + `"`},
		{"defaults", "GET", base + "/crm", dev, nil, 200, `"method":"POST","timeout":"5s"`},
		{"marketers may not", "GET", base, mkt, nil, 403, "roles"},
		{"list by tag", "GET", base + "?tag=crm", admin, nil, 200, `"total":1`},
		{"list by other tag", "GET", base + "?tag=nope", admin, nil, 200, `"total":0`},
		{"list by text", "GET", base + "?q=cR", admin, nil, 200, `"total":1`},
		{"update with mask", "PUT", base + "/crm", dev, dest(map[string]any{"version": 1, "webhook": hook("https://crm.example.com/in2",
			map[string]any{"type": "basic", "username": "crm", "password": secrets.Mask})}), 200, `"version":2`},
		{"stale", "PUT", base + "/crm", dev, dest(map[string]any{"version": 1}), 409, "version"},
		{"no name", "POST", base, dev, map[string]any{"events": true, "webhook": hook("https://x.example", nil)}, 400, `"field":"name"`},
		{"bad type", "POST", base, dev, dest(map[string]any{"id": "x", "type": "kafka"}), 400, `"field":"type"`},
		{"forwards nothing", "POST", base, dev, dest(map[string]any{"id": "x", "events": false}), 400, `"field":"events"`},
		{"no webhook", "POST", base, dev, map[string]any{"name": "x", "events": true}, 400, `"field":"webhook"`},
		{"no url", "POST", base, dev, dest(map[string]any{"id": "x", "webhook": map[string]any{"method": "POST"}}), 400, `"field":"webhook.url"`},
		{"ftp url", "POST", base, dev, dest(map[string]any{"id": "x", "webhook": hook("ftp://x.example/", nil)}), 400, `"field":"webhook.url"`},
		{"loopback url", "POST", base, dev, dest(map[string]any{"id": "x", "webhook": hook("http://127.0.0.1:8080/", nil)}), 400, "loopback"},
		{"ipv6 loopback url", "POST", base, dev, dest(map[string]any{"id": "x", "webhook": hook("http://[::1]/", nil)}), 400, `"field":"webhook.url"`},
		{"private url", "POST", base, dev, dest(map[string]any{"id": "x", "webhook": hook("http://10.1.2.3/", nil)}), 400, "private"},
		{"link-local url", "POST", base, dev, dest(map[string]any{"id": "x", "webhook": hook("http://169.254.169.254/latest", nil)}), 400, "link-local"},
		{"localhost url", "POST", base, dev, dest(map[string]any{"id": "x", "webhook": hook("http://localhost:9000/", nil)}), 400, `"field":"webhook.url"`},
		{"decimal loopback url", "POST", base, dev, dest(map[string]any{"id": "x", "webhook": hook("http://2130706433/", nil)}), 400, "127.0.0.1"},
		{"zero url", "POST", base, dev, dest(map[string]any{"id": "x", "webhook": hook("http://0/", nil)}), 400, "0.0.0.0"},
		{"hex loopback url", "POST", base, dev, dest(map[string]any{"id": "x", "webhook": hook("http://0x7f.1/", nil)}), 400, "loopback"},
		{"bad method", "POST", base, dev, dest(map[string]any{"id": "x", "webhook": map[string]any{"url": "https://x.example", "method": "GET"}}), 400, `"field":"webhook.method"`},
		{"bad timeout", "POST", base, dev, dest(map[string]any{"id": "x", "webhook": map[string]any{"url": "https://x.example", "timeout": "10m"}}), 400, `"field":"webhook.timeout"`},
		{"bad header", "POST", base, dev, dest(map[string]any{"id": "x", "webhook": map[string]any{"url": "https://x.example", "headers": map[string]string{"bad name": "v"}}}), 400, `"field":"webhook.headers"`},
		{"bad auth type", "POST", base, dev, dest(map[string]any{"id": "x", "webhook": hook("https://x.example", map[string]any{"type": "digest"})}), 400, `"field":"webhook.auth.type"`},
		{"basic without password", "POST", base, dev, dest(map[string]any{"id": "x", "webhook": hook("https://x.example", map[string]any{"type": "basic", "username": "u"})}), 400, `"field":"webhook.auth.password"`},
		{"bearer without token", "POST", base, dev, dest(map[string]any{"id": "x", "webhook": hook("https://x.example", map[string]any{"type": "bearer"})}), 400, `"field":"webhook.auth.token"`},
		{"token without auth", "POST", base, dev, dest(map[string]any{"id": "x", "webhook": hook("https://x.example", map[string]any{"token": "t"})}), 400, `"field":"webhook.auth.token"`},
		{"mask on create", "POST", base, dev, dest(map[string]any{"id": "x", "webhook": hook("https://x.example", map[string]any{"type": "bearer", "token": secrets.Mask})}), 400, `"field":"webhook.auth.token"`},
		{"bad filter", "POST", base, dev, dest(map[string]any{"id": "x", "filter": `type = `}), 400, `"field":"filter"`},
		{"filter scope", "POST", base, dev, dest(map[string]any{"id": "x", "events": false, "profiles": true, "filter": `event@type = "x"`}), 400, "only profile@ fields"},
		{"bad template", "POST", base, dev, dest(map[string]any{"id": "x", "template": `{"a": "{{profile@id"}`}), 400, `"field":"template"`},
		{"unknown field", "POST", base, dev, dest(map[string]any{"id": "x", "secret_sauce": 1}), 400, "secret_sauce"},
		{"delete", "DELETE", base + "/crm", dev, nil, 204, ""},
		{"gone", "GET", base + "/crm", dev, nil, 404, "crm"},
	}
	for _, tc := range cases {
		rec := a.do(tc.method, tc.path, tc.token, tc.body)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
			t.Fatalf("%s: got %d %s; want %d containing %q", tc.name, rec.Code, rec.Body, tc.status, tc.want)
		}
		if strings.Contains(rec.Body.String(), "s3cret-pass") || strings.Contains(rec.Body.String(), "ttsec:") {
			t.Fatalf("%s: answer leaks a secret: %s", tc.name, rec.Body)
		}
		if tc.name == "update with mask" {
			// The stored password is sealed, and still the one first sent.
			ent, err := a.store.Entities().Get(context.Background(), domain.EntityDestination, "crm")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(ent.Doc), "s3cret-pass") {
				t.Fatalf("password stored in the clear: %s", ent.Doc)
			}
			var d domain.Destination
			json.Unmarshal(ent.Doc, &d)
			if err := a.box.OpenFields(&d); err != nil || d.Webhook.Auth.Password != "s3cret-pass" || d.Webhook.URL != "https://crm.example.com/in2" {
				t.Fatalf("stored after update: %+v %v", d.Webhook, err)
			}
		}
	}

	// OUTBOUND_ALLOW_PRIVATE lets destinations call private addresses.
	a.srv.deps.Outbound = netguard.New(netguard.Config{AllowPrivate: true})
	for _, u := range []string{"http://127.0.0.1:8080/", "http://10.1.2.3/", "http://localhost/"} {
		if rec := a.do("POST", base, dev, map[string]any{"name": u, "profiles": true, "webhook": hook(u, nil)}); rec.Code != 201 {
			t.Fatalf("%s with private addresses allowed: %d %s", u, rec.Code, rec.Body)
		}
	}
}

func TestReportDefinitionsAPI(t *testing.T) {
	a := newAccessServer(t, Options{ExposeGUIAPI: true})
	mkt, dev := a.tokens["marketer"], a.tokens["developer"]
	base := "/api/v1/report-definitions"
	def := func(id, kind string, params map[string]any) map[string]any {
		return map[string]any{"id": id, "name": "Report " + id, "kind": kind, "params": params, "tags": []string{"dashboard"}}
	}
	cases := []struct {
		name, method, path, token string
		body                      any
		status                    int
		want                      string
	}{
		{"histogram", "POST", base, mkt, def("h", "events-histogram", map[string]any{"range": "7d", "interval": "1d", "where": `type = "page-view"`}), 201, `"range":"7d"`},
		{"breakdown", "POST", base, mkt, def("b", "events-breakdown", map[string]any{"by": "type", "limit": 5}), 201, `"limit":5`},
		{"new profiles", "POST", base, mkt, def("p", "profiles-new", map[string]any{"range": "30d", "interval": "1d"}), 201, `"kind":"profiles-new"`},
		{"active sessions", "POST", base, mkt, def("s", "sessions-active", map[string]any{"within": "1h"}), 201, `"within":"1h"`},
		{"developers may not", "GET", base, dev, nil, 403, "roles"},
		{"list", "GET", base + "?tag=dashboard&q=report+h", mkt, nil, 200, `"total":1`},
		{"bad kind", "POST", base, mkt, def("x", "pie", nil), 400, `"field":"kind"`},
		{"param of another kind", "POST", base, mkt, def("x", "profiles-new", map[string]any{"where": `type = "x"`}), 400, `"field":"params.where"`},
		{"bad interval", "POST", base, mkt, def("x", "events-histogram", map[string]any{"interval": "2h"}), 400, `"field":"params.interval"`},
		{"too many buckets", "POST", base, mkt, def("x", "events-histogram", map[string]any{"range": "30d", "interval": "1m"}), 400, `"field":"params.interval"`},
		{"bad range", "POST", base, mkt, def("x", "events-histogram", map[string]any{"range": "forever"}), 400, `"field":"params.range"`},
		{"bad where", "POST", base, mkt, def("x", "events-breakdown", map[string]any{"by": "type", "where": "type ="}), 400, `"field":"params.where"`},
		{"bad by", "POST", base, mkt, def("x", "events-breakdown", map[string]any{"by": "colour"}), 400, `"field":"params.by"`},
		{"bad limit", "POST", base, mkt, def("x", "events-breakdown", map[string]any{"by": "type", "limit": 5000}), 400, `"field":"params.limit"`},
		{"bad within", "POST", base, mkt, def("x", "sessions-active", map[string]any{"within": "90d"}), 400, `"field":"params.within"`},
		{"unknown param", "PUT", base + "/h", mkt, def("h", "events-histogram", map[string]any{"range": "24h", "colour": 1}), 400, `colour`},
		{"update ok", "PUT", base + "/h", mkt, map[string]any{"name": "Hourly", "kind": "events-histogram", "params": map[string]any{"range": "24h"}, "version": 1}, 200, `"version":2`},
		{"stale", "PUT", base + "/h", mkt, map[string]any{"name": "Hourly", "kind": "events-histogram", "version": 1}, 409, "version"},
		{"run histogram", "GET", base + "/h/run", mkt, nil, 200, `"interval":"1h"`},
		{"run breakdown", "GET", base + "/b/run", mkt, nil, 200, `"by":"type"`},
		{"run new profiles", "GET", base + "/p/run", mkt, nil, 200, `"interval":"1d"`},
		{"run active sessions", "GET", base + "/s/run", mkt, nil, 200, `"within":"1h"`},
		{"run missing", "GET", base + "/nope/run", mkt, nil, 404, "nope"},
		{"ad-hoc route still there", "GET", "/api/v1/reports/events/histogram?range=7d&interval=1d", mkt, nil, 200, `"interval":"1d"`},
		{"ad-hoc from and range", "GET", "/api/v1/reports/events/histogram?range=7d&from=2026-01-01", mkt, nil, 400, `"field":"range"`},
		{"delete", "DELETE", base + "/h", mkt, nil, 204, ""},
	}
	for _, tc := range cases {
		rec := a.do(tc.method, tc.path, tc.token, tc.body)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
			t.Fatalf("%s: got %d %s; want %d containing %q", tc.name, rec.Code, rec.Body, tc.status, tc.want)
		}
	}
	// A run over the last 30 days at 1d answers one bucket per day.
	rec := a.do("GET", base+"/p/run", mkt, nil)
	var h histogramAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &h); err != nil || len(h.Buckets) < 30 || len(h.Buckets) > 31 {
		t.Fatalf("30d at 1d: %d buckets, %v: %s", len(h.Buckets), err, rec.Body)
	}
}
