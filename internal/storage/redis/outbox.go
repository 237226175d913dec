package redis

import (
	"context"
	"encoding/json"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// SweptTTL is how long Put remembers an item it queued, refusing to queue it again
// (docs/architecture.md: a second sweep of the same outbox document adds nothing).
const SweptTTL = 24 * time.Hour

// putScript queues a job once: it sets the marker KEYS[1] if absent and only then adds
// the job to the stream KEYS[2] (ARGV[3] = 0) or to the delay set KEYS[3] at ARGV[3].
// The marker and the add are one atomic step, so a crash or a race between two
// sweepers can never queue the item twice, nor mark it without queueing it.
var putScript = goredis.NewScript(`
if not redis.call('set', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then return 0 end
if ARGV[3] == '0' then redis.call('xadd', KEYS[2], '*', 'j', ARGV[1])
else redis.call('zadd', KEYS[3], ARGV[3], ARGV[1]) end
return 1`)

// Put queues work items under their own ids (their idempotency keys), each at most
// once while its marker lives (SweptTTL), and says how many were new. It is how the
// sweeper moves the production store's outbox into the queue.
func (q *Queue) Put(ctx context.Context, items []*storage.WorkItem) (int, error) {
	now := time.Now()
	added := 0
	pipe := q.c.rdb.Pipeline()
	cmds := make([]*goredis.Cmd, 0, len(items))
	for _, it := range items {
		if err := q.ensureGroup(ctx, it.Topic); err != nil {
			return 0, err
		}
		b, _ := json.Marshal(queued{ID: it.ID, Payload: it.Payload, Enqueued: now.UnixMilli()})
		due := int64(0)
		if it.Delay > 0 {
			due = now.Add(it.Delay).UnixMilli()
		}
		k := q.keys(it.Topic)
		marker := q.c.key("q", "{"+it.Topic+"}", "swept", it.ID)
		cmds = append(cmds, putScript.Eval(ctx, pipe, []string{marker, k.stream, k.delayed}, b, int64(SweptTTL/time.Second), due))
	}
	if len(cmds) == 0 {
		return 0, nil
	}
	if _, err := pipe.Exec(ctx); err != nil && err != goredis.Nil {
		return 0, unavailable("queueing swept work", err)
	}
	for _, c := range cmds {
		if n, _ := c.Int(); n == 1 {
			added++
		}
	}
	return added, nil
}
