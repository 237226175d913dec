// Package redis holds the coordination pieces of storage for deployments of many
// replicas, on Redis: the per-key lock (Locker), the cache-invalidation bus that keeps
// every replica's configuration caches fresh (Bus, Notifying), and a durable
// at-least-once job queue on Redis Streams (Queue). It uses go-redis's UniversalClient,
// so a single server, Sentinel (with a master name) or Cluster (several addresses)
// work alike; every multi-key operation keeps its keys in one hash slot.
package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Config says how to reach Redis.
type Config struct {
	// Addrs are host:port addresses: one for a single server; several for a Cluster,
	// or for Sentinels when MasterName is set. A single redis:// or rediss:// URL is
	// accepted too.
	Addrs      []string
	MasterName string
	Username   string
	Password   string
	DB         int
	// KeyPrefix starts every key and channel name ("thamesthrive").
	KeyPrefix string
}

// Client is a connection pool to Redis shared by the pieces of this package.
type Client struct {
	rdb    goredis.UniversalClient
	pipe   *autoPipe // the small commands of /track (locks, cached documents), sent together
	prefix string
}

// New returns a client; it does not connect until used (see Ping).
func New(cfg Config) (*Client, error) {
	if len(cfg.Addrs) == 0 {
		return nil, fmt.Errorf("REDIS_HOST: no address given")
	}
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = "thamesthrive"
	}
	opts := &goredis.UniversalOptions{Addrs: cfg.Addrs, MasterName: cfg.MasterName, Username: cfg.Username,
		Password: cfg.Password, DB: cfg.DB}
	if a := cfg.Addrs[0]; len(cfg.Addrs) == 1 && (strings.HasPrefix(a, "redis://") || strings.HasPrefix(a, "rediss://")) {
		u, err := goredis.ParseURL(a)
		if err != nil {
			return nil, fmt.Errorf("REDIS_HOST: %w", err)
		}
		opts = &goredis.UniversalOptions{Addrs: []string{u.Addr}, Username: u.Username, Password: u.Password, DB: u.DB,
			TLSConfig: u.TLSConfig}
		if cfg.Password != "" {
			opts.Password = cfg.Password
		}
	}
	// Every queue consumer holds a connection while its XREADGROUP blocks (up to the
	// queue's Poll), and a worker runs one consumer per unit of each destination's
	// concurrency: the default pool (10 per CPU) would make idle destinations' reads
	// hold up busy ones. Connections are opened only when needed.
	opts.PoolSize = max(256, 10*runtime.GOMAXPROCS(0))
	// RESP2: nothing here needs RESP3's push messages, and without them go-redis does
	// not peek at the socket for pending notifications around commands.
	opts.Protocol = 2
	rdb := goredis.NewUniversalClient(opts)
	return &Client{rdb: rdb, pipe: newAutoPipe(rdb), prefix: cfg.KeyPrefix}, nil
}

// Ping reports whether Redis answers.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("pinging redis: %w: %w", storage.ErrUnavailable, err)
	}
	return nil
}

// Close closes the pool.
func (c *Client) Close() error {
	c.pipe.close()
	return c.rdb.Close()
}

func (c *Client) key(parts ...string) string {
	switch len(parts) { // one allocation for the keys of every request (lock, cached document)
	case 1:
		return c.prefix + ":" + parts[0]
	case 2:
		return c.prefix + ":" + parts[0] + ":" + parts[1]
	}
	return c.prefix + ":" + strings.Join(parts, ":")
}

func randomToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Drop deletes every key under the client's prefix (tests and tools; on a Cluster only
// the keys of the node answering SCAN).
func (c *Client) Drop(ctx context.Context) error {
	iter := c.rdb.Scan(ctx, 0, c.prefix+":*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return err
	}
	for _, k := range keys {
		if err := c.rdb.Del(ctx, k).Err(); err != nil {
			return err
		}
	}
	return nil
}
