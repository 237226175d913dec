package httpapi

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"

	"github.com/thamesthrive/thamesthrive/tracker"
)

// trackerFile is the browser tracker with its gzip form made once.
type trackerFile struct {
	raw, gz []byte
	etag    string
	path    string // the versioned, immutable URL
}

func newTrackerFile() *trackerFile {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(tracker.Script())
	zw.Close()
	return &trackerFile{raw: tracker.Script(), gz: b.Bytes(), etag: `"` + tracker.Hash() + `"`, path: "/tracker/" + tracker.Hash() + ".js"}
}

// trackerScript serves GET /tracker.js: revalidated on every use (no-cache + ETag, so
// a new release reaches every site at once and an unchanged one costs a 304).
func (s *Server) trackerScript(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Link", "<"+s.tracker.path+`>; rel="canonical"`)
	s.tracker.serve(w, r)
}

// trackerVersioned serves GET /tracker/{file}: the script under its content hash,
// cached for a year. Any other name is a 404, so an old hash never serves new code.
func (s *Server) trackerVersioned(w http.ResponseWriter, r *http.Request) {
	if "/tracker/"+r.PathValue("file") != s.tracker.path {
		writeError(w, http.StatusNotFound, "", "no such tracker version; the current one is "+s.tracker.path)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	s.tracker.serve(w, r)
}

func (f *trackerFile) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("ETag", f.etag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("Access-Control-Allow-Origin", "*") // lets pages load it with integrity= and crossorigin
	h.Set("X-Content-Type-Options", "nosniff")
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.raw
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Write(body)
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
