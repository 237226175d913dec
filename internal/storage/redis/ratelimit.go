package redis

import (
	"context"
	"fmt"
	"math"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// RateLimiter is a rate limit shared by every replica: a limit of r requests per second
// with bursts of b per key (a client address, an event source) holds for the
// deployment as a whole, where a per-process limiter behind N round-robin replicas lets
// N times as much through. It is the generic cell rate algorithm: one key per client
// holding its "theoretical arrival time", updated by one Lua script on Redis's clock,
// so the replicas' clocks do not matter.
type RateLimiter struct {
	c     *Client
	rate  float64
	burst int
}

// RateLimiter returns a limiter of perSecond requests per key with bursts of burst.
func (c *Client) RateLimiter(perSecond float64, burst int) *RateLimiter {
	if burst < 1 {
		burst = max(1, int(perSecond))
	}
	return &RateLimiter{c: c, rate: perSecond, burst: burst}
}

var gcraScript = goredis.NewScript(`
local t = redis.call('time')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local limit = interval * tonumber(ARGV[2])
local tat = tonumber(redis.call('get', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat + interval - limit - now
if wait > 0 then return wait end
redis.call('set', KEYS[1], string.format('%.0f', tat + interval), 'PX', math.ceil(limit / 1000) + 1)
return 0`)

// Allow reports whether key may make a request now; if not, how long until it may.
func (l *RateLimiter) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	if l.rate <= 0 {
		return true, 0, nil
	}
	interval := math.Max(1, math.Round(1e6/l.rate)) // microseconds per request
	wait, err := gcraScript.Run(ctx, l.c.rdb, []string{l.c.key("rate", key)}, interval, l.burst).Int64()
	if err != nil {
		return false, 0, fmt.Errorf("checking rate limit: %w: %w", storage.ErrUnavailable, err)
	}
	if wait > 0 {
		return false, time.Duration(wait) * time.Microsecond, nil
	}
	return true, 0, nil
}
