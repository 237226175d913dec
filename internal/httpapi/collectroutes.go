package httpapi

import "net/http"

// collectorRoutes registers the collector routes beyond /track and /collect: the
// browser tracker script. They exist on every process, also with EXPOSE_GUI_API=no.
func (s *Server) collectorRoutes(m recorder) {
	m.HandleFunc("GET /tracker.js", s.trackerScript)
	s.describe("GET /tracker.js", Doc{Summary: "The browser tracker (revalidated on every use: ETag, Cache-Control: no-cache)",
		Tags: []string{"collector"}, Response: "", ResponseType: "text/javascript",
		Description: "Its Link header names the versioned URL, /tracker/<hash>.js. See docs/tracker.md."})
	m.HandleFunc("GET /tracker/{file}", s.trackerVersioned)
	s.describe("GET /tracker/{file}", Doc{Summary: "The browser tracker under its content hash, cached for a year",
		Tags: []string{"collector"}, Response: "", ResponseType: "text/javascript",
		Params: []Param{{Name: "file", In: "path", Description: "<hash>.js, as named by the Link header of /tracker.js"}}})
	m.HandleFunc("GET /redirect/{id}", s.redirect)
	s.describe("GET /redirect/{id}", Doc{Summary: "Follow a tracked link: records a click, then 302 to the link's configured target",
		Tags: []string{"collector"}, Status: http.StatusFound,
		Params: []Param{{Name: "id", In: "path", Description: "id of a tracked link (/api/v1/links)"}},
		Query:  []Param{{Name: "profile_id", Description: "the visitor's profile (else the cookie of an earlier click, else a new profile)"}, {Name: "session_id"}}})
	if s.segment != nil {
		s.segmentV1Routes(m)
	}
}
