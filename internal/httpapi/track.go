package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads at most limit bytes of the body into a pooled buffer; the caller
// returns it with bufPool.Put after use.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) (*bytes.Buffer, error) {
	if r.ContentLength > limit {
		return nil, &pipeline.Error{Kind: pipeline.TooLarge, Field: "body", Message: fmt.Sprintf("is larger than the limit of %d bytes", limit)}
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		bufPool.Put(buf)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &pipeline.Error{Kind: pipeline.TooLarge, Field: "body", Message: fmt.Sprintf("is larger than the limit of %d bytes", limit)}
		}
		return nil, &pipeline.Error{Kind: pipeline.Invalid, Field: "body", Message: "could not be read"}
	}
	return buf, nil
}

func clientIP(r *http.Request) string {
	if a, ok := clientFromContext(r.Context()); ok {
		return a.String() // resolved through trusted proxies (security.go)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func requestMeta(r *http.Request) collector.RequestMeta {
	return collector.RequestMeta{IP: clientIP(r), UserAgent: r.UserAgent(), AcceptLanguage: r.Header.Get("Accept-Language"), Origin: r.Header.Get("Origin")}
}

// cors lets browsers on an allowed origin read the answer. The origin was already
// checked against the source by the collector.
func cors(w http.ResponseWriter, origin string) {
	if origin == "" {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
}

// preflight answers CORS preflight requests. The source (and so its allowed origins)
// is only known from the body of the real request, which is checked there.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	cors(w, r.Header.Get("Origin"))
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", s.allowedHeaders(r))
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) track(w http.ResponseWriter, r *http.Request) {
	if s.rateLimited(w, r) {
		return
	}
	c := s.deps.Collector
	var req *collector.TrackRequest
	if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		// gzip (bounded after decompression) or 415; the plain body keeps the pooled path.
		body, err := readEncodedBody(w, r, s.opt.MaxBodyBytes)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		req, err = collector.DecodeTrack(body, c.Limits())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.runTrack(w, r, collector.RouteTrack, req)
		return
	}
	buf, err := readBody(w, r, s.opt.MaxBodyBytes)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req, err = collector.DecodeTrack(buf.Bytes(), c.Limits())
	bufPool.Put(buf)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.runTrack(w, r, collector.RouteTrack, req)
}

func (s *Server) runTrack(w http.ResponseWriter, r *http.Request, route collector.Route, req *collector.TrackRequest) {
	meta := requestMeta(r)
	c := s.deps.Collector
	src, err := c.CheckSource(r.Context(), req.Source.ID, route, meta.Origin)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cors(w, meta.Origin)
	resp, err := c.Track(r.Context(), src, req, meta)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// collect is the webhook bridge: the JSON or form body, or else the query string,
// becomes the properties of one event of the type named in the path. The query
// parameters profile_id and session_id (when given) attach it to a known visitor.
func (s *Server) collect(w http.ResponseWriter, r *http.Request) {
	if s.rateLimited(w, r) {
		return
	}
	q := r.URL.Query()
	ev := collector.TrackEvent{Type: r.PathValue("event_type")}
	req := &collector.TrackRequest{Source: collector.IDRef{ID: r.PathValue("source_id")}}
	if id := q.Get("profile_id"); id != "" {
		req.Profile = &collector.IDRef{ID: id}
	}
	if id := q.Get("session_id"); id != "" {
		req.Session = &collector.IDRef{ID: id}
	}
	q.Del("profile_id")
	q.Del("session_id")
	props, err := s.collectProperties(w, r, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ev.Properties = props
	req.Events = []collector.TrackEvent{ev}
	if err := collector.ValidateRequest(req, s.deps.Collector.Limits()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.runTrack(w, r, collector.RouteCollect, req)
}

func (s *Server) collectProperties(w http.ResponseWriter, r *http.Request, q url.Values) (map[string]any, error) {
	props := map[string]any{}
	if r.Method == http.MethodPost {
		buf, err := readBody(w, r, s.opt.MaxBodyBytes)
		if err != nil {
			return nil, err
		}
		defer bufPool.Put(buf)
		body := buf.Bytes()
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch {
		case len(bytes.TrimSpace(body)) == 0:
		case ct == "application/x-www-form-urlencoded":
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, &pipeline.Error{Kind: pipeline.Invalid, Field: "body", Message: "is not a valid form"}
			}
			if err := collector.CheckValues("body", form, s.deps.Collector.Limits()); err != nil {
				return nil, err
			}
			addValues(props, form)
		default:
			if err := collector.DecodeProperties(body, s.deps.Collector.Limits(), &props); err != nil {
				return nil, err
			}
		}
	}
	if len(props) == 0 {
		if err := collector.CheckValues("query", q, s.deps.Collector.Limits()); err != nil {
			return nil, err
		}
		addValues(props, q)
	}
	return props, nil
}

func addValues(dst map[string]any, v url.Values) {
	for k, vs := range v {
		if len(vs) == 1 {
			dst[k] = vs[0]
			continue
		}
		arr := make([]any, len(vs))
		for i, x := range vs {
			arr[i] = x
		}
		dst[k] = arr
	}
}

// defaultAllowedHeaders are the request headers a CORS preflight allows when the
// source names none: what the trackers send (Tracardi's sends X-Timestamp on every
// call; Segment's and RudderStack's libraries send Authorization and Content-Type).
const defaultAllowedHeaders = "Content-Type, Authorization, X-Timestamp, X-Requested-With, Content-Encoding"

// allowedHeaders answers a preflight with the headers the event source allows: its
// allowed_headers (on /collect, where the path names it) on top of the defaults.
func (s *Server) allowedHeaders(r *http.Request) string {
	id := r.PathValue("source_id")
	if id == "" || s.deps.Sources == nil {
		return defaultAllowedHeaders
	}
	src, err := s.deps.Sources.Get(r.Context(), id)
	if err != nil || len(src.AllowedHeaders) == 0 {
		return defaultAllowedHeaders
	}
	return defaultAllowedHeaders + ", " + strings.Join(src.AllowedHeaders, ", ")
}
