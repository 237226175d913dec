// Package config turns the process environment into a typed, validated Config. Every
// variable is documented in docs/configuration.md; a bad value stops start-up with an
// error that names the variable.
package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
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
	SQLiteSync        string
	InstallationToken string // empty: generated at start-up
	TrackMaxBodyBytes int64
	TrackMaxEvents    int
	TrackRateLimit    float64
	TrackRateBurst    int
	MergeKeys         []string
	LogLevel          slog.Level
	TokenTTL          time.Duration
	TLSCertFile       string
	TLSKeyFile        string
	Pprof             bool
	ShutdownTimeout   time.Duration

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
	DeliveryMaxAge        time.Duration
	DeliveryBackoff       time.Duration
	DestinationPauseAfter int

	// Production backend (docs/production.md): Elasticsearch/OpenSearch and Redis.
	ElasticHosts       []string
	ElasticUsername    string
	ElasticPassword    string
	ElasticAPIKey      string
	ElasticCAFile      string
	ElasticIndexPrefix string
	ElasticShards      int
	ElasticReplicas    int
	RedisHost          string
	RedisPort          int
	RedisPassword      string
	RedisMasterName    string // Sentinel: the monitored master's name
}

// Defaults are the values used for variables that are unset.
func Defaults() Config {
	return Config{
		HTTPAddr:              ":8686",
		ExposeGUIAPI:          true,
		DataDir:               "./data",
		SQLiteSync:            "full",
		TrackMaxBodyBytes:     1 << 20,
		TrackMaxEvents:        100,
		LogLevel:              slog.LevelInfo,
		TokenTTL:              8 * time.Hour,
		ShutdownTimeout:       15 * time.Second,
		RedisPort:             6379,
		ElasticIndexPrefix:    "thamesthrive",
		ElasticShards:         1,
		LoginMaxAttempts:      10,
		LoginWindow:           15 * time.Minute,
		TLSReloadInterval:     5 * time.Second,
		RunWorkers:            "auto",
		WorkerHTTPAddr:        ":8687",
		DeliveryLease:         2 * time.Minute,
		DeliveryMaxAge:        24 * time.Hour,
		DeliveryBackoff:       time.Second,
		DestinationPauseAfter: 100,
	}
}

