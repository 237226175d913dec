package httpapi

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/segmentio"
)

// segmentKinds maps the /v1 route names, long and short, to the message type they
// imply ("" for batches).
var segmentKinds = map[string]string{
	"track": segmentio.Track, "t": segmentio.Track,
	"identify": segmentio.Identify, "i": segmentio.Identify,
	"page": segmentio.Page, "p": segmentio.Page,
	"screen": segmentio.Screen, "s": segmentio.Screen,
	"group": segmentio.Group, "g": segmentio.Group,
	"alias": segmentio.Alias, "a": segmentio.Alias,
	"batch": "", "b": "", "import": "",
}

func (s *Server) segmentV1Routes(m recorder) {
	m.HandleFunc("POST /v1/{kind}", s.segmentMessage)
	s.describe("POST /v1/{kind}", Doc{Summary: "Segment-compatible ingestion (track, identify, page, screen, group, alias, batch, and t, i, p, s, g, a, b)",
		Tags: []string{"collector"}, Request: anyJSON{}, Response: segmentAnswer{},
		Params: []Param{{Name: "kind", In: "path", Description: "track, identify, page, screen, group, alias, batch, import, or the short t, i, p, s, g, a, b"}},
		Description: "The write key of an event source is the Basic-auth username or writeKey in the body. " +
			"JSON or text/plain, optionally gzip; 32 KB per message, 500 KB per batch. See docs/segment.md."})
	m.HandleFunc("OPTIONS /v1/{kind}", s.preflight)
	s.describe("OPTIONS /v1/{kind}", Doc{Summary: "CORS preflight for the /v1 routes", Tags: []string{"collector"},
		Params: []Param{{Name: "kind", In: "path"}}})
	m.HandleFunc("GET /v1/projects/{writeKey}/settings", s.segmentSettings)
	s.describe("GET /v1/projects/{writeKey}/settings", Doc{Summary: "The settings analytics.js (@segment/analytics-next) loads at start, pointing it back at this server",
		Tags: []string{"collector"}, Response: anyJSON{}, Params: []Param{{Name: "writeKey", In: "path", Description: "an event source's write key"}}})
}

type segmentAnswer struct {
	Success bool `json:"success"`
}

func (s *Server) segmentMessage(w http.ResponseWriter, r *http.Request) {
	kind, ok := segmentKinds[r.PathValue("kind")]
	if !ok {
		writeError(w, http.StatusNotFound, "", "no such route: the /v1 routes are track, identify, page, screen, group, alias, batch and t, i, p, s, g, a, b")
		return
	}
	if s.rateLimited(w, r) {
		return
	}
	if err := checkJSONContentType(r, true); err != nil {
		s.fail(w, r, err)
		return
	}
	limit := int64(segmentio.MaxMessageBytes)
	if kind == "" {
		limit = segmentio.MaxBatchBytes
	}
	body, err := readEncodedBody(w, r, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := segmentio.Decode(body, kind)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	key := b.WriteKey
	if u, _, ok := r.BasicAuth(); ok && u != "" {
		key = u
	}
	meta := requestMeta(r)
	src, err := s.segment.Source(r.Context(), key, meta.Origin)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cors(w, meta.Origin)
	if err := s.segment.Handle(r.Context(), src, b, meta); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, segmentAnswer{Success: true})
}

// segmentSettings answers what analytics.js fetches from its CDN before it sends
// anything: one integration, "Segment.io", whose apiHost is this server's /v1.
func (s *Server) segmentSettings(w http.ResponseWriter, r *http.Request) {
	if s.rateLimited(w, r) {
		return
	}
	key := r.PathValue("writeKey")
	if _, err := s.segment.Source(r.Context(), key, ""); err != nil {
		s.fail(w, r, err)
		return
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"integrations": map[string]any{"Segment.io": map[string]any{
			"apiKey": key, "apiHost": r.Host + "/v1", "protocol": proto,
			"unbundledIntegrations": []string{}, "addBundledMetadata": true, "maybeBundledConfigIds": map[string]any{},
		}},
		"plan":                      map[string]any{"track": map[string]any{"__default": map[string]any{"enabled": true, "integrations": map[string]any{}}}, "identify": map[string]any{"__default": map[string]any{"enabled": true}}, "group": map[string]any{"__default": map[string]any{"enabled": true}}},
		"edgeFunction":              map[string]any{},
		"analyticsNextEnabled":      true,
		"middlewareSettings":        map[string]any{},
		"enabledMiddleware":         map[string]any{},
		"metrics":                   map[string]any{"sampleRate": 0},
		"legacyVideoPluginsEnabled": false,
		"remotePlugins":             []any{},
	})
}

// checkJSONContentType accepts JSON bodies, bodies without a Content-Type, and, when
// lenient (the /v1 routes): text/plain (browsers send it to avoid a CORS preflight) and
// application/x-www-form-urlencoded (RudderStack's Node SDK labels its gzip JSON so;
// the body must still be JSON). Anything else is a 415.
func checkJSONContentType(r *http.Request, lenient bool) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json") || (lenient && (mt == "text/plain" || mt == "application/x-www-form-urlencoded"))) {
		return nil
	}
	return &pipeline.Error{Kind: pipeline.Unsupported, Field: "Content-Type",
		Message: fmt.Sprintf("%q is not accepted; send application/json or text/plain", ct)}
}

// readEncodedBody reads a body of at most limit bytes once decoded: identity or gzip
// Content-Encoding (the compressed size is bounded too); any other encoding is a 415.
func readEncodedBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	tooLarge := &pipeline.Error{Kind: pipeline.TooLarge, Field: "body", Message: fmt.Sprintf("is larger than the limit of %d bytes", limit)}
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity":
		buf, err := readBody(w, r, limit)
		if err != nil {
			return nil, err
		}
		out := append([]byte(nil), buf.Bytes()...)
		bufPool.Put(buf)
		return out, nil
	case "gzip", "x-gzip":
	default:
		return nil, &pipeline.Error{Kind: pipeline.Unsupported, Field: "Content-Encoding",
			Message: fmt.Sprintf("%q is not accepted; send gzip or no encoding", enc)}
	}
	zr, err := gzip.NewReader(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, gzipError(err, tooLarge)
	}
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, gzipError(err, tooLarge)
	}
	if int64(len(out)) > limit {
		return nil, tooLarge
	}
	return out, nil
}

func gzipError(err error, tooLarge error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge
	}
	return &pipeline.Error{Kind: pipeline.Invalid, Field: "body", Message: "is not valid gzip: " + err.Error()}
}
