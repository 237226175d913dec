package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Queue is a storage.Queue on Redis Streams. Each topic is a stream read through one
// consumer group: XREADGROUP hands a new job to one consumer and records it as pending
// for that consumer; XACK+XDEL ends it. A pending job whose consumer did not finish it
// within the lease is taken over by the next Dequeue anywhere (XAUTOCLAIM), which
// counts the delivery; past MaxDeliveries it moves to the topic's dead-letter list.
// Delayed jobs (Enqueue with a delay, Retry) wait in a sorted set scored by due time
// and are moved into the stream when due. A topic's keys share one hash tag, so the
// scripts that move jobs between them work on Redis Cluster too.
//
// Redis must persist (appendonly, or replication to a replica that survives) for the
// queue to be durable across a Redis restart; the queue is durable across the loss of
// any ThamesThrive process.
type Queue struct {
	c        *Client
	o        QueueOptions
	consumer string
	groups   sync.Map // topics whose group exists
}

// QueueOptions configure a Queue.
type QueueOptions struct {
	// Lease is how long a delivered job is reserved for its consumer (1m).
	Lease time.Duration
	// MaxDeliveries is how often a job is delivered before it is dead-lettered (10).
	MaxDeliveries int
	// Poll bounds how long one blocking read waits, and so how late a delayed job or
	// an expired lease is noticed (250ms).
	Poll time.Duration
}

const group = "workers"

// Queue returns the queue.
func (c *Client) Queue(o QueueOptions) *Queue {
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.MaxDeliveries <= 0 {
		o.MaxDeliveries = 10
	}
	if o.Poll <= 0 {
		o.Poll = min(250*time.Millisecond, o.Lease/2)
	}
	host, _ := os.Hostname()
	return &Queue{c: c, o: o, consumer: fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randomToken()[:8])}
}

type topicKeys struct{ stream, delayed, dead string }

func (q *Queue) keys(topic string) topicKeys {
	base := q.c.key("q", "{"+topic+"}")
	return topicKeys{stream: base + ":stream", delayed: base + ":delayed", dead: base + ":dead"}
}

// queued is a job as stored in the stream, the delay set and the dead-letter list.
type queued struct {
	ID       string `json:"id"`
	Payload  []byte `json:"payload"`
	Enqueued int64  `json:"enqueued"` // unix milliseconds
	Prior    int    `json:"prior"`    // deliveries before it was last put back
	Error    string `json:"error,omitempty"`
}

func (q *Queue) ensureGroup(ctx context.Context, topic string) error {
	if _, ok := q.groups.Load(topic); ok {
		return nil
	}
	err := q.c.rdb.XGroupCreateMkStream(ctx, q.keys(topic).stream, group, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("creating consumer group of %s: %w: %w", topic, storage.ErrUnavailable, err)
	}
	q.groups.Store(topic, true)
	return nil
}

func unavailable(what string, err error) error {
	return fmt.Errorf("%s: %w: %w", what, storage.ErrUnavailable, err)
}

// Enqueue implements storage.Queue.
func (q *Queue) Enqueue(ctx context.Context, topic string, payload []byte, delay time.Duration) (string, error) {
	if err := q.ensureGroup(ctx, topic); err != nil {
		return "", err
	}
	now := time.Now()
	j := queued{ID: uuid.Must(uuid.NewV7()).String(), Payload: payload, Enqueued: now.UnixMilli()}
	b, _ := json.Marshal(j)
	k := q.keys(topic)
	var err error
	if delay > 0 {
		err = q.c.rdb.ZAdd(ctx, k.delayed, goredis.Z{Score: float64(now.Add(delay).UnixMilli()), Member: b}).Err()
	} else {
		err = q.c.rdb.XAdd(ctx, &goredis.XAddArgs{Stream: k.stream, Values: []any{"j", b}}).Err()
	}
	if err != nil {
		return "", unavailable("enqueueing to "+topic, err)
	}
	return j.ID, nil
}

// promoteScript moves due delayed jobs into the stream.
var promoteScript = goredis.NewScript(`
local due = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, m in ipairs(due) do
  redis.call('xadd', KEYS[2], '*', 'j', m)
  redis.call('zrem', KEYS[1], m)
end
return #due`)

// settleScript ends a delivery (if it is still pending) and, by mode, drops the job
// ("ack"), puts it back now ("now") or later ("later", at ARGV[4]) or dead-letters it
// ("dead"). ARGV[2] is the job as it is to be stored.
var settleScript = goredis.NewScript(`
if redis.call('xack', KEYS[1], '` + group + `', ARGV[1]) == 0 then return 0 end
redis.call('xdel', KEYS[1], ARGV[1])
if ARGV[3] == 'dead' then redis.call('lpush', KEYS[3], ARGV[2])
elseif ARGV[3] == 'later' then redis.call('zadd', KEYS[2], ARGV[4], ARGV[2])
elseif ARGV[3] == 'now' then redis.call('xadd', KEYS[1], '*', 'j', ARGV[2]) end
return 1`)

func (q *Queue) settle(ctx context.Context, topic, msgID string, j *queued, mode string, due time.Time) error {
	k := q.keys(topic)
	var b []byte
	if j != nil {
		b, _ = json.Marshal(j)
	}
	err := settleScript.Run(ctx, q.c.rdb, []string{k.stream, k.delayed, k.dead}, msgID, b, mode, due.UnixMilli()).Err()
	if err != nil {
		return unavailable("settling job of "+topic, err)
	}
	return nil
}

func decodeMessage(m goredis.XMessage) (*queued, error) {
	s, _ := m.Values["j"].(string)
	var j queued
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return nil, fmt.Errorf("decoding job %s: %w", m.ID, err)
	}
	return &j, nil
}

