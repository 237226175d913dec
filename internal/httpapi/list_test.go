package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

func TestWriteList(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(*httptest.ResponseRecorder)
		want string
	}{
		{"no items is an empty list", func(w *httptest.ResponseRecorder) { writeList[string](w, int64(0), nil) }, `{"items":[],"total":0}`},
		{"a page of a larger total", func(w *httptest.ResponseRecorder) { writeList(w, int64(7), []string{"a", "b"}) }, `{"items":["a","b"],"total":7}`},
		{"an int total", func(w *httptest.ResponseRecorder) { writeList(w, 1, []int{3}) }, `{"items":[3],"total":1}`},
		{"search, exact", func(w *httptest.ResponseRecorder) {
			writeSearchList(w, storage.Query{TotalLimit: 2}, 2, []string{"a"})
		}, `{"items":["a"],"total":2,"total_relation":"eq"}`},
		{"search, counting stopped", func(w *httptest.ResponseRecorder) {
			writeSearchList[string](w, storage.Query{TotalLimit: 2}, 3, nil)
		}, `{"items":[],"total":2,"total_relation":"gte"}`},
		{"search, exact count asked", func(w *httptest.ResponseRecorder) {
			writeSearchList(w, storage.Query{}, 12345, []string{"a"})
		}, `{"items":["a"],"total":12345,"total_relation":"eq"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tc.do(w)
			if w.Code != 200 || strings.TrimSpace(w.Body.String()) != tc.want {
				t.Fatalf("got %d %s; want 200 %s", w.Code, w.Body, tc.want)
			}
		})
	}
}
