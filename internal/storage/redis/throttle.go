package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Throttle counts attempts per key in fixed windows shared by every replica (the login
// throttle of internal/auth): a counter that expires with its window.
type Throttle struct{ c *Client }

// Throttle returns the shared attempt counter.
func (c *Client) Throttle() *Throttle { return &Throttle{c: c} }

// hitScript increments the counter, starts the window on the first attempt, and answers
// the count and the milliseconds left in the window.
var hitScript = goredis.NewScript(`
local n = redis.call('incr', KEYS[1])
if n == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end
local ttl = redis.call('pttl', KEYS[1])
if ttl < 0 then redis.call('pexpire', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`)

// Hit counts one attempt for key in a window of the given length.
func (t *Throttle) Hit(ctx context.Context, key string, window time.Duration) (int, time.Duration, error) {
	res, err := hitScript.Run(ctx, t.c.rdb, []string{t.c.key("throttle", key)}, window.Milliseconds()).Int64Slice()
	if err != nil || len(res) != 2 {
		return 0, 0, fmt.Errorf("counting attempts: %w: %w", storage.ErrUnavailable, err)
	}
	return int(res[0]), time.Duration(res[1]) * time.Millisecond, nil
}

// Reset forgets the attempts of key.
func (t *Throttle) Reset(ctx context.Context, key string) error {
	if err := t.c.rdb.Del(ctx, t.c.key("throttle", key)).Err(); err != nil {
		return fmt.Errorf("resetting attempts: %w: %w", storage.ErrUnavailable, err)
	}
	return nil
}
