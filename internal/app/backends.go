package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/auth"
	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/config"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/httpapi"
	"github.com/thamesthrive/thamesthrive/internal/identity"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/elastic"
	"github.com/thamesthrive/thamesthrive/internal/storage/local"
	"github.com/thamesthrive/thamesthrive/internal/storage/redis"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

// mergeKeys are the profile paths identity resolution merges on (MERGE_KEYS, or the
// resolver's defaults); both stores keep them indexed from the start.
func mergeKeys(cfg config.Config) []string {
	if len(cfg.MergeKeys) == 0 {
		return identity.DefaultKeys
	}
	return cfg.MergeKeys
}

// elasticConfig is the production store's configuration. The merge keys are kept in
// its key index, so that identity resolution finds a profile another replica has just
// committed.
func elasticConfig(cfg config.Config, log *slog.Logger) elastic.Config {
	keys := mergeKeys(cfg)
	return elastic.Config{Hosts: cfg.ElasticHosts, Username: cfg.ElasticUsername, Password: cfg.ElasticPassword,
		APIKey: cfg.ElasticAPIKey, CAFile: cfg.ElasticCAFile, IndexPrefix: cfg.ElasticIndexPrefix,
		Shards: cfg.ElasticShards, Replicas: cfg.ElasticReplicas, Writers: cfg.ElasticBulkWriters, RefreshInterval: cfg.ElasticRefreshInterval,
		Linger:   cfg.ElasticBulkLinger,
		KeyPaths: keys, Logger: log}
}

func openElastic(cfg config.Config, m *storeMetrics, log *slog.Logger, coord *coordination) (storage.Store, error) {
	ecfg := elasticConfig(cfg, log)
	if coord.client != nil {
		ecfg.Cache = coord.client.DocCache(0)
	}
	ecfg.OnBatch = func(commits, events int) {
		m.batches.Observe(float64(commits))
		m.events.Add(float64(events))
	}
	ecfg.OnCommit = m.observe
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := elastic.Open(ctx, ecfg)
	if err != nil {
		return nil, fmt.Errorf("ELASTIC_HOST: %w", err)
	}
	return s, nil
}

// cacheSize is the collector's profile and session cache: only a sole writer may keep
// one, so none with the shared production store. A cached profile and session take about
// 2 KB of heap together (4 KB of RSS at the default GOGC). 2,000 of each hold the
// visitors active in the last seconds to minutes of a small site (a visitor's page-views
// and clicks come in bursts) and keep the embedded server well under 100 MB of RSS with
// 100,000 stored profiles: with 5,000 the bench's peak RSS was 108-113 MB, with 2,000
// 85 MB, at the same CPU per request (docs/performance.md). A miss costs two indexed
// reads from SQLite (~45 cpu-µs with the fast document decoder).
func cacheSize(cfg config.Config) int {
	if len(cfg.ElasticHosts) > 0 {
		return 0
	}
	return 2000
}

// coordination holds the pieces that make replicas behave as one: the lock and the
// cache-invalidation bus (on Redis when REDIS_HOST is set, in-process otherwise).
type coordination struct {
	locker storage.Locker
	client *redis.Client
	bus    *redis.Bus
	log    *slog.Logger
}

// rateLimiter returns the collector's rate limiter shared through Redis, or nil (the
// API then uses its in-process one) without Redis or without a limit.
func (c *coordination) rateLimiter(cfg config.Config) httpapi.RateLimiter {
	if c.client == nil || cfg.TrackRateLimit <= 0 {
		return nil
	}
	return c.client.RateLimiter(cfg.TrackRateLimit, cfg.TrackRateBurst)
}

// loginThrottle returns the login-attempt counter shared through Redis, or nil (auth
// then counts in process).
func (c *coordination) loginThrottle() auth.Throttle {
	if c.client == nil {
		return nil
	}
	return c.client.Throttle()
}

func redisAddrs(cfg config.Config) []string {
	var out []string
	for _, h := range strings.Split(cfg.RedisHost, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(h); err != nil && !hasScheme(h) {
			h = net.JoinHostPort(h, strconv.Itoa(cfg.RedisPort))
		}
		out = append(out, h)
	}
	return out
}

func openCoordination(ctx context.Context, cfg config.Config, log *slog.Logger) (*coordination, error) {
	c := &coordination{log: log}
	if cfg.RedisHost == "" {
		if len(cfg.ElasticHosts) > 0 {
			log.Warn("redis_not_configured", "note", "locks and caches are per process: run a single replica, or set REDIS_HOST")
		}
		c.locker = local.NewLocker()
		return c, nil
	}
	client, err := redis.New(redis.Config{Addrs: redisAddrs(cfg), MasterName: cfg.RedisMasterName,
		Password: cfg.RedisPassword, KeyPrefix: cfg.ElasticIndexPrefix})
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := client.Ping(pctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("REDIS_HOST: %w", err)
	}
	if c.bus, err = client.Bus(pctx, log); err != nil {
		client.Close()
		return nil, fmt.Errorf("REDIS_HOST: subscribing to invalidations: %w", err)
	}
	c.client = client
	c.locker = client.Locker(10*time.Second, log)
	return c, nil
}

// wrap makes the store announce entity changes to every replica.
func (c *coordination) wrap(s storage.Store) storage.Store {
	if c.bus == nil {
		return s
	}
	return redis.Notifying(s, c.bus)
}

// invalidate drops cached configuration when another replica changes it: sources by
// id, other kinds wholesale. After a reconnection to Redis (kind "") everything but
// sources is dropped; sources expire by their short TTL.
func (c *coordination) invalidate(sources *collector.SourceCache, byKind map[string]func()) {
	if c.bus == nil {
		return
	}
	c.bus.OnChange(func(kind, id string) {
		if kind == domain.EntitySource {
			sources.Invalidate(id)
		}
		for k, fn := range byKind {
			if kind == "" || kind == k {
				fn()
			}
		}
	})
}

func (c *coordination) Close() {
	if c.bus != nil {
		c.bus.Close()
	}
	if c.client != nil {
		c.client.Close()
	}
}

// Migrate creates or upgrades the storage schema (`thamesthrive migrate`): the index
// templates, indices and aliases on Elasticsearch/OpenSearch, or the embedded
// database's tables.
func Migrate(ctx context.Context, cfg config.Config, log *slog.Logger, out io.Writer) error {
	if len(cfg.ElasticHosts) == 0 {
		s, err := sqlite.Open(sqlite.Config{Dir: cfg.DataDir, KeyPaths: mergeKeys(cfg), IndexedPaths: cfg.IndexedPaths, Logger: log})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "embedded store in %s is up to date\n", cfg.DataDir)
		return s.Close()
	}
	ecfg := elasticConfig(cfg, log)
	from, err := elastic.Upgrade(ctx, ecfg)
	if err != nil {
		return fmt.Errorf("ELASTIC_HOST: %w", err)
	}
	if from > 0 && from < elastic.SchemaVersion {
		fmt.Fprintf(out, "indices %s-* upgraded from schema version %d: %s\n", ecfg.IndexPrefix, from, strings.Join(elastic.SchemaChanges(from), "; "))
	}
	fmt.Fprintf(out, "indices %s-* are at schema version %d\n", ecfg.IndexPrefix, elastic.SchemaVersion)
	return nil
}

func hasScheme(h string) bool {
	return strings.HasPrefix(h, "redis://") || strings.HasPrefix(h, "rediss://")
}
