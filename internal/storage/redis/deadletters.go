package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Bury implements storage.DeadLetters: the delivery j ends in its topic's dead-letter
// list with reason.
func (q *Queue) Bury(ctx context.Context, j *storage.Job, reason string) error {
	msgID, _ := parseReceipt(j)
	back := &queued{ID: j.ID, Payload: j.Payload, Enqueued: j.Enqueued.UnixMilli(), Prior: j.Deliveries, Error: reason}
	return q.settle(ctx, j.Topic, msgID, back, "dead", time.Time{})
}

// replayScript moves the dead letters with id ARGV[1] (all when empty) back into the
// stream, their deliveries counted from zero and their age from ARGV[2].
var replayScript = goredis.NewScript(`
local items = redis.call('lrange', KEYS[1], 0, -1)
local n = 0
for _, m in ipairs(items) do
  local j = cjson.decode(m)
  if ARGV[1] == '' or j.id == ARGV[1] then
    redis.call('lrem', KEYS[1], 1, m)
    j.prior = 0
    j.enqueued = tonumber(ARGV[2])
    redis.call('xadd', KEYS[2], '*', 'j', cjson.encode(j))
    n = n + 1
  end
end
return n`)

// Replay implements storage.DeadLetters.
func (q *Queue) Replay(ctx context.Context, topic, id string) (int, error) {
	if err := q.ensureGroup(ctx, topic); err != nil {
		return 0, err
	}
	k := q.keys(topic)
	n, err := replayScript.Run(ctx, q.c.rdb, []string{k.dead, k.stream}, id, time.Now().UnixMilli()).Int()
	if err != nil {
		return 0, unavailable("replaying dead letters of "+topic, err)
	}
	if id != "" && n == 0 {
		return 0, fmt.Errorf("dead letter %q of %s: %w", id, topic, storage.ErrNotFound)
	}
	return n, nil
}

// Depth implements storage.DeadLetters: jobs in the stream (due or leased) and
// waiting in the delay set.
func (q *Queue) Depth(ctx context.Context, topic string) (int64, error) {
	k := q.keys(topic)
	pipe := q.c.rdb.Pipeline()
	xl := pipe.XLen(ctx, k.stream)
	zc := pipe.ZCard(ctx, k.delayed)
	if _, err := pipe.Exec(ctx); err != nil && err != goredis.Nil {
		return 0, unavailable("counting jobs of "+topic, err)
	}
	return xl.Val() + zc.Val(), nil
}

// DeliveryLog is a storage.DeliveryLog on Redis: per destination a list of the last
// attempts (LPUSH, LTRIM) and a hash of what was last delivered per profile.
type DeliveryLog struct {
	c    *Client
	keep int64
}

// DeliveryLog returns the delivery log, keeping keep attempts per destination (1000).
func (c *Client) DeliveryLog(keep int) *DeliveryLog {
	if keep <= 0 {
		keep = 1000
	}
	return &DeliveryLog{c: c, keep: int64(keep)}
}

func (d *DeliveryLog) logKey(dest string) string  { return d.c.key("dlog", dest) }
func (d *DeliveryLog) lastKey(dest string) string { return d.c.key("dlast", dest) }

// Record implements storage.DeliveryLog.
func (d *DeliveryLog) Record(ctx context.Context, as []storage.DeliveryAttempt) error {
	if len(as) == 0 {
		return nil
	}
	pipe := d.c.rdb.Pipeline()
	for i := range as {
		b, _ := json.Marshal(&as[i])
		pipe.LPush(ctx, d.logKey(as[i].Destination), b)
		pipe.LTrim(ctx, d.logKey(as[i].Destination), 0, d.keep-1)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return unavailable("recording deliveries", err)
	}
	return nil
}

// List implements storage.DeliveryLog.
func (d *DeliveryLog) List(ctx context.Context, dest string, page storage.Page) ([]storage.DeliveryAttempt, int64, error) {
	total, err := d.c.rdb.LLen(ctx, d.logKey(dest)).Result()
	if err != nil {
		return nil, 0, unavailable("reading the delivery log", err)
	}
	out := []storage.DeliveryAttempt{}
	if page.Limit <= 0 {
		return out, total, nil
	}
	items, err := d.c.rdb.LRange(ctx, d.logKey(dest), int64(page.Offset), int64(page.Offset+page.Limit-1)).Result()
	if err != nil {
		return nil, 0, unavailable("reading the delivery log", err)
	}
	for _, s := range items {
		var a storage.DeliveryAttempt
		if json.Unmarshal([]byte(s), &a) == nil {
			out = append(out, a)
		}
	}
	return out, total, nil
}

// Last implements storage.DeliveryLog.
func (d *DeliveryLog) Last(ctx context.Context, dest, subject string) (string, string, error) {
	v, err := d.c.rdb.HGet(ctx, d.lastKey(dest), subject).Result()
	if err == goredis.Nil {
		return "", "", nil
	}
	if err != nil {
		return "", "", unavailable("reading the last delivery", err)
	}
	var l struct{ V, H string }
	json.Unmarshal([]byte(v), &l)
	return l.V, l.H, nil
}

// setLastScript records ARGV[2] (a JSON {V, H}) for field ARGV[1] unless a later
// version (ARGV[3]) is recorded.
var setLastScript = goredis.NewScript(`
local cur = redis.call('hget', KEYS[1], ARGV[1])
if cur then
  local c = cjson.decode(cur)
  if c.V > ARGV[3] then return 0 end
end
redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
return 1`)

// SetLast implements storage.DeliveryLog.
func (d *DeliveryLog) SetLast(ctx context.Context, dest, subject, version, hash string) error {
	b, _ := json.Marshal(struct{ V, H string }{version, hash})
	if err := setLastScript.Run(ctx, d.c.rdb, []string{d.lastKey(dest)}, subject, b, version).Err(); err != nil {
		return unavailable("recording the last delivery", err)
	}
	return nil
}

var (
	_ storage.DeadLetters = (*Queue)(nil)
	_ storage.DeliveryLog = (*DeliveryLog)(nil)
)
