package domain

import (
	"errors"
	"testing"
)

func TestDestinationValidate(t *testing.T) {
	ok := func() *Destination {
		return &Destination{Events: true, Webhook: &DestinationWebhook{URL: "https://hooks.example.com/in"}}
	}
	d := ok()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.Type != DestinationTypeWebhook || d.Webhook.Method != "POST" || d.Webhook.Timeout != "5s" || d.Webhook.Auth.Type != WebhookAuthNone {
		t.Fatalf("defaults not applied: %+v %+v", d, d.Webhook)
	}
	cases := []struct {
		name  string
		edit  func(*Destination)
		field string
	}{
		{"type", func(d *Destination) { d.Type = "email" }, "type"},
		{"nothing forwarded", func(d *Destination) { d.Events = false }, "events"},
		{"no webhook", func(d *Destination) { d.Webhook = nil }, "webhook"},
		{"relative url", func(d *Destination) { d.Webhook.URL = "/in" }, "webhook.url"},
		{"credentials in url", func(d *Destination) { d.Webhook.URL = "https://u:p@x.example.com" }, "webhook.url"},
		{"method", func(d *Destination) { d.Webhook.Method = "get" }, "webhook.method"},
		{"timeout", func(d *Destination) { d.Webhook.Timeout = "1ms" }, "webhook.timeout"},
		{"header name", func(d *Destination) { d.Webhook.Headers = map[string]string{"a:b": "c"} }, "webhook.headers"},
		{"header value", func(d *Destination) { d.Webhook.Headers = map[string]string{"X-A": "a\r\nB: c"} }, "webhook.headers.X-A"},
		{"authorization twice", func(d *Destination) {
			d.Webhook.Headers = map[string]string{"Authorization": "x"}
			d.Webhook.Auth = WebhookAuth{Type: "bearer", Token: "t"}
		}, "webhook.headers.Authorization"},
		{"auth type", func(d *Destination) { d.Webhook.Auth.Type = "digest" }, "webhook.auth.type"},
		{"basic without username", func(d *Destination) { d.Webhook.Auth = WebhookAuth{Type: "basic", Password: "p"} }, "webhook.auth.username"},
		{"basic with token", func(d *Destination) {
			d.Webhook.Auth = WebhookAuth{Type: "basic", Username: "u", Password: "p", Token: "t"}
		}, "webhook.auth.token"},
		{"bearer with password", func(d *Destination) { d.Webhook.Auth = WebhookAuth{Type: "bearer", Token: "t", Password: "p"} }, "webhook.auth.username"},
		{"none with password", func(d *Destination) { d.Webhook.Auth = WebhookAuth{Password: "p"} }, "webhook.auth.password"},
	}
	for _, tc := range cases {
		d := ok()
		tc.edit(d)
		var fe *FieldError
		if err := d.Validate(); !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s: %v, want an error on %s", tc.name, err, tc.field)
		}
	}
	if def, allowed := (&Destination{Profiles: true}).FilterScope(); def != "profile" || len(allowed) != 1 {
		t.Errorf("profiles-only filter scope: %s %v", def, allowed)
	}
}

func TestReportDefinitionValidate(t *testing.T) {
	r := &ReportDefinition{Kind: " Events-Histogram ", Params: ReportParams{Range: " 7d ", Interval: "1d", Where: `type == "x"`}}
	if err := r.Validate(); err != nil || r.Kind != ReportEventsHistogram || r.Params.Range != "7d" {
		t.Fatalf("%v %+v", err, r)
	}
	if got := r.Params.Set(); len(got) != 3 || got["range"] != "7d" {
		t.Fatalf("Set: %v", got)
	}
	cases := []struct {
		r     ReportDefinition
		field string
	}{
		{ReportDefinition{Kind: "funnel"}, "kind"},
		{ReportDefinition{Kind: ReportSessionsActive, Params: ReportParams{Range: "7d"}}, "params.range"},
		{ReportDefinition{Kind: ReportProfilesNew, Params: ReportParams{Where: "x"}}, "params.where"},
		{ReportDefinition{Kind: ReportEventsHistogram, Params: ReportParams{Limit: 3}}, "params.limit"},
		{ReportDefinition{Kind: ReportEventsBreakdown, Params: ReportParams{Within: "1h", Interval: "1h"}}, "params.interval"},
	}
	for _, tc := range cases {
		var fe *FieldError
		if err := tc.r.Validate(); !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%+v: %v, want an error on %s", tc.r, err, tc.field)
		}
	}
}
