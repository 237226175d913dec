package esdsl_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/query/esdsl"
)

var now = time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)

// kinds is what KindsFromMapping reads for a profile index.
var kinds = esdsl.Kinds{
	"stats": esdsl.Object, "stats.visits": esdsl.Numeric,
	"traits": esdsl.Object, "traits.vip": esdsl.Boolean, "traits.tier": esdsl.Keyword,
	"traits.tier.tt_date": esdsl.Date, "segments": esdsl.Keyword,
	"metadata.time.insert": esdsl.Keyword, "metadata.time.insert.tt_date": esdsl.Date,
	"created": esdsl.Date, "items": esdsl.Object, "items.sku": esdsl.Keyword,
	"codes": esdsl.Object, "codes.2024": esdsl.Keyword,
}

func TestQuery(t *testing.T) {
	tests := []struct {
		cond string
		want string
	}{
		{`profile@stats.visits > 10`, `{"range":{"stats.visits":{"gt":10}}}`},
		{`profile@stats.visits == 10`, `{"term":{"stats.visits":{"value":10}}}`},
		{`profile@stats.visits == "10"`, `{"match_none":{}}`},
		{`profile@traits.tier != "gold"`,
			`{"bool":{"filter":[{"exists":{"field":"traits.tier"}},{"bool":{"must_not":[{"term":{"traits.tier":{"value":"gold"}}}]}}]}}`},
		{`profile@traits.tier != 1`, `{"match_none":{}}`},
		{`profile@traits.vip == true AND profile@stats.visits >= 2 AND profile@segments EXISTS`,
			`{"bool":{"filter":[{"term":{"traits.vip":{"value":true}}},{"range":{"stats.visits":{"gte":2}}},{"exists":{"field":"segments"}}]}}`},
		{`profile@traits.vip == true OR NOT profile@segments EXISTS`,
			`{"bool":{"minimum_should_match":1,"should":[{"term":{"traits.vip":{"value":true}}},{"bool":{"must_not":[{"exists":{"field":"segments"}}]}}]}}`},
		{`profile@segments CONTAINS "vip"`, `{"wildcard":{"segments":{"value":"*vip*"}}}`},
		{`profile@segments CONTAINS "a*b?c\\"`, `{"wildcard":{"segments":{"value":"*a\\*b\\?c\\\\*"}}}`},
		{`profile@segments STARTS WITH "ret"`, `{"prefix":{"segments":{"value":"ret"}}}`},
		{`profile@segments ENDS WITH "ing"`, `{"wildcard":{"segments":{"value":"*ing"}}}`},
		{`profile@segments == ["a", "b", 3]`,
			`{"bool":{"minimum_should_match":1,"should":[{"term":{"segments":{"value":"a"}}},{"term":{"segments":{"value":"b"}}}]}}`},
		{`profile@segments CONTAINS ["a", "b"]`,
			`{"bool":{"filter":[{"wildcard":{"segments":{"value":"*a*"}}},{"wildcard":{"segments":{"value":"*b*"}}}]}}`},
		{`profile@traits.tier EMPTY`,
			`{"bool":{"minimum_should_match":1,"should":[{"bool":{"must_not":[{"exists":{"field":"traits.tier"}}]}},{"term":{"traits.tier":{"value":""}}}]}}`},
		{`profile@stats.visits NOT EMPTY`,
			`{"bool":{"must_not":[{"bool":{"must_not":[{"exists":{"field":"stats.visits"}}]}}]}}`},
		{`profile@traits.tier IS NULL`, `{"bool":{"must_not":[{"exists":{"field":"traits.tier"}}]}}`},
		{`profile@traits.tier == null`, `{"bool":{"must_not":[{"exists":{"field":"traits.tier"}}]}}`},
		{`profile@stats.visits BETWEEN 1 AND 5`, `{"range":{"stats.visits":{"gte":1,"lte":5}}}`},
		{`profile@metadata.time.insert > now.offset("-30d")`,
			`{"range":{"metadata.time.insert.tt_date":{"format":"strict_date_optional_time","gt":"2024-05-16T12:00:00.000Z"}}}`},
		{`profile@metadata.time.insert == datetime("2024-01-01T10:00:00.123456Z")`,
			`{"term":{"metadata.time.insert.tt_date":{"value":"2024-01-01T10:00:00.123Z"}}}`},
		{`profile@created BETWEEN datetime("2024-01-01") AND now()`,
			`{"range":{"created":{"format":"strict_date_optional_time","gte":"2024-01-01T00:00:00.000Z","lte":"2024-06-15T12:00:00.000Z"}}}`},
		{`profile@stats.visits < now()`, `{"match_none":{}}`},
		{`lower(profile@traits.tier) == "gold"`, `{"term":{"traits.tier":{"case_insensitive":true,"value":"gold"}}}`},
		{`lower(profile@traits.tier) == "Gold"`, `{"match_none":{}}`},
		{`upper(profile@traits.tier) STARTS WITH "GO"`, `{"prefix":{"traits.tier":{"case_insensitive":true,"value":"GO"}}}`},
		{`lower(profile@traits.tier) CONTAINS "é.x"`, `{"regexp":{"traits.tier":{"flags":"NONE","value":".*é\\.[xX].*"}}}`},
		{`profile@nothing == 1`, `{"match_none":{}}`},
		{`profile@nothing EXISTS`, `{"exists":{"field":"nothing"}}`},
		{`profile@codes.2024 == "x"`, `{"term":{"codes.2024":{"value":"x"}}}`},
		{`profile@missing.0 == "x"`, `{"match_none":{}}`},
	}
	for _, tc := range tests {
		t.Run(tc.cond, func(t *testing.T) {
			q, err := esdsl.Query(query.MustParse(tc.cond), esdsl.Options{Prefix: map[string]string{"profile": ""}, Kinds: kinds, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(q)
			if string(got) != tc.want {
				t.Errorf("\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func TestPrefixAndUnknownKinds(t *testing.T) {
	q, err := esdsl.Query(query.MustParse(`event@properties.price > 10 AND event@type == "x" AND event@time < now()`),
		esdsl.Options{Prefix: map[string]string{"event": "ev."}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(q)
	want := `{"bool":{"filter":[{"range":{"ev.properties.price":{"gt":10}}},{"term":{"ev.type":{"value":"x"}}},{"range":{"ev.time.tt_date":{"format":"strict_date_optional_time","lt":"2024-06-15T12:00:00.000Z"}}}]}}`
	if string(got) != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
}

func TestErrors(t *testing.T) {
	opts := esdsl.Options{Prefix: map[string]string{"profile": ""}, Kinds: kinds, Now: now}
	tests := []struct {
		cond        string
		want        string
		unsupported bool
	}{
		{`profile@stats.visits > profile@stats.views`, "line 1, col 1: comparing two fields is not supported in search", true},
		{`lower(profile@traits.tier) > "a"`, "line 1, col 1: ordering lower(…) is not supported in search", true},
		{`profile@segments.0 == "a"`, "line 1, col 1: array position 0 in profile@segments.0 is not supported in search", true},
		{`profile@items.1.sku == "a"`, "line 1, col 1: array position 1 in profile@items.1.sku is not supported in search", true},
		{`profile@a == 1 OR session@b == 1`, "line 1, col 19: scope session cannot be used here (available: profile)", false},
	}
	for _, tc := range tests {
		_, err := esdsl.Query(query.MustParse(tc.cond), opts)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: err = %v, want %s", tc.cond, err, tc.want)
		}
		var qe *query.Error
		if !errors.As(err, &qe) {
			t.Errorf("%s: %T is not a *query.Error", tc.cond, err)
		}
		if errors.Is(err, query.ErrUnsupported) != tc.unsupported {
			t.Errorf("%s: errors.Is(ErrUnsupported) = %v", tc.cond, !tc.unsupported)
		}
	}
	if _, err := esdsl.Query(nil, opts); err == nil {
		t.Error("nil expression accepted")
	}
	// Without kinds an index segment cannot be told from a key.
	if _, err := esdsl.Query(query.MustParse(`profile@codes.2024 == "x"`), esdsl.Options{Prefix: map[string]string{"profile": ""}}); !errors.Is(err, query.ErrUnsupported) {
		t.Errorf("index segment without kinds: %v", err)
	}
}

func TestKindsFromMapping(t *testing.T) {
	raw := `{"tt-x":{"mappings":{"dynamic_templates":[],"properties":{
		"id":{"type":"keyword","ignore_above":1024,"fields":{"tt_date":{"type":"date","ignore_malformed":true}}},
		"stats":{"properties":{"visits":{"type":"double"}}},
		"active":{"type":"boolean"},
		"insert":{"type":"date"},
		"geo":{"type":"geo_point"},
		"empty":{"type":"object"}}}}}`
	want := esdsl.Kinds{"id": esdsl.Keyword, "id.tt_date": esdsl.Date, "stats": esdsl.Object, "stats.visits": esdsl.Numeric,
		"active": esdsl.Boolean, "insert": esdsl.Date, "geo": esdsl.OtherKind, "empty": esdsl.Object}
	for _, in := range []string{raw, `{"mappings":{"properties":{"id":{"type":"keyword"}}}}`, `{"properties":{"id":{"type":"keyword"}}}`} {
		got, err := esdsl.KindsFromMapping([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if in != raw {
			if got["id"] != esdsl.Keyword || len(got) != 1 {
				t.Errorf("%s: %v", in, got)
			}
			continue
		}
		if len(got) != len(want) {
			t.Errorf("got %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %v, want %v", k, got[k], v)
			}
		}
	}
	if _, err := esdsl.KindsFromMapping([]byte(`[`)); err == nil {
		t.Error("bad JSON accepted")
	}
}

func TestMapping(t *testing.T) {
	raw, err := json.Marshal(esdsl.Mapping())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"date_detection":false,"dynamic_templates":[{"strings":{"mapping":{"fields":{"tt_date":{"format":"strict_date_time||strict_date_time_no_millis||strict_date","ignore_malformed":true,"type":"date"}},"ignore_above":1024,"type":"keyword"},"match_mapping_type":"string"}},{"integers":{"mapping":{"type":"double"},"match_mapping_type":"long"}},{"numbers":{"mapping":{"type":"double"},"match_mapping_type":"double"}}],"numeric_detection":false}`
	if string(raw) != want {
		t.Errorf("\n got: %s\nwant: %s", raw, want)
	}
}
