package redis

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// DocCache is the Elasticsearch store's shared cache of the latest profiles and
// sessions (storage.DocCache). A value is "<term> <seq> <document>"; setScript replaces
// it only with a newer version, so concurrent and late writers cannot make it go back.
// Entries expire after TTL: only recently active profiles and sessions are kept.
type DocCache struct {
	c   *Client
	ttl time.Duration
}

// DocCache returns the cache; entries live for ttl after their last write (15m).
func (c *Client) DocCache(ttl time.Duration) *DocCache {
	if ttl <= 0 {
		ttl = 15 * time.Minute
	}
	return &DocCache{c: c, ttl: ttl}
}

var setScript = goredis.NewScript(`
local cur = redis.call('get', KEYS[1])
if cur then
  local t, s = string.match(cur, '^(%d+) (%d+) ')
  t, s = tonumber(t), tonumber(s)
  local nt, ns = tonumber(ARGV[1]), tonumber(ARGV[2])
  if t > nt or (t == nt and s >= ns) then
    if t == nt and s == ns then redis.call('pexpire', KEYS[1], ARGV[4]) end
    return 0
  end
end
redis.call('set', KEYS[1], ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. ARGV[3], 'PX', ARGV[4])
return 1`)

func (d *DocCache) key(k string) string { return d.c.key("doc", k) }

// Get implements storage.DocCache.
func (d *DocCache) Get(ctx context.Context, key string) (storage.CachedDoc, bool, error) {
	cmd := goredis.NewStringCmd(ctx, "get", d.key(key))
	if err := d.c.pipe.do(ctx, cmd); err != nil {
		return storage.CachedDoc{}, false, err
	}
	b, err := cmd.Bytes()
	if err == goredis.Nil {
		return storage.CachedDoc{}, false, nil
	}
	if err != nil {
		return storage.CachedDoc{}, false, err
	}
	term, rest, ok1 := bytes.Cut(b, []byte(" "))
	seq, src, ok2 := bytes.Cut(rest, []byte(" "))
	t, err1 := strconv.ParseInt(string(term), 10, 64)
	s, err2 := strconv.ParseInt(string(seq), 10, 64)
	if !ok1 || !ok2 || err1 != nil || err2 != nil {
		return storage.CachedDoc{}, false, fmt.Errorf("malformed cache entry %s", key)
	}
	return storage.CachedDoc{Key: key, SeqNo: s, Term: t, Source: src}, true, nil
}

// Set implements storage.DocCache, in one round trip (shared with other callers').
func (d *DocCache) Set(ctx context.Context, docs []storage.CachedDoc) error {
	if len(docs) == 0 {
		return nil
	}
	cmds := make([]goredis.Cmder, len(docs))
	for i, doc := range docs {
		cmds[i] = goredis.NewCmd(ctx, "evalsha", setScript.Hash(), 1, d.key(doc.Key), doc.Term, doc.SeqNo, doc.Source, d.ttl.Milliseconds())
	}
	err := d.c.pipe.do(ctx, cmds...)
	if err != nil && goredis.HasErrorPrefix(err, "NOSCRIPT") {
		if err := setScript.Load(ctx, d.c.rdb).Err(); err != nil {
			return err
		}
		return d.Set(ctx, docs)
	}
	return err
}

// Delete implements storage.DocCache.
func (d *DocCache) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = d.key(k)
	}
	cmds := make([]goredis.Cmder, len(full))
	for i, k := range full { // one DEL per key: keys of a Cluster live in different slots
		cmds[i] = goredis.NewIntCmd(ctx, "del", k)
	}
	return d.c.pipe.do(ctx, cmds...)
}

var _ storage.DocCache = (*DocCache)(nil)
