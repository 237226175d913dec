package httpapi

import (
	"net/http"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// writeList answers 200 with a list route's {"total", "items"} (openapi.go, listOf):
// total counts every match, items holds this page; no items is [], never null.
func writeList[T any, N int | int64](w http.ResponseWriter, total N, items []T) {
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "items": items})
}

// writeSearchList answers a search's {"total", "total_relation", "items"} (openapi.go,
// searchListOf) for a query counted with storage.Query.TotalLimit: a total above the
// limit stands for "more than the limit" and is answered as the limit with the
// relation "gte" (at least), as Elasticsearch answers hits.total; otherwise "eq".
func writeSearchList[T any](w http.ResponseWriter, q storage.Query, total int64, items []T) {
	if items == nil {
		items = []T{}
	}
	relation := "eq"
	if q.TotalLimit > 0 && total > int64(q.TotalLimit) {
		total, relation = int64(q.TotalLimit), "gte"
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "total_relation": relation, "items": items})
}
