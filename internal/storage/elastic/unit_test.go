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

// TestActionLineMatchesEncodingJSON checks the hand-written _bulk action lines against
// what encoding/json makes of the same action.
func TestActionLineMatchesEncodingJSON(t *testing.T) {
	type meta struct {
		Index         string `json:"_index"`
		ID            string `json:"_id"`
		IfSeqNo       *int64 `json:"if_seq_no,omitempty"`
		IfPrimaryTerm *int64 `json:"if_primary_term,omitempty"`
		Retry         int    `json:"retry_on_conflict,omitempty"`
	}
	ids := []string{"01a24f2b-5b38-7103-b203-5ec61e57d8ba", "", `a"b\c`, "é<tag>&", "line\nbreak\x01", "session-end:x:0", "\u2028", "bad\xffutf8"}
	for _, op := range []string{"index", "create", "update", "delete"} {
		for _, id := range ids {
			for _, f := range []*fence{nil, {seq: 0, term: 1}, {seq: 123456789012, term: 7}} {
				for _, retry := range []int{0, 3} {
					m := meta{Index: "tt-events-v1-2026.12", ID: id, Retry: retry}
					if f != nil {
						m.IfSeqNo, m.IfPrimaryTerm = &f.seq, &f.term
					}
					want, err := json.Marshal(map[string]meta{op: m})
					if err != nil {
						t.Fatal(err)
					}
					want = append(want, '\n')
					if got := appendAction(nil, op, m.Index, id, f, retry); string(got) != string(want) {
						t.Errorf("op %s id %q fence %v retry %d:\n got %s\nwant %s", op, id, f, retry, got, want)
					}
				}
			}
		}
	}
}
