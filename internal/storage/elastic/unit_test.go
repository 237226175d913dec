package elastic

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// These tests need no cluster.

func TestWrapRawRoundTrip(t *testing.T) {
	ev := &domain.Event{ID: "e1", Type: "t", Profile: domain.Ref{ID: "p"}, Properties: map[string]any{"x": map[string]any{"y": 1.0}}}
	src, _ := json.Marshal(ev)
	it := &item{kind: kindEvents, id: "e1", source: src, obj: ev}
	if err := wrapRaw(it); err != nil || !it.wrap {
		t.Fatal(err)
	}
	var core map[string]any
	json.Unmarshal(it.source, &core)
	if core["type"] != "t" || core["profile"].(map[string]any)["id"] != "p" || core["properties"] != nil {
		t.Fatalf("wrapped document indexes %v", core)
	}
	if got := unwrap(it.source); string(got) != string(src) {
		t.Fatalf("unwrap = %s, want %s", got, src)
	}
	// A document that merely mentions the field is left alone.
	plain := []byte(`{"traits":{"tt_raw":"x"}}`)
	if got := unwrap(plain); string(got) != string(plain) {
		t.Fatalf("unwrap changed %s", got)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, p := range []string{"UPPER", "a/b", "a*", "", "-x"} {
		c := Config{Hosts: []string{"h"}, IndexPrefix: p}
		err := c.defaults()
		if p == "" {
			if err != nil || c.IndexPrefix != "thamesthrive" {
				t.Errorf("empty prefix: %v %q", err, c.IndexPrefix)
			}
			continue
		}
		if err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
	c := Config{Hosts: []string{"h"}, KeyPaths: []string{"data'x"}}
	if err := c.defaults(); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("bad key path: %v", err)
	}
}

func TestSortAndWindow(t *testing.T) {
	if _, err := sortFor([]storage.Sort{{Field: "a..b"}}); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("bad sort field: %v", err)
	}
	s, _ := sortFor([]storage.Sort{{Field: "id", Desc: true}})
	if len(s) != 2 { // id desc, then metadata.time.insert desc; id is not repeated
		t.Errorf("sort = %v", s)
	}
	if from, size, ok := window(storage.Page{Offset: 9990, Limit: 50}); !ok || from != 9990 || size != 10 {
		t.Errorf("window = %d %d %v", from, size, ok)
	}
	if _, _, ok := window(storage.Page{Offset: 10000, Limit: 1}); ok {
		t.Error("window past max_result_window")
	}
}

func TestMappingFollowsEsdsl(t *testing.T) {
	m := mapping(kindProfiles)
	if m["date_detection"] != false || m["dynamic_templates"] == nil {
		t.Fatalf("profiles mapping lacks esdsl's rules: %v", m)
	}
	if mapping(kindEntities)["dynamic"] != "strict" {
		t.Fatal("entities mapping is not strict")
	}
	if keyDocID("a", "b") == keyDocID("a\x00b", "") || len(keyDocID("p", string(make([]byte, 5000)))) != 64 {
		t.Fatal("key ids collide or grow")
	}
}
