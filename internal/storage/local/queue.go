package local

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Queue is an in-memory storage.Queue for one process: the same leases, delays,
// redelivery and dead-letter list as the Redis queue, but its jobs live as long as the
// process does (the embedded, single-process setup; and tests).
type Queue struct {
	lease time.Duration
	max   int

	mu     sync.Mutex
	topics map[string]*topicQueue
	wake   chan struct{} // closed and replaced whenever a job may have become ready
}

type topicQueue struct {
	jobs []*queuedJob // in enqueue order
	dead []*storage.Job
}

type queuedJob struct {
	job         storage.Job
	due         time.Time
	leasedUntil time.Time // zero when not leased
}

// NewQueue returns an empty queue whose deliveries are leased for lease and which
// dead-letters a job after maxDeliveries deliveries.
func NewQueue(lease time.Duration, maxDeliveries int) *Queue {
	if lease <= 0 {
		lease = time.Minute
	}
	if maxDeliveries <= 0 {
		maxDeliveries = 10
	}
	return &Queue{lease: lease, max: maxDeliveries, topics: map[string]*topicQueue{}, wake: make(chan struct{})}
}

func (q *Queue) topic(name string) *topicQueue {
	t := q.topics[name]
	if t == nil {
		t = &topicQueue{}
		q.topics[name] = t
	}
	return t
}

func (q *Queue) notify() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// Enqueue implements storage.Queue.
func (q *Queue) Enqueue(ctx context.Context, topic string, payload []byte, delay time.Duration) (string, error) {
	now := time.Now()
	j := &queuedJob{job: storage.Job{ID: uuid.Must(uuid.NewV7()).String(), Topic: topic, Payload: slices.Clone(payload), Enqueued: now},
		due: now.Add(max(delay, 0))}
	q.mu.Lock()
	t := q.topic(topic)
	t.jobs = append(t.jobs, j)
	q.notify()
	q.mu.Unlock()
	return j.job.ID, nil
}

// Dequeue implements storage.Queue.
func (q *Queue) Dequeue(ctx context.Context, topic string) (*storage.Job, error) {
	for {
		q.mu.Lock()
		now := time.Now()
		t := q.topic(topic)
		next := now.Add(time.Hour)
		var got *queuedJob
		for i := 0; i < len(t.jobs); i++ {
			j := t.jobs[i]
			switch {
			case !j.leasedUntil.IsZero() && j.leasedUntil.After(now):
				next = minTime(next, j.leasedUntil)
				continue
			case !j.leasedUntil.IsZero() && j.job.Deliveries >= q.max:
				// Its last delivery's lease ran out: dead-letter it.
				t.jobs = slices.Delete(t.jobs, i, i+1)
				i--
				d := j.job
				if d.LastError == "" {
					d.LastError = fmt.Sprintf("not acknowledged within its lease after %d deliveries", d.Deliveries)
				}
				t.dead = append(t.dead, &d)
				continue
			case j.leasedUntil.IsZero() && j.due.After(now):
				next = minTime(next, j.due)
				continue
			}
			got = j
			break
		}
		if got != nil {
			got.job.Deliveries++
			got.job.Receipt = uuid.NewString()
			got.leasedUntil = now.Add(q.lease)
			out := got.job
			out.Payload = slices.Clone(out.Payload)
			q.mu.Unlock()
			return &out, nil
		}
		wake := q.wake
		q.mu.Unlock()
		timer := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// find returns the index of the leased delivery j in its topic, or -1.
func (q *Queue) find(j *storage.Job) (*topicQueue, int) {
	t := q.topic(j.Topic)
	return t, slices.IndexFunc(t.jobs, func(x *queuedJob) bool { return x.job.ID == j.ID && x.job.Receipt == j.Receipt })
}

// Ack implements storage.Queue. Acknowledging a delivery whose lease ran out and that
// was delivered again is a no-op.
func (q *Queue) Ack(ctx context.Context, j *storage.Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if t, i := q.find(j); i >= 0 {
		t.jobs = slices.Delete(t.jobs, i, i+1)
	}
	return nil
}

// Retry implements storage.Queue.
func (q *Queue) Retry(ctx context.Context, j *storage.Job, delay time.Duration, reason string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	t, i := q.find(j)
	if i < 0 {
		return nil // redelivered elsewhere already
	}
	x := t.jobs[i]
	x.job.LastError = reason
	if x.job.Deliveries >= q.max {
		t.jobs = slices.Delete(t.jobs, i, i+1)
		d := x.job
		t.dead = append(t.dead, &d)
		return nil
	}
	x.leasedUntil = time.Time{}
	x.due = time.Now().Add(max(delay, 0))
	q.notify()
	return nil
}

// Dead implements storage.Queue.
func (q *Queue) Dead(ctx context.Context, topic string, page storage.Page) ([]*storage.Job, int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	t := q.topic(topic)
	var out []*storage.Job
	for i := len(t.dead) - 1 - max(page.Offset, 0); i >= 0 && len(out) < page.Limit; i-- {
		d := *t.dead[i]
		out = append(out, &d)
	}
	return out, int64(len(t.dead)), nil
}

var _ storage.Queue = (*Queue)(nil)
