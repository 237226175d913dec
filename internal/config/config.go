// Package config turns the process environment into a typed, validated Config. Every
// variable is declared once, in vars.go, from which parsing, defaults, validation and
// docs/configuration.md come; a bad value stops start-up with an error that names the
// variable.
package config

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/secrets"
)

// Config is the whole runtime configuration of a ThamesThrive process.
type Config struct {
	HTTPAddr        string
	ExposeGUIAPI    bool
	TrustedNetworks []netip.Prefix
	DataDir         string
	// SQLiteSync is the embedded store's commit durability (SQLITE_SYNC): "full" syncs
	// the WAL to disk in every commit; "normal" writes it to the OS in every commit and
	// syncs at checkpoints, which survives a crash of the process but not necessarily of
	// the machine (docs/configuration.md).
	SQLiteSync string
	// SQLiteCommitWindow is how long the embedded store's writer may hold a commit open
	// for requests about to arrive (SQLITE_COMMIT_WINDOW); zero never waits.
	SQLiteCommitWindow time.Duration
	InstallationToken  string // empty: generated at start-up
	TrackMaxBodyBytes  int64
	TrackMaxEvents     int
	TrackRateLimit     float64
	TrackRateBurst     int
	// MaxConnections caps the HTTP connections open at once (HTTP_MAX_CONNECTIONS);
	// MaxBodyBytesInFlight the request-body bytes held at once (MAX_BODY_BYTES_IN_FLIGHT).
	MaxConnections       int
	MaxBodyBytesInFlight int64
	MergeKeys            []string
	IndexedPaths         []string // INDEXED_PATHS: profile paths the embedded store indexes
	LogLevel             slog.Level
	TokenTTL             time.Duration
	TLSCertFile          string
	TLSKeyFile           string
	Pprof                bool
	ShutdownTimeout      time.Duration

	// OutboundAllowPrivate lets workflow calls (webhook, send-email) reach loopback,
	// private and link-local addresses (OUTBOUND_ALLOW_PRIVATE).
	OutboundAllowPrivate bool

	// Access to the GUI API (docs/security.md).
	TrustedProxies    []netip.Prefix
	CORSOrigins       []string
	SecretsKey        []byte // nil: generated and kept in DATA_DIR (embedded backend only)
	LoginMaxAttempts  int
	LoginWindow       time.Duration
	TLSReloadInterval time.Duration

	// Workers (docs/workers.md). RunWorkers is auto (serve runs them on the embedded
	// store only), yes or no.
	RunWorkers            string
	WorkerHTTPAddr        string        // the ops routes of `thamesthrive worker`
	DeliveryLease         time.Duration // how long a worker holds a queue item before others may take it
	SessionTimeout        time.Duration // inactivity after which a session ends (visit-ended)
	DeliveryMaxAge        time.Duration
	DeliveryBackoff       time.Duration
	DestinationPauseAfter int

	// Jobs (docs/workers.md, docs/imports.md).
	EventRetentionDays int   // 0: events are kept
	ImportMaxBytes     int64 // the largest import upload
	JobLease           time.Duration

	// Production backend (docs/production.md): Elasticsearch/OpenSearch and Redis.
	ElasticHosts       []string
	ElasticUsername    string
	ElasticPassword    string
	ElasticAPIKey      string
	ElasticCAFile      string
	ElasticIndexPrefix string
	ElasticShards      int
	ElasticReplicas    int
	ElasticBulkWriters int
	RedisHost          string
	RedisPort          int
	RedisPassword      string
	RedisMasterName    string // Sentinel: the monitored master's name

	// ELASTIC_REFRESH_INTERVAL: refresh interval of the profile, session and event indices.
	ElasticRefreshInterval time.Duration
	// ELASTIC_BULK_LINGER: how long the _bulk writer waits for a bulk to fill.
	ElasticBulkLinger time.Duration

	// GOGC as the environment gave it ("" when unset): the Go runtime applies it itself;
	// serve on the production backend sets its own default only when it is unset.
	GOGC string
}