// Load reads the configuration from getenv (os.Getenv in production, a map in tests).
func Load(getenv func(string) string) (Config, error) {
	c := Defaults()
	p := parser{getenv: getenv}
	p.str("HTTP_ADDR", &c.HTTPAddr)
	p.boolean("EXPOSE_GUI_API", &c.ExposeGUIAPI)
	p.cidrs("TRUSTED_NETWORKS", &c.TrustedNetworks)
	p.str("DATA_DIR", &c.DataDir)
	p.str("SQLITE_SYNC", &c.SQLiteSync)
	p.str("INSTALLATION_TOKEN", &c.InstallationToken)
	p.size("TRACK_MAX_BODY_BYTES", &c.TrackMaxBodyBytes)
	p.integer("TRACK_MAX_EVENTS", &c.TrackMaxEvents)
	p.float("TRACK_RATE_LIMIT", &c.TrackRateLimit)
	p.integer("TRACK_RATE_BURST", &c.TrackRateBurst)
	p.list("MERGE_KEYS", &c.MergeKeys)
	p.boolean("OUTBOUND_ALLOW_PRIVATE", &c.OutboundAllowPrivate)
	p.level("LOGGING_LEVEL", &c.LogLevel)
	p.duration("TOKEN_TTL", &c.TokenTTL)
	p.str("TLS_CERT_FILE", &c.TLSCertFile)
	p.str("TLS_KEY_FILE", &c.TLSKeyFile)
	p.boolean("PPROF", &c.Pprof)
	p.duration("SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)
	p.list("ELASTIC_HOST", &c.ElasticHosts)
	p.str("REDIS_HOST", &c.RedisHost)
	p.integer("REDIS_PORT", &c.RedisPort)
	p.str("ELASTIC_HTTP_AUTH_USERNAME", &c.ElasticUsername)
	p.str("ELASTIC_HTTP_AUTH_PASSWORD", &c.ElasticPassword)
	p.str("ELASTIC_API_KEY", &c.ElasticAPIKey)
	p.str("ELASTIC_CA_FILE", &c.ElasticCAFile)
	p.str("ELASTIC_INDEX_PREFIX", &c.ElasticIndexPrefix)
	p.integer("ELASTIC_SHARDS", &c.ElasticShards)
	p.integer("ELASTIC_REPLICAS", &c.ElasticReplicas)
	p.str("REDIS_PASSWORD", &c.RedisPassword)
	p.str("REDIS_MASTER_NAME", &c.RedisMasterName)
	p.cidrs("TRUSTED_PROXIES", &c.TrustedProxies)
	p.list("GUI_API_CORS_ORIGINS", &c.CORSOrigins)
	p.key("SECRETS_KEY", &c.SecretsKey)
	p.integer("LOGIN_MAX_ATTEMPTS", &c.LoginMaxAttempts)
	p.duration("LOGIN_WINDOW", &c.LoginWindow)
	p.duration("TLS_RELOAD_INTERVAL", &c.TLSReloadInterval)
	p.str("RUN_WORKERS", &c.RunWorkers)
	p.str("WORKER_HTTP_ADDR", &c.WorkerHTTPAddr)
	p.duration("DELIVERY_LEASE", &c.DeliveryLease)
	p.duration("DELIVERY_MAX_AGE", &c.DeliveryMaxAge)
	p.duration("DELIVERY_BACKOFF", &c.DeliveryBackoff)
	p.integer("DESTINATION_PAUSE_AFTER", &c.DestinationPauseAfter)
	if p.err != nil {
		return Config{}, p.err
	}
	return c, c.Validate()
}

// Validate checks values that parse but make no sense together or alone.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return fmt.Errorf("HTTP_ADDR: %q is not host:port", c.HTTPAddr)
	}
	if _, _, err := net.SplitHostPort(c.WorkerHTTPAddr); err != nil {
		return fmt.Errorf("WORKER_HTTP_ADDR: %q is not host:port", c.WorkerHTTPAddr)
	}
	if c.DataDir == "" {
		return fmt.Errorf("DATA_DIR: must not be empty")
	}
	for _, k := range c.MergeKeys {
		if !domain.ValidKeyPath(k) {
			return fmt.Errorf("MERGE_KEYS: %q is not a dotted path of a-z, 0-9 and _", k)
		}
	}
	if c.SQLiteSync != "full" && c.SQLiteSync != "normal" {
		return fmt.Errorf("SQLITE_SYNC: %q is not one of full, normal", c.SQLiteSync)
	}
	if c.TrackMaxBodyBytes < 1024 {
		return fmt.Errorf("TRACK_MAX_BODY_BYTES: %d is below the minimum of 1024", c.TrackMaxBodyBytes)
	}
	if c.TrackMaxEvents < 1 || c.TrackMaxEvents > 10000 {
		return fmt.Errorf("TRACK_MAX_EVENTS: %d is outside 1..10000", c.TrackMaxEvents)
	}
	if c.TokenTTL < time.Minute {
		return fmt.Errorf("TOKEN_TTL: %s is below the minimum of 1m", c.TokenTTL)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return fmt.Errorf("TLS_CERT_FILE and TLS_KEY_FILE: set both or neither")
	}
	if c.InstallationToken != "" && len(c.InstallationToken) < 8 {
		return fmt.Errorf("INSTALLATION_TOKEN: must be at least 8 characters")
	}
	for _, o := range c.CORSOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			return fmt.Errorf("GUI_API_CORS_ORIGINS: %q is not an origin such as https://admin.example.com", o)
		}
	}
	if c.LoginMaxAttempts < 2 {
		return fmt.Errorf("LOGIN_MAX_ATTEMPTS: %d is below the minimum of 2", c.LoginMaxAttempts)
	}
	if c.LoginWindow < time.Second {
		return fmt.Errorf("LOGIN_WINDOW: %s is below the minimum of 1s", c.LoginWindow)
	}
	if c.TLSReloadInterval < 0 {
		return fmt.Errorf("TLS_RELOAD_INTERVAL: must not be negative (0 turns polling off)")
	}
	if c.ElasticShards < 1 || c.ElasticShards > 1024 {
		return fmt.Errorf("ELASTIC_SHARDS: %d is outside 1..1024", c.ElasticShards)
	}
	if c.ElasticReplicas < 0 || c.ElasticReplicas > 16 {
		return fmt.Errorf("ELASTIC_REPLICAS: %d is outside 0..16", c.ElasticReplicas)
	}
	switch strings.ToLower(c.RunWorkers) {
	case "auto", "yes", "no":
	default:
		return fmt.Errorf("RUN_WORKERS: %q is not one of auto, yes, no", c.RunWorkers)
	}
	if c.DeliveryLease < time.Second {
		return fmt.Errorf("DELIVERY_LEASE: %s is below the minimum of 1s", c.DeliveryLease)
	}
	if c.DeliveryMaxAge < time.Second {
		return fmt.Errorf("DELIVERY_MAX_AGE: %s is below the minimum of 1s", c.DeliveryMaxAge)
	}
	if c.DeliveryBackoff < 10*time.Millisecond || c.DeliveryBackoff > time.Hour {
		return fmt.Errorf("DELIVERY_BACKOFF: %s is outside 10ms..1h", c.DeliveryBackoff)
	}
	if c.DestinationPauseAfter < 0 {
		return fmt.Errorf("DESTINATION_PAUSE_AFTER: must not be negative (0 never pauses)")
	}
	if c.RedisPort < 1 || c.RedisPort > 65535 {
		return fmt.Errorf("REDIS_PORT: %d is not a port", c.RedisPort)
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
