package httpapi

import (
	"net/http"
	"slices"
	"strings"
)

// apiMethods are the methods a GUI API route may have.
var apiMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// methodNotAllowedRoutes answers a wrong method on a known GUI API path with 405, Allow
// and the JSON error shape. Without it the catch-all 404, or a wildcard route of the
// other method, would take the request (GET /api/v1/profiles/search would read as the
// profile "search"). For every path it registers the methods the path lacks; a literal
// path is more specific than a wildcard one, so these never shadow a real route.
// Call it after every GUI API route is registered.
func (s *Server) methodNotAllowedRoutes() {
	allowed := map[string][]string{}
	var paths []string
	patterns := []string{"GET /api/v1/install", "POST /api/v1/install", "POST /api/v1/auth/token"}
	for _, rt := range s.apiRoutes {
		patterns = append(patterns, rt.Pattern)
	}
	for _, pattern := range patterns {
		method, p, _ := strings.Cut(pattern, " ")
		if _, ok := allowed[p]; !ok {
			paths = append(paths, p)
		}
		allowed[p] = append(allowed[p], method)
	}
	for _, p := range paths {
		methods := allowed[p]
		if slices.Contains(methods, http.MethodGet) {
			methods = append(methods, http.MethodHead)
		}
		allow := strings.Join(methods, ", ")
		var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			apiHeaders(w)
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, "", r.Method+" is not allowed here; use "+allow)
		})
		if p != "/api/v1/install" && p != "/api/v1/auth/token" {
			// Probing without a token learns nothing about which routes exist.
			h = s.authed(permAny, h.ServeHTTP)
		}
		for _, m := range apiMethods {
			if !slices.Contains(methods, m) {
				s.mux.Handle(m+" "+p, h)
			}
		}
	}
}