// Defaults are the values used for variables that are unset.
func Defaults() Config {
	var c Config
	for _, v := range vars {
		if v.def != nil {
			v.def(&c)
		}
	}
	return c
}

// Load reads the configuration from getenv (os.Getenv in production, a map in tests).
// The first variable that does not parse stops it, in the order of the table.
func Load(getenv func(string) string) (Config, error) {
	c := Defaults()
	p := parser{getenv: getenv}
	for _, v := range vars {
		v.parse(&p, v.Name, &c)
		if p.err != nil {
			return Config{}, p.err
		}
	}
	return c, c.Validate()
}

// Validate checks values that parse but make no sense together or alone; it reports
// the first variable at fault, in the order of the table.
func (c Config) Validate() error {
	for _, v := range vars {
		if v.check != nil {
			if err := v.check(&c); err != nil {
				return err
			}
		}
	}
	return nil
}

type parser struct {
	getenv func(string) string
	err    error
}

// lookup returns the trimmed value of name, or "" (unset) when an earlier variable failed.
func (p *parser) lookup(name string) string {
	if p.err != nil {
		return ""
	}
	return strings.TrimSpace(p.getenv(name))
}

func (p *parser) fail(name, v, want string) {
	p.err = fmt.Errorf("%s: %q is not %s", name, v, want)
}

func (p *parser) str(name string, dst *string) {
	if v := p.lookup(name); v != "" {
		*dst = v
	}
}

func (p *parser) boolean(name string, dst *bool) {
	v := p.lookup(name)
	switch strings.ToLower(v) {
	case "":
	case "yes", "true", "1", "on":
		*dst = true
	case "no", "false", "0", "off":
		*dst = false
	default:
		p.fail(name, v, "yes or no")
	}
}

func (p *parser) float(name string, dst *float64) {
	if v := p.lookup(name); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			p.fail(name, v, "a non-negative number")
			return
		}
		*dst = f
	}
}

func (p *parser) integer(name string, dst *int) {
	if v := p.lookup(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			p.fail(name, v, "an integer")
			return
		}
		*dst = n
	}
}

// size accepts a byte count with an optional KiB/MiB/KB/MB/K/M suffix.
func (p *parser) size(name string, dst *int64) {
	v := p.lookup(name)
	if v == "" {
		return
	}
	mult := int64(1)
	num := v
	for _, s := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"K", 1 << 10}, {"M", 1 << 20}} {
		if strings.HasSuffix(v, s.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(v, s.suffix)), s.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		p.fail(name, v, "a size in bytes (e.g. 1048576 or 1MiB)")
		return
	}
	*dst = n * mult
}

func (p *parser) duration(name string, dst *time.Duration) {
	if v := p.lookup(name); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			p.fail(name, v, "a duration (e.g. 8h, 30m)")
			return
		}
		*dst = d
	}
}

func (p *parser) level(name string, dst *slog.Level) {
	if v := p.lookup(name); v != "" {
		if strings.EqualFold(v, "warning") {
			v = "warn"
		}
		if err := dst.UnmarshalText([]byte(v)); err != nil {
			p.fail(name, v, "one of debug, info, warn, error")
		}
	}
}

func (p *parser) list(name string, dst *[]string) {
	v := p.lookup(name)
	if v == "" {
		return
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	*dst = out
}

// key reads a 32-byte key written in hex or base64.
func (p *parser) key(name string, dst *[]byte) {
	if v := p.lookup(name); v != "" {
		k, err := secrets.ParseKey(v)
		if err != nil {
			p.err = fmt.Errorf("%s: %w", name, err)
			return
		}
		*dst = k
	}
}

func (p *parser) cidrs(name string, dst *[]netip.Prefix) {
	var items []string
	p.list(name, &items)
	for _, s := range items {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			addr, aerr := netip.ParseAddr(s)
			if aerr != nil {
				p.fail(name, s, "a CIDR (e.g. 10.0.0.0/8) or an IP address")
				return
			}
			pfx = netip.PrefixFrom(addr, addr.BitLen())
		}
		*dst = append(*dst, pfx.Masked())
	}
}
