package e2e

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/thamesthrive/thamesthrive/tracker"
)

// The tracker is served by collector processes too: an un-versioned URL that
// revalidates, and a versioned one cached for good.
func TestTrackerScriptIsServedAndCached(t *testing.T) {
	s := start(t, "", "EXPOSE_GUI_API=no")
	r := s.do("GET", "/tracker.js", nil, "Accept-Encoding", "identity")
	if r.Status != http.StatusOK || !bytes.Equal(r.Body, tracker.Script()) {
		t.Fatalf("GET /tracker.js: %d, %d bytes", r.Status, len(r.Body))
	}
	etag := r.Header.Get("ETag")
	for h, want := range map[string]string{"Cache-Control": "no-cache", "Content-Type": "text/javascript; charset=utf-8",
		"Link": "</tracker/" + tracker.Hash() + `.js>; rel="canonical"`} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if r := s.do("GET", "/tracker.js", nil, "If-None-Match", etag); r.Status != http.StatusNotModified || len(r.Body) != 0 {
		t.Errorf("revalidation: %d %q", r.Status, r.Body)
	}
	v := s.do("GET", "/tracker/"+tracker.Hash()+".js", nil, "Accept-Encoding", "identity")
	if v.Status != http.StatusOK || !bytes.Equal(v.Body, tracker.Script()) || !strings.Contains(v.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("versioned: %d %q", v.Status, v.Header.Get("Cache-Control"))
	}
	// Go's client asks for gzip and decodes it transparently; a hand-set header does not.
	gz := s.do("GET", "/tracker.js", nil, "Accept-Encoding", "gzip")
	if gz.Header.Get("Content-Encoding") != "gzip" || len(gz.Body) >= len(tracker.Script()) {
		t.Errorf("gzip: encoding %q, %d bytes", gz.Header.Get("Content-Encoding"), len(gz.Body))
	}
	if r := s.do("GET", "/tracker/0123456789abcdef.js", nil); r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), `"status":404`) {
		t.Errorf("unknown version: %d %s", r.Status, r.Body)
	}
}
