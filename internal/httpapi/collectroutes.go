package httpapi

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
	if s.segment != nil {
		s.segmentV1Routes(m)
	}
}