func (q *Queue) job(topic string, m goredis.XMessage, j *queued, deliveries int) *storage.Job {
	return &storage.Job{ID: j.ID, Topic: topic, Payload: j.Payload, Enqueued: time.UnixMilli(j.Enqueued),
		Deliveries: deliveries, LastError: j.Error, Receipt: m.ID + "/" + strconv.Itoa(j.Prior)}
}

// Dequeue implements storage.Queue.
func (q *Queue) Dequeue(ctx context.Context, topic string) (*storage.Job, error) {
	if err := q.ensureGroup(ctx, topic); err != nil {
		return nil, err
	}
	k := q.keys(topic)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := promoteScript.Run(ctx, q.c.rdb, []string{k.delayed, k.stream}, time.Now().UnixMilli()).Err(); err != nil {
			return nil, q.fail(ctx, "promoting delayed jobs", err)
		}
		// A job whose consumer let its lease run out.
		msgs, _, err := q.c.rdb.XAutoClaim(ctx, &goredis.XAutoClaimArgs{Stream: k.stream, Group: group,
			MinIdle: q.o.Lease, Start: "0-0", Count: 1, Consumer: q.consumer}).Result()
		if err != nil {
			return nil, q.fail(ctx, "claiming stuck jobs", err)
		}
		for _, m := range msgs {
			j, err := decodeMessage(m)
			if err != nil {
				q.settle(ctx, topic, m.ID, nil, "ack", time.Time{})
				continue
			}
			pend, err := q.c.rdb.XPendingExt(ctx, &goredis.XPendingExtArgs{Stream: k.stream, Group: group,
				Start: m.ID, End: m.ID, Count: 1}).Result()
			if err != nil {
				return nil, q.fail(ctx, "reading deliveries", err)
			}
			n := 1
			if len(pend) == 1 {
				n = int(pend[0].RetryCount)
			}
			deliveries := j.Prior + n
			if deliveries > q.o.MaxDeliveries {
				if j.Error == "" {
					j.Error = fmt.Sprintf("not acknowledged within its lease after %d deliveries", deliveries-1)
				}
				j.Prior = deliveries - 1
				if err := q.settle(ctx, topic, m.ID, j, "dead", time.Time{}); err != nil {
					return nil, err
				}
				continue
			}
			return q.job(topic, m, j, deliveries), nil
		}
		if len(msgs) > 0 {
			continue
		}
		block := q.o.Poll
		if d, ok := ctx.Deadline(); ok {
			block = min(block, time.Until(d))
		}
		if block < time.Millisecond {
			return nil, context.DeadlineExceeded
		}
		streams, err := q.c.rdb.XReadGroup(ctx, &goredis.XReadGroupArgs{Group: group, Consumer: q.consumer,
			Streams: []string{k.stream, ">"}, Count: 1, Block: block}).Result()
		if errors.Is(err, goredis.Nil) {
			continue
		}
		if err != nil {
			return nil, q.fail(ctx, "reading jobs", err)
		}
		for _, st := range streams {
			for _, m := range st.Messages {
				j, err := decodeMessage(m)
				if err != nil {
					q.settle(ctx, topic, m.ID, nil, "ack", time.Time{})
					continue
				}
				return q.job(topic, m, j, j.Prior+1), nil
			}
		}
	}
}

func (q *Queue) fail(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if strings.Contains(err.Error(), "NOGROUP") {
		q.groups.Clear() // the stream was deleted: make the group again
	}
	return unavailable(what, err)
}

func parseReceipt(j *storage.Job) (msgID string, prior int) {
	id, p, _ := strings.Cut(j.Receipt, "/")
	prior, _ = strconv.Atoi(p)
	return id, prior
}

// Ack implements storage.Queue.
func (q *Queue) Ack(ctx context.Context, j *storage.Job) error {
	msgID, _ := parseReceipt(j)
	return q.settle(ctx, j.Topic, msgID, nil, "ack", time.Time{})
}

// Retry implements storage.Queue.
func (q *Queue) Retry(ctx context.Context, j *storage.Job, delay time.Duration, reason string) error {
	msgID, _ := parseReceipt(j)
	back := &queued{ID: j.ID, Payload: j.Payload, Enqueued: j.Enqueued.UnixMilli(), Prior: j.Deliveries, Error: reason}
	switch {
	case j.Deliveries >= q.o.MaxDeliveries:
		return q.settle(ctx, j.Topic, msgID, back, "dead", time.Time{})
	case delay > 0:
		return q.settle(ctx, j.Topic, msgID, back, "later", time.Now().Add(delay))
	default:
		return q.settle(ctx, j.Topic, msgID, back, "now", time.Time{})
	}
}

// Dead implements storage.Queue.
func (q *Queue) Dead(ctx context.Context, topic string, page storage.Page) ([]*storage.Job, int64, error) {
	k := q.keys(topic)
	total, err := q.c.rdb.LLen(ctx, k.dead).Result()
	if err != nil {
		return nil, 0, unavailable("reading dead letters", err)
	}
	if page.Limit <= 0 {
		return []*storage.Job{}, total, nil
	}
	items, err := q.c.rdb.LRange(ctx, k.dead, int64(page.Offset), int64(page.Offset+page.Limit-1)).Result()
	if err != nil {
		return nil, 0, unavailable("reading dead letters", err)
	}
	out := make([]*storage.Job, 0, len(items))
	for _, s := range items {
		var j queued
		if json.Unmarshal([]byte(s), &j) != nil {
			continue
		}
		out = append(out, &storage.Job{ID: j.ID, Topic: topic, Payload: j.Payload, Enqueued: time.UnixMilli(j.Enqueued),
			Deliveries: j.Prior, LastError: j.Error})
	}
	return out, total, nil
}

var _ storage.Queue = (*Queue)(nil)
