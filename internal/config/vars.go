package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/query"
)

// vars declares every environment variable, once: its name, its default (def sets it;
// Default says it in the documentation), what it means, how it is parsed into Config
// and what values it accepts (check, which may look at other fields). Load, Defaults,
// Validate and docs/configuration.md (Markdown, `make generate`) all come from this
// table, so adding a variable is adding one entry (and its Config field).
var vars = []Var{
	{Name: "HTTP_ADDR", Default: "`:8686`",
		Doc:   "listen address of `serve` (`host:port`; port 0 picks a free one, logged as `listening`)",
		parse: bind((*parser).str, func(c *Config) *string { return &c.HTTPAddr }),
		def:   func(c *Config) { c.HTTPAddr = ":8686" },
		check: func(c *Config) error {
			if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
				return fmt.Errorf("HTTP_ADDR: %q is not host:port", c.HTTPAddr)
			}
			return nil
		}},
	{Name: "EXPOSE_GUI_API", Default: "`yes`",
		Doc:   "`no`: only the collector (`/track`, `/collect/…`) and ops routes exist; `/api/v1/…` and `/gui/…` answer 404 like any unknown path",
		parse: bind((*parser).boolean, func(c *Config) *bool { return &c.ExposeGUIAPI }),
		def:   func(c *Config) { c.ExposeGUIAPI = true }},
	{Name: "TRUSTED_NETWORKS", Default: "(all)",
		Doc:   "comma-separated CIDRs (or single addresses) allowed to reach the GUI API and GUI",
		parse: bind((*parser).cidrs, func(c *Config) *[]netip.Prefix { return &c.TrustedNetworks })},
	{Name: "DATA_DIR", Default: "`./data`",
		Doc:   "embedded store location (`thamesthrive.db`, SQLite in WAL mode)",
		parse: bind((*parser).str, func(c *Config) *string { return &c.DataDir }),
		def:   func(c *Config) { c.DataDir = "./data" },
		check: func(c *Config) error {
			if c.DataDir == "" {
				return fmt.Errorf("DATA_DIR: must not be empty")
			}
			return nil
		}},
	{Name: "SQLITE_SYNC", Default: "`full`",
		Doc:   "embedded store only: `full` syncs the WAL to disk in every commit, so an answered /track survives a crash of the process *and* of the machine (power cut, kernel panic); `normal` writes the WAL to the OS in every commit and syncs it only at checkpoints (about every 250–4,000 pages), so an answered /track survives kill -9 of the process but a machine failure may lose the last commits (never corrupts the database). `normal` makes a commit much cheaper when few requests share it (`BenchmarkSQLiteFloor`, batches of 2: 377 → 166 cpu-µs per request), but in `make bench` it changed little (closed loop 508 → 514 cpu-µs per request, open loop 889 → 820, p99 unchanged): see docs/performance.md",
		parse: bind((*parser).str, func(c *Config) *string { return &c.SQLiteSync }),
		def:   func(c *Config) { c.SQLiteSync = "full" },
		check: func(c *Config) error {
			if c.SQLiteSync != "full" && c.SQLiteSync != "normal" {
				return fmt.Errorf("SQLITE_SYNC: %q is not one of full, normal", c.SQLiteSync)
			}
			return nil
		}},
	{Name: "SQLITE_COMMIT_WINDOW", Default: "`2ms`",
		Doc:   "embedded store only: when requests arrive less than this apart but one at a time (below saturation), the writer holds a commit open up to this long after its first request so that the next ones share its transaction and fsync, instead of paying for one each; it never waits when requests come further apart. `0` never waits; at most `5ms`. A /track answer still means committed and synced. See docs/performance.md (B.2 round 3)",
		parse: bind((*parser).duration, func(c *Config) *time.Duration { return &c.SQLiteCommitWindow }),
		def:   func(c *Config) { c.SQLiteCommitWindow = 2 * time.Millisecond },
		check: func(c *Config) error {
			if c.SQLiteCommitWindow < 0 || c.SQLiteCommitWindow > 5*time.Millisecond {
				return fmt.Errorf("SQLITE_COMMIT_WINDOW: %v is not between 0 and 5ms", c.SQLiteCommitWindow)
			}
			return nil
		}},
	{Name: "INSTALLATION_TOKEN", Default: "generated",
		Doc:   "guards `POST /api/v1/install`; when unset and no admin exists yet, a random token is printed once at start-up. At least 8 characters",
		parse: bind((*parser).str, func(c *Config) *string { return &c.InstallationToken }),
		check: func(c *Config) error {
			if c.InstallationToken != "" && len(c.InstallationToken) < 8 {
				return fmt.Errorf("INSTALLATION_TOKEN: must be at least 8 characters")
			}
			return nil
		}},
	{Name: "TOKEN_TTL", Default: "`8h`",
		Doc:   "lifetime of GUI API bearer tokens (Go duration, at least `1m`)",
		parse: bind((*parser).duration, func(c *Config) *time.Duration { return &c.TokenTTL }),
		def:   func(c *Config) { c.TokenTTL = 8 * time.Hour },
		check: func(c *Config) error {
			if c.TokenTTL < time.Minute {
				return fmt.Errorf("TOKEN_TTL: %s is below the minimum of 1m", c.TokenTTL)
			}
			return nil
		}},
	{Name: "TRACK_MAX_BODY_BYTES", Default: "`1048576`",
		Doc:   "collector body limit; accepts suffixes `KiB`, `MiB`, `KB`, `MB` (minimum 1024). Larger bodies answer 413",
		parse: bind((*parser).size, func(c *Config) *int64 { return &c.TrackMaxBodyBytes }),
		def:   func(c *Config) { c.TrackMaxBodyBytes = 1 << 20 },
		check: func(c *Config) error {
			if c.TrackMaxBodyBytes < 1024 {
				return fmt.Errorf("TRACK_MAX_BODY_BYTES: %d is below the minimum of 1024", c.TrackMaxBodyBytes)
			}
			return nil
		}},
	{Name: "TRACK_MAX_EVENTS", Default: "`100`",
		Doc:   "events per `/track` request (1–10000); more answer 400",
		parse: bind((*parser).integer, func(c *Config) *int { return &c.TrackMaxEvents }),
		def:   func(c *Config) { c.TrackMaxEvents = 100 },
		check: func(c *Config) error {
			if c.TrackMaxEvents < 1 || c.TrackMaxEvents > 10000 {
				return fmt.Errorf("TRACK_MAX_EVENTS: %d is outside 1..10000", c.TrackMaxEvents)
			}
			return nil
		}},
	{Name: "TRACK_RATE_LIMIT", Default: "`100`",
		Doc:   "collector requests (`/track`, `/collect/…`) per second per client address (behind `TRUSTED_PROXIES`, the address they name); over it, 429 with `Retry-After`. A browser sends a few a second, so 100 only stops a runaway or hostile client; a server-side integration that sends everything from one address should batch events (up to `TRACK_MAX_EVENTS` per request) or get a higher limit; `0` turns the limit off (as the load tests do, one address sending the whole load). With Redis the limit holds across replicas",
		parse: bind((*parser).float, func(c *Config) *float64 { return &c.TrackRateLimit }),
		def:   func(c *Config) { c.TrackRateLimit = 100 }},
	{Name: "TRACK_RATE_BURST", Default: "the rate",
		Doc:   "burst size of that limit",
		parse: bind((*parser).integer, func(c *Config) *int { return &c.TrackRateBurst })},
	{Name: "HTTP_MAX_CONNECTIONS", Default: "`4096`",
		Doc:   "HTTP connections open at once per process; past it a new connection is answered `503` with `Retry-After: 1` and closed (with TLS, closed without an answer: none can be given before the handshake); logged as `connections_refused`, at most once a second",
		parse: bind((*parser).integer, func(c *Config) *int { return &c.MaxConnections }),
		def:   func(c *Config) { c.MaxConnections = 4096 },
		check: func(c *Config) error {
			if c.MaxConnections < 1 {
				return fmt.Errorf("HTTP_MAX_CONNECTIONS: %d is below the minimum of 1", c.MaxConnections)
			}
			return nil
		}},
	{Name: "MAX_BODY_BYTES_IN_FLIGHT", Default: "`16MiB`",
		Doc:   "request-body bytes the process holds at once (each request counts its `Content-Length`, or `TRACK_MAX_BODY_BYTES` when the length is unknown); a request that does not fit is answered `503` with `Retry-After: 1` before its body is read. At least `TRACK_MAX_BODY_BYTES` (one body always fits)",
		parse: bind((*parser).size, func(c *Config) *int64 { return &c.MaxBodyBytesInFlight }),
		def:   func(c *Config) { c.MaxBodyBytesInFlight = 16 << 20 },
		check: func(c *Config) error {
			if c.MaxBodyBytesInFlight < c.TrackMaxBodyBytes {
				return fmt.Errorf("MAX_BODY_BYTES_IN_FLIGHT: %d is below TRACK_MAX_BODY_BYTES (%d)", c.MaxBodyBytesInFlight, c.TrackMaxBodyBytes)
			}
			return nil
		}},
	{Name: "LOGGING_LEVEL", Default: "`info`",
		Doc:   "`debug`, `info`, `warn` (or `warning`), `error`; logs are JSON lines on stderr",
		parse: bind((*parser).level, func(c *Config) *slog.Level { return &c.LogLevel }),
		def:   func(c *Config) { c.LogLevel = slog.LevelInfo }},
	{Name: "TLS_CERT_FILE", Default: "",
		Doc:   "serve HTTPS only (TLS 1.2 or later, HTTP/2) with this certificate file (set `TLS_KEY_FILE` too); the files are read again when they change and on SIGHUP",
		parse: bind((*parser).str, func(c *Config) *string { return &c.TLSCertFile })},
	{Name: "TLS_KEY_FILE", Default: "",
		Doc:   "the private key of `TLS_CERT_FILE` (both or neither)",
		parse: bind((*parser).str, func(c *Config) *string { return &c.TLSKeyFile }),
		check: func(c *Config) error {
			if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
				return fmt.Errorf("TLS_CERT_FILE and TLS_KEY_FILE: set both or neither")
			}
			return nil
		}},
	{Name: "TLS_RELOAD_INTERVAL", Default: "`5s`",
		Doc:   "how often the certificate files are checked for changes (`0`: only on SIGHUP)",
		parse: bind((*parser).duration, func(c *Config) *time.Duration { return &c.TLSReloadInterval }),
		def:   func(c *Config) { c.TLSReloadInterval = 5 * time.Second },
		check: func(c *Config) error {
			if c.TLSReloadInterval < 0 {
				return fmt.Errorf("TLS_RELOAD_INTERVAL: must not be negative (0 turns polling off)")
			}
			return nil
		}},
	{Name: "TRUSTED_PROXIES", Default: "(none)",
		Doc:   "comma-separated CIDRs of proxies / load balancers whose `X-Forwarded-For` names the client (read right to left, see docs/security.md)",
		parse: bind((*parser).cidrs, func(c *Config) *[]netip.Prefix { return &c.TrustedProxies })},
	{Name: "GUI_API_CORS_ORIGINS", Default: "(none: CORS off)",
		Doc:   "comma-separated origins (`https://admin.example.com`) that may call the GUI API from a browser",
		parse: bind((*parser).list, func(c *Config) *[]string { return &c.CORSOrigins }),
		check: func(c *Config) error {
			for _, o := range c.CORSOrigins {
				u, err := url.Parse(o)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
					return fmt.Errorf("GUI_API_CORS_ORIGINS: %q is not an origin such as https://admin.example.com", o)
				}
			}
			return nil
		}},
	{Name: "SECRETS_KEY", Default: "generated in `DATA_DIR`",
		Doc:   "32-byte key (64 hex digits or base64) that encrypts secrets of resources at rest; required with `ELASTIC_HOST`, the same on every replica; a wrong length stops start-up",
		parse: bind((*parser).key, func(c *Config) *[]byte { return &c.SecretsKey })},
	{Name: "LOGIN_MAX_ATTEMPTS", Default: "`10`",
		Doc:   "login attempts per client address and per username in `LOGIN_WINDOW`; the second half are answered slowly, then 429 with `Retry-After`",
		parse: bind((*parser).integer, func(c *Config) *int { return &c.LoginMaxAttempts }),
		def:   func(c *Config) { c.LoginMaxAttempts = 10 },
		check: func(c *Config) error {
			if c.LoginMaxAttempts < 2 {
				return fmt.Errorf("LOGIN_MAX_ATTEMPTS: %d is below the minimum of 2", c.LoginMaxAttempts)
			}
			return nil
		}},
	{Name: "LOGIN_WINDOW", Default: "`15m`",
		Doc:   "the window of that count",
		parse: bind((*parser).duration, func(c *Config) *time.Duration { return &c.LoginWindow }),
		def:   func(c *Config) { c.LoginWindow = 15 * time.Minute },
		check: func(c *Config) error {
			if c.LoginWindow < time.Second {
				return fmt.Errorf("LOGIN_WINDOW: %s is below the minimum of 1s", c.LoginWindow)
			}
			return nil
		}},
	{Name: "MERGE_KEYS", Default: "`data.contact.email.main,data.contact.phone.main,data.identifier.id`",
		Doc:   "profile paths (under `data.`) whose equal values merge profiles; values are trimmed and e-mails lower-cased before comparing. Each must be a dotted path of a-z, 0-9 and `_` (start-up fails otherwise). Both stores keep them indexed from the start: the embedded store builds a missing index when it opens (about 0.6 s per key with 100,000 profiles), not at the first look-up",
		parse: bind((*parser).list, func(c *Config) *[]string { return &c.MergeKeys }),
		check: func(c *Config) error {
			for _, k := range c.MergeKeys {
				if !domain.ValidKeyPath(k) {
					return fmt.Errorf("MERGE_KEYS: %q is not a dotted path of a-z, 0-9 and _", k)
				}
			}
			return nil
		}},
	{Name: "INDEXED_PATHS", Default: "(none)",
		Doc:   "embedded store only: comma-separated profile paths (such as `traits.tier,traits.lifetime_value`) that get an index, so that a profile search or a segment condition comparing one of them (`==`, `<`, `>`, `<=`, `>=`, a list, `BETWEEN`, at the top of the condition or under `and`) reads the index instead of every profile (`make bench-scale`, `traits.tier == \"gold\"`: 2,050 ms without the index at 100,000 profiles; about 2 ms with it at 300,000 since schema version 4, docs/performance.md section C). Each path costs CPU on every profile write (about 16 µs per path in `BenchmarkGroupCommitIndexedPaths`), so none is indexed by default: list the few paths your segments and searches filter on most. Each must be a dotted path of names (letters, digits, `_`, `-`; no array index). The store builds a missing index when it opens (about 2.5 s per path per 100,000 profiles on a busy 2-CPU machine; also once after an upgrade that changes the index definition, such as schema version 4) and drops the index of a path no longer listed. A search reads only its page from the index while no profile holds an array on (or on the way to) the path; once one does, each match is read, as in docs/performance.md section C round 1. Events need nothing here: their type, time, profile and session are indexed columns",
		parse: bind((*parser).list, func(c *Config) *[]string { return &c.IndexedPaths }),
		check: func(c *Config) error {
			for _, p := range c.IndexedPaths {
				segs := strings.Split(p, ".")
				for _, s := range segs {
					if _, isIndex := query.Index(s); !query.ValidSegment(s) || isIndex {
						return fmt.Errorf("INDEXED_PATHS: %q is not a dotted path of names", p)
					}
				}
			}
			return nil
		}},
	{Name: "OUTBOUND_ALLOW_PRIVATE", Default: "`no`",
		Doc:   "`yes` lets webhooks and e-mail reach loopback, private and link-local addresses (refused by default, also after redirects)",
		parse: bind((*parser).boolean, func(c *Config) *bool { return &c.OutboundAllowPrivate })},
	{Name: "RUN_WORKERS", Default: "`auto`",
		Doc:   "whether `serve` runs the background workers (destination delivery, jobs) in its own process: `auto` on the embedded store only, `yes`, `no` ([workers.md](workers.md))",
		parse: bind((*parser).str, func(c *Config) *string { return &c.RunWorkers }),
		def:   func(c *Config) { c.RunWorkers = "auto" },
		check: func(c *Config) error {
			switch strings.ToLower(c.RunWorkers) {
			case "auto", "yes", "no":
				return nil
			}
			return fmt.Errorf("RUN_WORKERS: %q is not one of auto, yes, no", c.RunWorkers)
		}},
	{Name: "WORKER_HTTP_ADDR", Default: "`:8687`",
		Doc:   "listen address of `thamesthrive worker`'s ops routes (`/healthz`, `/readyz`, `/metrics`; HTTPS with `TLS_CERT_FILE`): its own default, so that a worker and `serve` can share a host; `thamesthrive healthcheck -worker` asks it ([workers.md](workers.md))",
		parse: bind((*parser).str, func(c *Config) *string { return &c.WorkerHTTPAddr }),
		def:   func(c *Config) { c.WorkerHTTPAddr = ":8687" },
		check: func(c *Config) error {
			if _, _, err := net.SplitHostPort(c.WorkerHTTPAddr); err != nil {
				return fmt.Errorf("WORKER_HTTP_ADDR: %q is not host:port", c.WorkerHTTPAddr)
			}
			return nil
		}},
	{Name: "DELIVERY_LEASE", Default: "`2m`",
		Doc:   "how long a delivery taken from the queue stays reserved for its worker: a worker that died (`kill -9`) loses its items to the others after this (at least `1s`; keep it above the destinations' timeouts, at most 60 s, or a slow delivery may be sent twice)",
		parse: bind((*parser).duration, func(c *Config) *time.Duration { return &c.DeliveryLease }),
		def:   func(c *Config) { c.DeliveryLease = 2 * time.Minute },
		check: func(c *Config) error {
			if c.DeliveryLease < time.Second {
				return fmt.Errorf("DELIVERY_LEASE: %s is below the minimum of 1s", c.DeliveryLease)
			}
			return nil
		}},
	{Name: "SESSION_TIMEOUT", Default: "`30m`",
		Doc:   "a session without requests for this long ends: the workers store it as ended and process a `visit-ended` internal event for it, which rules can use (`0` turns it off; at least `1s`, at most 24h; [workers.md](workers.md))",
		parse: bind((*parser).duration, func(c *Config) *time.Duration { return &c.SessionTimeout }),
		def:   func(c *Config) { c.SessionTimeout = 30 * time.Minute },
		check: func(c *Config) error {
			if c.SessionTimeout != 0 && (c.SessionTimeout < time.Second || c.SessionTimeout > 24*time.Hour) {
				return fmt.Errorf("SESSION_TIMEOUT: %s is not 0 nor between 1s and 24h", c.SessionTimeout)
			}
			return nil
		}},
	{Name: "DELIVERY_MAX_AGE", Default: "`24h`",
		Doc:   "how long a failing destination delivery is retried before it becomes a dead letter (at least `1s`)",
		parse: bind((*parser).duration, func(c *Config) *time.Duration { return &c.DeliveryMaxAge }),
		def:   func(c *Config) { c.DeliveryMaxAge = 24 * time.Hour },
		check: func(c *Config) error {
			if c.DeliveryMaxAge < time.Second {
				return fmt.Errorf("DELIVERY_MAX_AGE: %s is below the minimum of 1s", c.DeliveryMaxAge)
			}
			return nil
		}},
	{Name: "DELIVERY_BACKOFF", Default: "`1s`",
		Doc:   "first retry delay of a delivery, doubled per retry up to 10 min, with jitter (10ms–1h)",
		parse: bind((*parser).duration, func(c *Config) *time.Duration { return &c.DeliveryBackoff }),
		def:   func(c *Config) { c.DeliveryBackoff = time.Second },
		check: func(c *Config) error {
			if c.DeliveryBackoff < 10*time.Millisecond || c.DeliveryBackoff > time.Hour {
				return fmt.Errorf("DELIVERY_BACKOFF: %s is outside 10ms..1h", c.DeliveryBackoff)
			}
			return nil
		}},
	{Name: "DESTINATION_PAUSE_AFTER", Default: "`100`",
		Doc:   "failed deliveries in a row that pause a destination until it is resumed through the API (`0`: never)",
		parse: bind((*parser).integer, func(c *Config) *int { return &c.DestinationPauseAfter }),
		def:   func(c *Config) { c.DestinationPauseAfter = 100 },
		check: func(c *Config) error {
			if c.DestinationPauseAfter < 0 {
				return fmt.Errorf("DESTINATION_PAUSE_AFTER: must not be negative (0 never pauses)")
			}
			return nil
		}},
	{Name: "SHUTDOWN_TIMEOUT", Default: "`15s`",
		Doc:   "how long SIGTERM waits for in-flight requests",
		parse: bind((*parser).duration, func(c *Config) *time.Duration { return &c.ShutdownTimeout }),
		def:   func(c *Config) { c.ShutdownTimeout = 15 * time.Second }},
	{Name: "PPROF", Default: "`no`",
		Doc:   "`yes` serves `/debug/pprof/` (profiling; never expose it publicly)",
		parse: bind((*parser).boolean, func(c *Config) *bool { return &c.Pprof })},
	{Name: "EVENT_RETENTION_DAYS", Default: "(unset)",
		Doc:   "events inserted more than this many days ago are deleted by a daily job (unset or `0`: kept for ever); on the production backend whole monthly event indices are dropped ([workers.md](workers.md), \"Jobs\")",
		parse: bind((*parser).integer, func(c *Config) *int { return &c.EventRetentionDays }),
		check: func(c *Config) error {
			if c.EventRetentionDays < 0 {
				return fmt.Errorf("EVENT_RETENTION_DAYS: must not be negative (0 keeps events)")
			}
			return nil
		}},
	{Name: "JOB_LEASE", Default: "`30s`",
		Doc:   "how long a running job (segment refresh, import, retention) stays reserved for its worker without a renewal (renewed every second): after it, another worker takes over a job whose worker died and resumes it from its checkpoint (at least `2s`; [workers.md](workers.md), \"Jobs\")",
		parse: bind((*parser).duration, func(c *Config) *time.Duration { return &c.JobLease }),
		def:   func(c *Config) { c.JobLease = 30 * time.Second },
		check: func(c *Config) error {
			if c.JobLease < 2*time.Second {
				return fmt.Errorf("JOB_LEASE: %s is below the minimum of 2s", c.JobLease)
			}
			return nil
		}},
	{Name: "IMPORT_MAX_BYTES", Default: "`256MiB`",
		Doc:   "the largest upload `POST /api/v1/imports` accepts (`413` past it); the upload is stored in the store until its job has finished ([imports.md](imports.md))",
		parse: bind((*parser).size, func(c *Config) *int64 { return &c.ImportMaxBytes }),
		def:   func(c *Config) { c.ImportMaxBytes = 256 << 20 },
		check: func(c *Config) error {
			if c.ImportMaxBytes < 1024 {
				return fmt.Errorf("IMPORT_MAX_BYTES: %d is below the minimum of 1024", c.ImportMaxBytes)
			}
			return nil
		}},
	{Name: "ELASTIC_HOST", Default: "(unset)",
		Doc:   "comma-separated Elasticsearch/OpenSearch URLs; set → production backend ([production.md](production.md); run `thamesthrive migrate` first)",
		parse: bind((*parser).list, func(c *Config) *[]string { return &c.ElasticHosts })},
	{Name: "ELASTIC_HTTP_AUTH_USERNAME", Default: "",
		Doc:   "cluster user name (basic authentication)",
		parse: bind((*parser).str, func(c *Config) *string { return &c.ElasticUsername })},
	{Name: "ELASTIC_HTTP_AUTH_PASSWORD", Default: "",
		Doc:   "cluster password",
		parse: bind((*parser).str, func(c *Config) *string { return &c.ElasticPassword })},
	{Name: "ELASTIC_API_KEY", Default: "",
		Doc:   "cluster API key (instead of user and password)",
		parse: bind((*parser).str, func(c *Config) *string { return &c.ElasticAPIKey })},
	{Name: "ELASTIC_CA_FILE", Default: "",
		Doc:   "CA certificate file that signed the cluster's certificate",
		parse: bind((*parser).str, func(c *Config) *string { return &c.ElasticCAFile })},
	{Name: "ELASTIC_INDEX_PREFIX", Default: "`thamesthrive`",
		Doc:   "prefix of indices, templates, aliases and Redis keys",
		parse: bind((*parser).str, func(c *Config) *string { return &c.ElasticIndexPrefix }),
		def:   func(c *Config) { c.ElasticIndexPrefix = "thamesthrive" }},
	{Name: "ELASTIC_SHARDS", Default: "`1`",
		Doc:   "shards of new profile, session and event indices",
		parse: bind((*parser).integer, func(c *Config) *int { return &c.ElasticShards }),
		def:   func(c *Config) { c.ElasticShards = 1 },
		check: func(c *Config) error {
			if c.ElasticShards < 1 || c.ElasticShards > 1024 {
				return fmt.Errorf("ELASTIC_SHARDS: %d is outside 1..1024", c.ElasticShards)
			}
			return nil
		}},
	{Name: "ELASTIC_REPLICAS", Default: "`0`",
		Doc:   "replicas of new profile, session and event indices",
		parse: bind((*parser).integer, func(c *Config) *int { return &c.ElasticReplicas }),
		check: func(c *Config) error {
			if c.ElasticReplicas < 0 || c.ElasticReplicas > 16 {
				return fmt.Errorf("ELASTIC_REPLICAS: %d is outside 0..16", c.ElasticReplicas)
			}
			return nil
		}},
	{Name: "ELASTIC_BULK_LINGER", Default: "`0s`",
		Doc:   "how long the `_bulk` writer waits for more requests to join a bulk that is not full (`0s`: it sends what has queued at once). The cluster pays a translog fsync per shard a bulk touches whatever its size, so at a replica's modest rate larger bulks cost it much less CPU per request, for this much more latency per request ([performance.md](performance.md), A.4). At most `100ms`",
		parse: bind((*parser).duration, func(c *Config) *time.Duration { return &c.ElasticBulkLinger }),
		check: func(c *Config) error {
			if c.ElasticBulkLinger < 0 || c.ElasticBulkLinger > 100*time.Millisecond {
				return fmt.Errorf("ELASTIC_BULK_LINGER: %s is outside 0..100ms", c.ElasticBulkLinger)
			}
			return nil
		}},
	{Name: "ELASTIC_REFRESH_INTERVAL", Default: "`5s`",
		Doc:   "how often the profile, session and event indices are refreshed, set by `thamesthrive migrate` on the templates and the existing indices (run it again after a change): how long a write takes to reach the searches, lists and reports of the other replicas and workers. A process's own writes are refreshed before its next search; reads by id (a profile, a session, identity resolution's merge keys) are real-time whatever it is. Each refresh writes a segment the cluster merges again later: the cluster's default of one second cost the search server 1.2 to 1.6 times the CPU per /track request in interleaved runs ([performance.md](performance.md), A.4). Between `1s` and `1h`",
		parse: bind((*parser).duration, func(c *Config) *time.Duration { return &c.ElasticRefreshInterval }),
		def:   func(c *Config) { c.ElasticRefreshInterval = 5 * time.Second },
		check: func(c *Config) error {
			if c.ElasticRefreshInterval < time.Second || c.ElasticRefreshInterval > time.Hour {
				return fmt.Errorf("ELASTIC_REFRESH_INTERVAL: %s is outside 1s..1h", c.ElasticRefreshInterval)
			}
			return nil
		}},
	{Name: "ELASTIC_BULK_WRITERS", Default: "`1`",
		Doc:   "how many `_bulk` requests one process keeps in flight at once; more writers make smaller bulks and more round trips (more CPU per request in `serve` and in the cluster), and only help when one bulk's round trip is the bottleneck ([performance.md](performance.md))",
		parse: bind((*parser).integer, func(c *Config) *int { return &c.ElasticBulkWriters }),
		def:   func(c *Config) { c.ElasticBulkWriters = 1 },
		check: func(c *Config) error {
			if c.ElasticBulkWriters < 1 || c.ElasticBulkWriters > 64 {
				return fmt.Errorf("ELASTIC_BULK_WRITERS: %d is outside 1..64", c.ElasticBulkWriters)
			}
			return nil
		}},
	{Name: "GOGC", Default: "`200` for `serve` with `ELASTIC_HOST`, else Go's `100`",
		Doc:   "the Go garbage collector's target (heap growth in percent between collections, or `off`), read by the Go runtime; when it is unset, `serve` on the production backend sets 200: there the process keeps no profile cache, its live heap is small (peak RSS about 50 MB at saturation), and collecting half as often cut its CPU per /track request by a tenth to a fifth (0.89× and 0.78× in two sets of interleaved runs) for about 12 MB more peak RSS ([performance.md](performance.md), A.3). The embedded store keeps Go's 100 (its caches make the heap larger). `GOMEMLIMIT` (Go's soft memory limit, such as `120MiB` for a 150 MB replica) is honoured in both cases: near it the collector runs more often whatever `GOGC` says, so set it on replicas with a memory limit",
		parse: bind((*parser).str, func(c *Config) *string { return &c.GOGC }),
		check: func(c *Config) error {
			if c.GOGC == "" || c.GOGC == "off" {
				return nil
			}
			if n, err := strconv.Atoi(c.GOGC); err != nil || n < 0 {
				return fmt.Errorf("GOGC: %q is not a percentage or off", c.GOGC)
			}
			return nil
		}},
	{Name: "REDIS_HOST", Default: "(unset)",
		Doc:   "Redis for locks, shared caches and queues with many replicas; several hosts (comma-separated): Cluster",
		parse: bind((*parser).str, func(c *Config) *string { return &c.RedisHost })},
	{Name: "REDIS_PORT", Default: "`6379`",
		Doc:   "port of the `REDIS_HOST` hosts",
		parse: bind((*parser).integer, func(c *Config) *int { return &c.RedisPort }),
		def:   func(c *Config) { c.RedisPort = 6379 },
		check: func(c *Config) error {
			if c.RedisPort < 1 || c.RedisPort > 65535 {
				return fmt.Errorf("REDIS_PORT: %d is not a port", c.RedisPort)
			}
			return nil
		}},
	{Name: "REDIS_PASSWORD", Default: "",
		Doc:   "Redis password",
		parse: bind((*parser).str, func(c *Config) *string { return &c.RedisPassword })},
	{Name: "REDIS_MASTER_NAME", Default: "",
		Doc:   "Sentinel: the monitored master's name (`REDIS_HOST` then lists Sentinels)",
		parse: bind((*parser).str, func(c *Config) *string { return &c.RedisMasterName })},
}

// Var is one environment variable.
type Var struct {
	Name    string
	Default string // the default as the documentation says it (Markdown); "" for none
	Doc     string // what it means (Markdown, one table cell)
	parse   func(p *parser, name string, c *Config)
	def     func(c *Config)       // sets the default; nil: the zero value
	check   func(c *Config) error // nil: every value that parses is accepted
}

// bind makes a Var's parse from a parser method and the Config field it fills.
func bind[T any](parse func(p *parser, name string, dst *T), field func(c *Config) *T) func(*parser, string, *Config) {
	return func(p *parser, name string, c *Config) { parse(p, name, field(c)) }
}

// Vars lists the variables in the order of the documentation.
func Vars() []Var { return slices.Clone(vars) }
