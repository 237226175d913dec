package e2e

import (
	"testing"
)

// Tracardi-client compatibility and the traps a new user met.
func TestClientIDsReferralsAndRetries(t *testing.T) {
	s := start(t, "")
	s.source("web", map[string]any{"trusted": false})
	s.source("backend", map[string]any{"trusted": true})
	ev := func(typ string, props map[string]any) []any {
		return []any{map[string]any{"type": typ, "properties": props}}
	}

	// A browser source cannot choose a profile id: an unknown one is replaced.
	r := s.track(map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": "chosen-by-client"}, "events": ev("page-view", nil)})
	if r.Profile.ID == "chosen-by-client" {
		t.Fatal("a browser source's client-chosen profile id was adopted")
	}
	// Its known ids are kept.
	if again := s.track(map[string]any{"source": map[string]any{"id": "web"}, "profile": map[string]any{"id": r.Profile.ID}, "events": ev("page-view", nil)}); again.Profile.ID != r.Profile.ID {
		t.Fatalf("known profile id not kept: %v", again.Profile.ID)
	}
	// A trusted (server-side) source keeps its own ids.
	if b := s.track(map[string]any{"source": map[string]any{"id": "backend"}, "profile": map[string]any{"id": "crm-123"}, "events": ev("page-view", nil)}); b.Profile.ID != "crm-123" {
		t.Fatalf("trusted source's id replaced: %v", b.Profile.ID)
	}

	// A visitor arriving through a Tracardi-patched link lands on the referred profile.
	pass := s.track(map[string]any{"source": map[string]any{"id": "web"}, "profile": nil,
		"context": map[string]any{"tracardi": map[string]any{"pass": map[string]any{"profile": r.Profile.ID, "source": "other"}}}, "events": ev("page-view", nil)})
	url := s.track(map[string]any{"source": map[string]any{"id": "web"},
		"context": map[string]any{"page": map[string]any{"url": "https://shop.example.com/?__tr_pid=" + r.Profile.ID + "&__tr_src=x"}}, "events": ev("page-view", nil)})
	unknown := s.track(map[string]any{"source": map[string]any{"id": "web"},
		"context": map[string]any{"tracardi": map[string]any{"pass": map[string]any{"profile": "forged"}}}, "events": ev("page-view", nil)})
	if pass.Profile.ID != r.Profile.ID || url.Profile.ID != r.Profile.ID || unknown.Profile.ID == "forged" {
		t.Fatalf("referrals: pass %v, url %v, unknown %v (want %v)", pass.Profile.ID, url.Profile.ID, unknown.Profile.ID, r.Profile.ID)
	}

	// sign-in keeps properties.pk.
	pk := s.track(map[string]any{"source": map[string]any{"id": "web"}, "events": ev("sign-in", map[string]any{"pk": "user-77"})})
	if got := at(s.get("/api/v1/profiles/"+pk.Profile.ID), "data.identifier.pk"); got != "user-77" {
		t.Errorf("data.identifier.pk = %v", got)
	}

	// A retry with only client event ids, all received: nothing new, the same ids.
	body := map[string]any{"source": map[string]any{"id": "web"}, "events": []any{map[string]any{"id": "ev-retry-1", "type": "page-view"}}}
	first := s.track(body)
	before := at(s.get("/api/v1/profiles/"+first.Profile.ID), "stats")
	retry := s.track(body)
	if retry.Profile.ID != first.Profile.ID || retry.Session.ID != first.Session.ID || len(retry.Warnings) != 1 {
		t.Fatalf("retry answered %+v, first %+v", retry, first)
	}
	if after := at(s.get("/api/v1/profiles/"+first.Profile.ID), "stats"); !equalJSON(before, after) {
		t.Errorf("the retry changed the profile: %v -> %v", before, after)
	}
}

func equalJSON(a, b any) bool {
	am, _ := a.(map[string]any)
	bm, _ := b.(map[string]any)
	if len(am) != len(bm) {
		return false
	}
	for k, v := range am {
		if bm[k] == nil && v != nil {
			return false
		}
		if _, ok := v.(map[string]any); !ok && bm[k] != v {
			return false
		}
	}
	return true
}
