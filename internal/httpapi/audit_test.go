package httpapi

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/secrets"
)

// vault is a resource with secrets, like a destination with an API key.
type vault struct {
	domain.Meta
	URL     string   `json:"url"`
	APIKey  string   `json:"api_key" secret:"true"`
	Headers []header `json:"headers"`
}

type header struct {
	Name  string `json:"name"`
	Value string `json:"value" secret:"true"`
}

func vaultResource() Resource[vault, *vault] {
	return Resource[vault, *vault]{Kind: "test-vault", Base: "/api/v1/test-vaults", Read: permDestinations, Write: permDestinations,
		Validate: func(context.Context, *vault) error { return nil }}
}

// TestResourcesSealSecretsAndAuditChanges drives a resource with secret fields through
// the generic CRUD: secrets are stored encrypted, never answered, kept when the mask
// comes back; every change lands in the audit trail with who made it.
func TestResourcesSealSecretsAndAuditChanges(t *testing.T) {
	a := newAccessServer(t, Options{ExposeGUIAPI: true})
	register(a.srv, vaultResource())
	dev, admin := a.tokens["developer"], a.tokens["admin"]
	body := map[string]any{"id": "v1", "name": "Vault", "url": "https://x.example", "api_key": "sk-live-123",
		"headers": []map[string]string{{"name": "Authorization", "value": "Bearer abc"}}}

	rec := a.do("POST", "/api/v1/test-vaults", dev, body)
	if rec.Code != 201 || strings.Contains(rec.Body.String(), "sk-live-123") || !strings.Contains(rec.Body.String(), `"api_key":"********"`) {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	stored := func() *vault {
		t.Helper()
		ent, err := a.store.Entities().Get(context.Background(), "test-vault", "v1")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(ent.Doc), "sk-live") || strings.Contains(string(ent.Doc), "Bearer abc") {
			t.Fatalf("secret stored in plain text: %s", ent.Doc)
		}
		var v vault
		json.Unmarshal(ent.Doc, &v)
		if err := a.box.OpenFields(&v); err != nil {
			t.Fatal(err)
		}
		return &v
	}
	if v := stored(); v.APIKey != "sk-live-123" || v.Headers[0].Value != "Bearer abc" {
		t.Fatalf("stored: %+v", v)
	}
	for _, path := range []string{"/api/v1/test-vaults/v1", "/api/v1/test-vaults"} {
		rec := a.do("GET", path, dev, nil)
		if rec.Code != 200 || strings.Contains(rec.Body.String(), "sk-live") || strings.Contains(rec.Body.String(), "ttsec:") ||
			!strings.Contains(rec.Body.String(), `"value":"********"`) {
			t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	// Sending back what was read keeps the secrets; a new value replaces one.
	body["api_key"], body["headers"], body["name"] = secrets.Mask, []map[string]string{{"name": "Authorization", "value": secrets.Mask}}, "Vault 2"
	if rec := a.do("PUT", "/api/v1/test-vaults/v1", dev, body); rec.Code != 200 {
		t.Fatalf("update with masks: %d %s", rec.Code, rec.Body)
	}
	if v := stored(); v.APIKey != "sk-live-123" || v.Headers[0].Value != "Bearer abc" || v.Name != "Vault 2" {
		t.Fatalf("after update with masks: %+v", v)
	}
	body["api_key"] = "sk-live-456"
	if rec := a.do("PUT", "/api/v1/test-vaults/v1", dev, body); rec.Code != 200 {
		t.Fatalf("update: %d %s", rec.Code, rec.Body)
	}
	if v := stored(); v.APIKey != "sk-live-456" {
		t.Fatalf("after update: %+v", v)
	}
	// A mask with nothing behind it is refused, naming the field.
	rec = a.do("POST", "/api/v1/test-vaults", dev, map[string]any{"name": "V", "api_key": secrets.Mask})
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"field":"api_key"`) {
		t.Fatalf("mask on create: %d %s", rec.Code, rec.Body)
	}
	if rec := a.do("DELETE", "/api/v1/test-vaults/v1", dev, nil); rec.Code != 204 {
		t.Fatalf("delete: %d", rec.Code)
	}

	// The audit trail, newest first.
	rec = a.do("GET", "/api/v1/audit?kind=test-vault", admin, nil)
	var list auditList
	json.Unmarshal(rec.Body.Bytes(), &list)
	if rec.Code != 200 || list.Total != 4 {
		t.Fatalf("audit: %d %s", rec.Code, rec.Body)
	}
	want := []struct {
		action  string
		version int64
	}{{"delete", 0}, {"update", 3}, {"update", 2}, {"create", 1}}
	for i, w := range want {
		e := list.Items[i]
		if e.Action != w.action || e.Version != w.version || e.Actor != "developer@example.com" || e.ObjectID != "v1" || e.Time.IsZero() {
			t.Errorf("entry %d: %+v; want %s version %d", i, e, w.action, w.version)
		}
	}
	if strings.Contains(rec.Body.String(), "sk-live") {
		t.Fatal("the audit trail holds a secret")
	}
	rec = a.do("GET", "/api/v1/audit?limit=1&offset=1&kind=test-vault", a.tokens["maintainer"], nil)
	json.Unmarshal(rec.Body.Bytes(), &list)
	if rec.Code != 200 || len(list.Items) != 1 || list.Items[0].Version != 3 {
		t.Fatalf("audit page as maintainer: %d %s", rec.Code, rec.Body)
	}
	if rec := a.do("GET", "/api/v1/audit", a.tokens["marketer"], nil); rec.Code != 403 {
		t.Fatalf("audit as marketer: %d", rec.Code)
	}
	// User changes are audited too.
	a.do("POST", "/api/v1/users", admin, map[string]any{"username": "u@example.com", "password": testPassword, "roles": []string{"marketer"}})
	rec = a.do("GET", "/api/v1/audit?kind=user&limit=1", admin, nil)
	if !strings.Contains(rec.Body.String(), `"object_id":"u@example.com"`) || !strings.Contains(rec.Body.String(), `"actor":"admin@example.com"`) {
		t.Fatalf("user audit: %s", rec.Body)
	}
}
