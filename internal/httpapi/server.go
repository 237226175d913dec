// Package httpapi is ThamesThrive's HTTP surface: the public collector (/track,
// /collect), the GUI API under /api/v1/, and the ops routes (/healthz, /readyz,
// /metrics). It translates HTTP to calls on the collector, auth and storage, and maps
// their error classes to status codes in one place (errors.go).
package httpapi

import (
	"cmp"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/thamesthrive/thamesthrive/internal/auth"
	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/netguard"
	"github.com/thamesthrive/thamesthrive/internal/secrets"
	"github.com/thamesthrive/thamesthrive/internal/segmentio"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/worker"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

// Options shape which routes exist and their limits.
type Options struct {
	// ExposeGUIAPI serves /api/v1/ and /gui/; without it those paths do not exist.
	ExposeGUIAPI bool
	// MaxBodyBytes bounds collector request bodies.
	MaxBodyBytes int64
	// MaxBodyBytesInFlight bounds the request-body bytes held at once (limits.go;
	// 0: DefaultMaxBodyBytesInFlight).
	MaxBodyBytesInFlight int64
	// Pprof serves /debug/pprof/ (for profiling; never expose it publicly).
	Pprof bool
	// TrackRateLimit caps collector requests per second per client address (0: no
	// cap), with bursts of TrackRateBurst.
	TrackRateLimit float64
	TrackRateBurst int
	// TrustedNetworks, when set, are the only client networks that reach the GUI API
	// and GUI; TrustedProxies may name the client in X-Forwarded-For; CORSOrigins may
	// call the GUI API from a browser (see security.go).
	TrustedNetworks []netip.Prefix
	TrustedProxies  []netip.Prefix
	CORSOrigins     []string
	// Version and Backend are shown by GET /api/v1/system.
	Version, Backend string
}

// Deps are the services the handlers call.
type Deps struct {
	Store     storage.Store
	Collector *collector.Collector
	Sources   *collector.SourceCache
	Auth      *auth.Service
	Logger    *slog.Logger
	Registry  *prometheus.Registry
	// Secrets seals the secret fields of configuration resources.
	Secrets *secrets.Box
	// Data serves search, segments, event types and jobs.
	Data DataDeps
	// Workflow runs rules and flows and serves their API (nil: no workflow routes).
	Workflow *workflow.Engine
	// Outbound classifies the addresses of URLs users configure (destinations); nil
	// refuses loopback, private and link-local addresses.
	Outbound *netguard.Guard
	// RateLimiter, if set, limits collector requests per client address instead of
	// the in-process limiter of Options.TrackRateLimit (app sets a Redis one shared by
	// all replicas).
	RateLimiter RateLimiter
	// GUI is the built GUI served under /gui/ (nil: the one embedded from web/dist).
	GUI fs.FS
	// Deliveries serves destinations' delivery log, dead letters and state (nil:
	// those routes answer 503); DestinationsChanged runs after a destination changes.
	Deliveries          *worker.Admin
	DestinationsChanged func()
}

// Server holds the handlers' dependencies.
type Server struct {
	opt     Options
	deps    Deps
	log     *slog.Logger
	metrics *metrics
	mux     *http.ServeMux
	limiter RateLimiter
	unavail unavailableLog // why 503s are answered (errors.go)
	bodies  bodyBudget     // request-body bytes held at once (limits.go)
	// apiRoutes records every GUI API route with its roles (see handle).
	apiRoutes []route
	// meta records every route with its documentation (see openapi.go).
	meta    routeMeta
	tracker *trackerFile
	segment *segmentio.Service
}

// New builds the handler tree.
func New(opt Options, deps Deps) *Server {
	s := &Server{opt: opt, deps: deps, log: deps.Logger, mux: http.NewServeMux(), tracker: newTrackerFile()}
	s.metrics = newMetrics(deps.Registry)
	s.bodies.limit = cmp.Or(opt.MaxBodyBytesInFlight, DefaultMaxBodyBytesInFlight)
	if deps.Collector != nil {
		s.segment = segmentio.New(deps.Collector, deps.Store)
	}
	switch {
	case deps.RateLimiter != nil:
		s.limiter = deps.RateLimiter
	case opt.TrackRateLimit > 0:
		s.limiter = newIPLimiter(opt.TrackRateLimit, opt.TrackRateBurst)
	}
	s.routes()
	return s
}

func (s *Server) routes() {
	m := s.recorder()
	// Ops.
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /readyz", s.readyz)
	m.Handle("GET /metrics", promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{}))
	if s.opt.Pprof {
		m.HandleFunc("/debug/pprof/", pprof.Index)
		m.HandleFunc("/debug/pprof/profile", pprof.Profile)
		m.HandleFunc("/debug/pprof/trace", pprof.Trace)
		m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	}
	// Collector.
	m.HandleFunc("POST /track", s.track)
	m.HandleFunc("OPTIONS /track", s.preflight)
	m.HandleFunc("GET /collect/{event_type}/{source_id}", s.collect)
	m.HandleFunc("POST /collect/{event_type}/{source_id}", s.collect)
	m.HandleFunc("OPTIONS /collect/{event_type}/{source_id}", s.preflight)
	s.collectorRoutes(m)
	if !s.opt.ExposeGUIAPI {
		return
	}
	// GUI API. Every route but install and token needs a bearer token.
	m.HandleFunc("GET /api/v1/install", s.installStatus)
	m.HandleFunc("POST /api/v1/install", s.install)
	m.HandleFunc("POST /api/v1/auth/token", s.token)
	s.handle("POST /api/v1/auth/logout", permAny, s.logout)
	s.handle("GET /api/v1/me", permAny, s.me)

	register(s, s.sourceResource())
	register(s, s.consentTypeResource())
	register(s, s.destinationResource())
	register(s, s.linkResource())
	s.deliveryRoutes()
	s.workflowRoutes()
	s.userRoutes()
	s.auditRoutes()
	s.openAPIRoutes()

	s.handle("GET /api/v1/profiles/{id}", permReadData, s.getProfile)
	s.handle("GET /api/v1/profiles/{id}/events", permReadData, s.profileEvents)
	s.handle("GET /api/v1/sessions/{id}", permReadData, s.getSession)
	s.handle("GET /api/v1/events/{id}", permReadData, s.getEvent)
	s.dataRoutes()
	s.erasureRoutes()
	s.reportRoutes()
	s.reportDefinitionRoutes()
	s.profileListRoutes()
	s.systemRoutes()
	s.guiRoutes()
	s.methodNotAllowedRoutes()

	// Anything else under /api/v1/ is an authenticated 404, so that probing without a
	// token learns nothing about which routes exist.
	m.Handle("/api/v1/", s.authed(permAny, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "", "no such API route")
	}))
}

// ServeHTTP implements http.Handler with panic recovery and metrics around the mux.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("handler_panic", "panic", p, "path", r.URL.Path)
			if !sw.wrote {
				writeError(sw, http.StatusInternalServerError, "", "internal error")
			}
		}
		s.metrics.observe(r.Pattern, sw.status, time.Since(start))
	}()
	var ok bool
	if r, ok = s.secure(sw, r); !ok {
		return
	}
	release, ok := s.admitBody(sw, r)
	if !ok {
		return
	}
	defer release()
	s.mux.ServeHTTP(sw, r)
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
	// swallow drops the plain-text body of the mux's own 404 and 405 answers, which
	// WriteHeader replaced with the JSON error shape.
	swallow bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
		h := w.Header()
		if (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) && h.Get("Content-Type") == "text/plain; charset=utf-8" {
			// The mux's own answer (http.Error): give it the one JSON error shape.
			msg := "no such route"
			if code == http.StatusMethodNotAllowed {
				msg = "method not allowed on this route; allowed: " + h.Get("Allow")
			}
			h.Del("X-Content-Type-Options")
			writeError(w.ResponseWriter, code, "", msg)
			w.swallow = true
			return
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	if w.swallow {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Store.Ping(r.Context()); err != nil {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
