package httpapi

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

func TestDecodeSearch(t *testing.T) {
	for _, tc := range []struct {
		body  string
		check func(q storage.Query) bool
		err   string // the field at fault
	}{
		{`{}`, func(q storage.Query) bool {
			return q.Where == nil && q.Page.Limit == 50 && q.Sort == nil && q.TotalLimit == maxSearchWindow
		}, ""},
		{`{"exact_total":true,"limit":0}`, func(q storage.Query) bool { return q.TotalLimit == 0 && q.Page.Limit == 0 }, ""},
		{`{"where":"  "}`, func(q storage.Query) bool { return q.Where == nil }, ""},
		{`{"where":"stats.visits > 1","limit":0,"offset":10}`, func(q storage.Query) bool {
			return query.String(q.Where) == "profile@stats.visits > 1" && q.Page.Limit == 0 && q.Page.Offset == 10
		}, ""},
		{`{"sort":[{"field":"profile@stats.views","order":"DESC"},{"field":"id"}]}`, func(q storage.Query) bool {
			return len(q.Sort) == 2 && q.Sort[0] == storage.Sort{Field: "stats.views", Desc: true} && q.Sort[1] == storage.Sort{Field: "id"}
		}, ""},
		{`{"where":"stats.visits >"}`, nil, "where"},
		{`{"where":"session@id == \"x\""}`, nil, "where"},
		{`{"limit":-1}`, nil, "limit"},
		{`{"limit":1001}`, nil, "limit"},
		{`{"offset":-1}`, nil, "offset"},
		{`{"offset":9951}`, nil, "offset"},
		{`{"sort":[{"field":"a'b"}]}`, nil, "sort[0].field"},
		{`{"sort":[{"field":"event@type"}]}`, nil, "sort[0].field"},
		{`{"sort":[{"field":"id","order":"random"}]}`, nil, "sort[0].order"},
		{`{"sort":[{},{},{},{},{},{}]}`, nil, "sort"},
	} {
		r := httptest.NewRequest("POST", "/api/v1/profiles/search", strings.NewReader(tc.body))
		q, err := decodeSearch(httptest.NewRecorder(), r, "profile")
		switch {
		case tc.err == "" && (err != nil || !tc.check(q)):
			t.Errorf("%s: %+v %v", tc.body, q, err)
		case tc.err != "" && (!errors.Is(err, storage.ErrInvalid) || fieldOf(err) != tc.err):
			t.Errorf("%s: err = %v, want field %s", tc.body, err, tc.err)
		}
	}
}

func TestValidateEventType(t *testing.T) {
	withPath := func(id string) context.Context { return context.WithValue(context.Background(), pathIDKey{}, id) }
	for _, tc := range []struct {
		ctx   context.Context
		et    domain.EventType
		field string
	}{
		{withPath("purchase"), domain.EventType{}, ""},
		{context.Background(), domain.EventType{Meta: domain.Meta{ID: "purchase"}}, ""},
		{context.Background(), domain.EventType{}, "id"},
		{withPath("purchase"), domain.EventType{Meta: domain.Meta{ID: "refund"}}, "id"},
		{withPath("Page View"), domain.EventType{}, "id"},
		{withPath("purchase"), domain.EventType{Schema: []byte(`[1]`)}, "schema"},
		{withPath("purchase"), domain.EventType{Schema: []byte(`true`)}, ""},
		{withPath("purchase"), domain.EventType{ProfileMapping: []domain.ProfileMapping{{To: "profile@traits.x", Op: "nope"}}}, "profile_mapping[0].op"},
	} {
		et := tc.et
		err := validateEventType(tc.ctx, &et)
		switch {
		case tc.field == "" && (err != nil || et.ID == "" || et.ProfileMapping == nil):
			t.Errorf("%+v: %v", tc.et, err)
		case tc.field != "" && (!errors.Is(err, storage.ErrInvalid) || fieldOf(err) != tc.field):
			t.Errorf("%+v: err = %v, want field %s", tc.et, err, tc.field)
		}
	}
}
