package httpapi

import (
	"bytes"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/web"
)

// guiRoutes serves the GUI (web/dist, embedded) under /gui/ and sends / there. They
// exist only with the GUI API; secure (security.go) has already refused untrusted
// networks and set the GUI's Content-Security-Policy and security headers.
func (s *Server) guiRoutes() {
	files := s.deps.GUI
	if files == nil {
		files = web.Dist()
	}
	h := guiHandler(files)
	s.mux.Handle("GET /gui/", h)
	s.mux.Handle("GET /gui", http.RedirectHandler("/gui/", http.StatusMovedPermanently))
	s.mux.Handle("GET /{$}", http.RedirectHandler("/gui/", http.StatusFound))
}

// guiHandler serves the single-page app: a file that exists is served as is (hashed
// assets cached for a year, as their name changes with their content); any other path
// without a file extension is a route of the app and gets index.html (history-API
// routing, so deep links work on reload), which is never cached so that a new build
// is picked up at once. A missing asset is a 404, not index.html.
func guiHandler(files fs.FS) http.Handler {
	index, err := fs.ReadFile(files, "index.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/gui")
		name = strings.TrimPrefix(name, "/")
		if name != "" && name != "index.html" {
			if b, err := fs.ReadFile(files, name); err == nil {
				if strings.HasPrefix(name, "assets/") {
					w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				} else {
					w.Header().Set("Cache-Control", "no-cache")
				}
				http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
				return
			}
			if path.Ext(name) != "" {
				writeError(w, http.StatusNotFound, "", "no such file")
				return
			}
		}
		if err != nil {
			writeError(w, http.StatusNotFound, "", "the GUI is not built into this binary (make gui)")
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(index))
	})
}
