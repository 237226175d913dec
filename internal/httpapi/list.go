package httpapi

import "net/http"

// writeList answers 200 with a list route's {"total", "items"} (openapi.go, listOf):
// total counts every match, items holds this page; no items is [], never null.
func writeList[T any, N int | int64](w http.ResponseWriter, total N, items []T) {
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "items": items})
}
