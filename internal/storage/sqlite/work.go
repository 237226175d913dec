package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// The work queue of the embedded store. Its rows live in the work table of the same
// SQLite file, and a Commit's work items are inserted in the transaction of its
// documents (the transactional outbox): once /track is answered, its deliveries are
// queued. Leases are kept in memory: the embedded store has one process, so when that
// process dies every lease dies with it and all rows are due again at start-up, which
// is what a lease running out means. Acknowledgements, retries and dead-lettering go
// through the writer goroutine and so share its group commits.

const sqlInsertWork = `INSERT OR IGNORE INTO work(id, topic, payload, enqueued, due, deliveries, last_error) VALUES(?,?,?,?,?,0,'')`

// QueueOptions configure the embedded work queue.
type QueueOptions struct {
	// Lease is how long a delivered job is reserved for its consumer (2m).
	Lease time.Duration
	// MaxDeliveries is how often a job is delivered before it is dead-lettered (10).
	MaxDeliveries int
	// Poll bounds how long Dequeue waits before it looks at the table again (5s);
	// new work and retries wake it at once.
	Poll time.Duration
}

// Queue is a storage.Queue (and storage.DeadLetters) on the work table.
type Queue struct {
	s *Store
	o QueueOptions

	mu     sync.Mutex
	topics map[string]*workTopic

	reads atomic.Int64 // reads of due work (for tests)
}

type workTopic struct {
	leased map[string]*lease // by job id
	ready  []workRow         // due rows read, not yet taken
	// settled records when a job was retried or buried: a row of it read before then
	// is stale (its due time or existence changed) and is not taken.
	settled map[string]time.Time
	// The last row read: reads continue after it (new, retried and replayed work is
	// due later), and start over when they find nothing or a lease ran out, so rows
	// acknowledged but not yet deleted are not read again and again.
	cursorDue, cursorSeq int64
	wake                 chan struct{} // closed and replaced when the topic may have work
	// wakeAt is when the last consumer that found nothing due reads again by itself
	// (after MIN(due) of the stored work, or the poll): new work due later than that
	// wakes nobody, since that consumer reads it in time (a session's end check, due
	// SESSION_TIMEOUT after every new session, woke the consumer for two reads each).
	wakeAt time.Time
}

type lease struct {
	seq        int64 // the row: a row given the same id later is another job
	receipt    string
	until      time.Time
	deliveries int
	done       bool // acknowledged; kept until its deletion is surely visible
}

// Queue returns the store's work queue; the options of the first call apply.
func (s *Store) Queue(o QueueOptions) *Queue {
	if q := s.wq.Load(); q != nil {
		return q
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.MaxDeliveries <= 0 {
		o.MaxDeliveries = 10
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	q := &Queue{s: s, o: o, topics: map[string]*workTopic{}}
	if s.wq.CompareAndSwap(nil, q) {
		return q
	}
	return s.wq.Load()
}

func (q *Queue) topic(name string) *workTopic {
	t := q.topics[name]
	if t == nil {
		t = &workTopic{leased: map[string]*lease{}, settled: map[string]time.Time{}, wake: make(chan struct{})}
		q.topics[name] = t
	}
	return t
}

func (q *Queue) notify(topic string) {
	q.mu.Lock()
	t := q.topic(topic)
	close(t.wake)
	t.wake = make(chan struct{})
	q.mu.Unlock()
}

// writeWork inserts the batch's work items (in the writer's transaction).
func (s *Store) writeWork(ctx context.Context, tx *sql.Tx, batch []*commitReq) error {
	var st *sql.Stmt
	now := time.Now()
	for _, r := range batch {
		for _, w := range r.work {
			if w.Replanned {
				// Derived again from an event this file has: the event was committed in
				// the transaction of its own work, which is queued or done already.
				continue
			}
			if st == nil {
				st = tx.Stmt(s.insertWork)
			}
			if _, err := st.ExecContext(ctx, w.ID, w.Topic, w.Payload, now.UnixMilli(), now.Add(max(w.Delay, 0)).UnixMilli()); err != nil {
				return err
			}
		}
	}
	return nil
}

// workWritten wakes the consumers of topics that got work due before they would
// read again anyway (workTopic.wakeAt).
func (s *Store) workWritten(batch []*commitReq) {
	q := s.wq.Load()
	if q == nil {
		return
	}
	now := time.Now()
	var woken map[string]bool // made on the first wake: most batches carry no work
	for _, r := range batch {
		for _, w := range r.work {
			if woken[w.Topic] || w.Replanned {
				continue
			}
			q.mu.Lock()
			t := q.topic(w.Topic)
			if w.Delay <= 0 || now.Add(w.Delay).Before(t.wakeAt) {
				close(t.wake)
				t.wake = make(chan struct{})
				if woken == nil {
					woken = map[string]bool{}
				}
				woken[w.Topic] = true
			}
			q.mu.Unlock()
		}
	}
}

// runOps runs the work queue's requests in one transaction; each request learns its
// own statements' error or the commit's.
func (s *Store) runOps(reqs []*commitReq) {
	ctx := context.Background()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		for _, r := range reqs {
			r.result <- fmt.Errorf("work queue: %w: %v", storage.ErrUnavailable, err)
		}
		return
	}
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		for _, op := range r.ops {
			if err := op(tx); err != nil {
				errs[i] = err
				break
			}
		}
	}
	if err := tx.Commit(); err != nil {
		for i := range errs {
			errs[i] = fmt.Errorf("work queue: %w: %v", storage.ErrUnavailable, err)
		}
	}
	for i, r := range reqs {
		r.result <- errs[i]
	}
}

// exec hands statements to the writer; wait says whether to wait for their commit.
func (s *Store) exec(ctx context.Context, wait bool, ops ...func(tx *sql.Tx) error) error {
	req := &commitReq{ops: ops, result: make(chan error, 1)}
	select {
	case <-s.stop:
		return fmt.Errorf("store closed: %w", storage.ErrUnavailable)
	default:
	}
	select {
	case s.queue <- req:
	case <-s.done:
		return fmt.Errorf("store closed: %w", storage.ErrUnavailable)
	case <-ctx.Done():
		return ctx.Err()
	}
	if !wait {
		return nil
	}
	select {
	case err := <-req.result:
		return err
	case <-s.done:
		select {
		case err := <-req.result:
			return err
		default:
			return fmt.Errorf("store closed: %w", storage.ErrUnavailable)
		}
	}
}

// Enqueue implements storage.Queue.
func (q *Queue) Enqueue(ctx context.Context, topic string, payload []byte, delay time.Duration) (string, error) {
	id := uuid.Must(uuid.NewV7()).String()
	err := q.s.Commit(ctx, &storage.Batch{Work: []*storage.WorkItem{{ID: id, Topic: topic, Payload: payload, Delay: delay}}})
	if err != nil {
		return "", err
	}
	return id, nil
}

type workRow struct {
	read       time.Time // when the read that returned it began
	seq        int64
	id         string
	payload    []byte
	enqueued   int64
	deliveries int
	lastError  string
}

// Dequeue implements storage.Queue.
func (q *Queue) Dequeue(ctx context.Context, topic string) (*storage.Job, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q.mu.Lock()
		wake := q.topic(topic).wake
		q.mu.Unlock()
		j, wait, err := q.try(ctx, topic)
		if err != nil || j != nil {
			return j, err
		}
		timer := time.NewTimer(wait)
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

// try leases the first due job of topic that nobody holds, or says how long to wait.
// Due rows are read 64 at a time into the topic's ready list, from which consumers
// take them, so that most Dequeues read nothing.
func (q *Queue) try(ctx context.Context, topic string) (*storage.Job, time.Duration, error) {
	now := time.Now()
	// Until this read has decided how long to wait, work due within the longest wait
	// wakes the consumer (it closes the wake channel Dequeue holds), so that nothing
	// committed during the read is slept past.
	q.mu.Lock()
	q.topic(topic).wakeAt = now.Add(q.o.Poll)
	q.mu.Unlock()
	if j, dead := q.take(topic, now); j != nil || len(dead) > 0 {
		for _, d := range dead {
			if err := q.bury(ctx, d, d.LastError); err != nil {
				return nil, 0, err
			}
		}
		if j != nil {
			return j, 0, nil
		}
	}
	q.mu.Lock()
	t := q.topic(topic)
	cd, cs := t.cursorDue, t.cursorSeq
	q.mu.Unlock()
	q.reads.Add(1)
	rows, err := q.s.r.QueryContext(ctx, `SELECT seq, id, payload, enqueued, deliveries, last_error, due FROM work
		WHERE topic = ? AND due <= ? AND (due, seq) > (?, ?) ORDER BY due, seq LIMIT 64`, topic, now.UnixMilli(), cd, cs)
	if err != nil {
		return nil, 0, q.fail(ctx, "reading work", err)
	}
	var due []workRow
	var lastDue int64
	for rows.Next() {
		w := workRow{read: now}
		if err := rows.Scan(&w.seq, &w.id, &w.payload, &w.enqueued, &w.deliveries, &w.lastError, &lastDue); err != nil {
			rows.Close()
			return nil, 0, q.fail(ctx, "reading work", err)
		}
		due = append(due, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, q.fail(ctx, "reading work", err)
	}
	q.mu.Lock()
	t.ready = append(t.ready, due...)
	if len(due) > 0 {
		t.cursorDue, t.cursorSeq = lastDue, due[len(due)-1].seq
	} else {
		t.cursorDue, t.cursorSeq = 0, 0
	}
	wait := q.o.Poll
	for id, at := range t.settled {
		if now.Sub(at) > 10*time.Second {
			delete(t.settled, id)
		}
	}
	for id, l := range t.leased {
		switch {
		case l.done && now.After(l.until):
			delete(t.leased, id) // its deletion is visible to every later read
		case !l.done && now.After(l.until):
			t.cursorDue, t.cursorSeq = 0, 0 // read its row again
		case !l.done:
			wait = min(wait, max(l.until.Sub(now), time.Millisecond))
		}
	}
	q.mu.Unlock()
	j, dead := q.take(topic, now)
	for _, d := range dead {
		if err := q.bury(ctx, d, d.LastError); err != nil {
			return nil, 0, err
		}
	}
	if j != nil {
		return j, 0, nil
	}
	if len(due) == 0 && cd == 0 && cs == 0 {
		var next sql.NullInt64
		if err := q.s.r.QueryRowContext(ctx, `SELECT MIN(due) FROM work WHERE topic = ? AND due > ?`, topic, now.UnixMilli()).Scan(&next); err != nil {
			return nil, 0, q.fail(ctx, "reading work", err)
		}
		if next.Valid {
			wait = min(wait, max(time.Until(time.UnixMilli(next.Int64)), time.Millisecond))
		}
	} else {
		wait = time.Millisecond // read on (or again from the start)
	}
	q.mu.Lock()
	if t := q.topic(topic); t.wakeAt.After(now.Add(wait)) {
		t.wakeAt = now.Add(wait)
	}
	q.mu.Unlock()
	return nil, wait, nil
}

// take leases the first job of topic's ready list that nobody holds; jobs whose last
// lease ran out after MaxDeliveries come back as dead, to be buried.
func (q *Queue) take(topic string, now time.Time) (got *storage.Job, dead []*storage.Job) {
	q.mu.Lock()
	defer q.mu.Unlock()
	t := q.topic(topic)
	for len(t.ready) > 0 {
		w := t.ready[0]
		t.ready = t.ready[1:]
		if at, ok := t.settled[w.id]; ok && !w.read.After(at) {
			continue
		}
		l := t.leased[w.id]
		if l != nil && l.seq != w.seq {
			delete(t.leased, w.id)
			l = nil
		}
		deliveries := w.deliveries + 1
		if l != nil {
			if l.done || now.Before(l.until) {
				continue
			}
			// The lease ran out: its consumer hung. This is another delivery.
			deliveries = l.deliveries + 1
		}
		job := &storage.Job{ID: w.id, Topic: topic, Payload: w.payload, Enqueued: time.UnixMilli(w.enqueued),
			Deliveries: deliveries, LastError: w.lastError, Receipt: strconv.FormatInt(w.seq, 10) + "/" + uuid.NewString()}
		if l != nil && l.deliveries >= q.o.MaxDeliveries {
			l.done, l.until = true, now.Add(q.o.Lease)
			job.Deliveries = l.deliveries
			if job.LastError == "" {
				job.LastError = fmt.Sprintf("not acknowledged within its lease after %d deliveries", l.deliveries)
			}
			dead = append(dead, job)
			continue
		}
		t.leased[w.id] = &lease{seq: w.seq, receipt: job.Receipt, until: now.Add(q.o.Lease), deliveries: deliveries}
		return job, dead
	}
	return nil, dead
}

func (q *Queue) fail(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%s: %w: %v", what, storage.ErrUnavailable, err)
}

// held returns the lease of j if j's receipt still holds it.
func (q *Queue) held(j *storage.Job) (seq int64, l *lease) {
	s, _, _ := strings.Cut(j.Receipt, "/")
	seq, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, nil
	}
	l = q.topic(j.Topic).leased[j.ID]
	if l == nil || l.receipt != j.Receipt || l.done {
		return seq, nil
	}
	return seq, l
}

// Ack implements storage.Queue. It does not wait for the deletion to be durable: a
// crash before it is means one more delivery, which at-least-once allows.
func (q *Queue) Ack(ctx context.Context, j *storage.Job) error {
	q.mu.Lock()
	seq, l := q.held(j)
	if l == nil {
		q.mu.Unlock()
		return nil // redelivered elsewhere already
	}
	l.done, l.until = true, time.Now().Add(time.Hour) // until the deletion is committed
	q.mu.Unlock()
	req := &commitReq{ops: []func(tx *sql.Tx) error{func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM work WHERE seq = ?`, seq)
		return err
	}}, result: make(chan error, 1)}
	select {
	case q.s.queue <- req:
	case <-q.s.done:
		return fmt.Errorf("store closed: %w", storage.ErrUnavailable)
	case <-ctx.Done():
		return ctx.Err()
	}
	go func() {
		err := <-req.result
		q.mu.Lock()
		defer q.mu.Unlock()
		if err != nil {
			if q.topic(j.Topic).leased[j.ID] == l {
				delete(q.topic(j.Topic).leased, j.ID) // not deleted: deliver it again
			}
			return
		}
		// Reads that began before the deletion committed may still return the row.
		l.until = time.Now().Add(time.Second)
	}()
	return nil
}

// Retry implements storage.Queue.
func (q *Queue) Retry(ctx context.Context, j *storage.Job, delay time.Duration, reason string) error {
	q.mu.Lock()
	seq, l := q.held(j)
	if l == nil {
		q.mu.Unlock()
		return nil
	}
	deliveries := l.deliveries
	q.mu.Unlock()
	if deliveries >= q.o.MaxDeliveries {
		return q.bury(ctx, j, reason)
	}
	due := time.Now().Add(max(delay, 0)).UnixMilli()
	err := q.s.exec(ctx, true, func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE work SET due = ?, deliveries = ?, last_error = ? WHERE seq = ?`, due, deliveries, reason, seq)
		return err
	})
	q.release(j)
	return err
}

// release forgets a lease and wakes the topic's consumers.
func (q *Queue) release(j *storage.Job) {
	q.mu.Lock()
	t := q.topic(j.Topic)
	if l := t.leased[j.ID]; l != nil && l.receipt == j.Receipt {
		delete(t.leased, j.ID)
	}
	// Rows read before the retry or burial are stale: read them again when due.
	t.ready = slices.DeleteFunc(t.ready, func(w workRow) bool { return w.id == j.ID })
	t.settled[j.ID] = time.Now()
	close(t.wake)
	t.wake = make(chan struct{})
	q.mu.Unlock()
}

// Bury implements storage.DeadLetters.
func (q *Queue) Bury(ctx context.Context, j *storage.Job, reason string) error {
	q.mu.Lock()
	_, l := q.held(j)
	q.mu.Unlock()
	if l == nil {
		return nil
	}
	return q.bury(ctx, j, reason)
}

func (q *Queue) bury(ctx context.Context, j *storage.Job, reason string) error {
	s, _, _ := strings.Cut(j.Receipt, "/")
	seq, _ := strconv.ParseInt(s, 10, 64)
	err := q.s.exec(ctx, true, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT OR REPLACE INTO work_dead(id, topic, payload, enqueued, deliveries, last_error, died)
			SELECT id, topic, payload, enqueued, ?, ?, ? FROM work WHERE seq = ?`, j.Deliveries, reason, time.Now().UnixMilli(), seq)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`DELETE FROM work WHERE seq = ?`, seq)
		return err
	})
	q.release(j)
	return err
}

// Dead implements storage.Queue.
func (q *Queue) Dead(ctx context.Context, topic string, page storage.Page) ([]*storage.Job, int64, error) {
	var total int64
	if err := q.s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM work_dead WHERE topic = ?`, topic).Scan(&total); err != nil {
		return nil, 0, q.fail(ctx, "reading dead letters", err)
	}
	out := []*storage.Job{}
	if page.Limit <= 0 {
		return out, total, nil
	}
	rows, err := q.s.r.QueryContext(ctx, `SELECT id, payload, enqueued, deliveries, last_error FROM work_dead
		WHERE topic = ? ORDER BY seq DESC LIMIT ? OFFSET ?`, topic, page.Limit, max(page.Offset, 0))
	if err != nil {
		return nil, 0, q.fail(ctx, "reading dead letters", err)
	}
	defer rows.Close()
	for rows.Next() {
		var j storage.Job
		var enq int64
		if err := rows.Scan(&j.ID, &j.Payload, &enq, &j.Deliveries, &j.LastError); err != nil {
			return nil, 0, q.fail(ctx, "reading dead letters", err)
		}
		j.Topic, j.Enqueued = topic, time.UnixMilli(enq)
		out = append(out, &j)
	}
	return out, total, rows.Err()
}

// Replay implements storage.DeadLetters.
func (q *Queue) Replay(ctx context.Context, topic, id string) (int, error) {
	n := 0
	now := time.Now().UnixMilli()
	err := q.s.exec(ctx, true, func(tx *sql.Tx) error {
		where, args := `topic = ?`, []any{topic}
		if id != "" {
			where, args = `topic = ? AND id = ?`, []any{topic, id}
		}
		res, err := tx.Exec(`INSERT OR IGNORE INTO work(id, topic, payload, enqueued, due, deliveries, last_error)
			SELECT id, topic, payload, ?, ?, 0, last_error FROM work_dead WHERE `+where+` ORDER BY seq`, append([]any{now, now}, args...)...)
		if err != nil {
			return err
		}
		k, _ := res.RowsAffected()
		n = int(k)
		_, err = tx.Exec(`DELETE FROM work_dead WHERE `+where, args...)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("replaying dead letters: %w", err)
	}
	if id != "" && n == 0 {
		return 0, fmt.Errorf("dead letter %q of %s: %w", id, topic, storage.ErrNotFound)
	}
	q.notify(topic)
	return n, nil
}

// Depth implements storage.DeadLetters.
func (q *Queue) Depth(ctx context.Context, topic string) (int64, error) {
	var n int64
	if err := q.s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM work WHERE topic = ?`, topic).Scan(&n); err != nil {
		return 0, q.fail(ctx, "counting work", err)
	}
	return n, nil
}

// DeliveryLog returns the store's storage.DeliveryLog.
func (s *Store) DeliveryLog() storage.DeliveryLog { return s.deliveries }

// deliveryLog keeps the last keepAttempts attempts of each destination.
type deliveryLog struct {
	s      *Store
	mu     sync.Mutex
	counts map[string]int // attempts recorded per destination since the last trim
}

const keepAttempts = 1000

// Record implements storage.DeliveryLog. It does not wait for the write: the log is
// for operators, and a crash losing its last lines loses no delivery.
func (d *deliveryLog) Record(ctx context.Context, as []storage.DeliveryAttempt) error {
	if len(as) == 0 {
		return nil
	}
	d.mu.Lock()
	if d.counts == nil {
		d.counts = map[string]int{}
	}
	var trim []string
	for _, a := range as {
		if d.counts[a.Destination]++; d.counts[a.Destination] >= keepAttempts/4 {
			d.counts[a.Destination] = 0
			trim = append(trim, a.Destination)
		}
	}
	d.mu.Unlock()
	docs := make([][]byte, len(as))
	for i := range as {
		docs[i], _ = json.Marshal(&as[i])
	}
	return d.s.exec(ctx, false, func(tx *sql.Tx) error {
		for i, a := range as {
			if _, err := tx.Exec(`INSERT INTO delivery_log(destination, doc) VALUES(?, ?)`, a.Destination, docs[i]); err != nil {
				return err
			}
		}
		for _, dest := range trim {
			if _, err := tx.Exec(`DELETE FROM delivery_log WHERE destination = ?1 AND seq <
				(SELECT seq FROM delivery_log WHERE destination = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)`, dest, keepAttempts-1); err != nil {
				return err
			}
		}
		return nil
	})
}

// List implements storage.DeliveryLog.
func (d *deliveryLog) List(ctx context.Context, destination string, page storage.Page) ([]storage.DeliveryAttempt, int64, error) {
	var total int64
	if err := d.s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM delivery_log WHERE destination = ?`, destination).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("reading the delivery log: %w: %v", storage.ErrUnavailable, err)
	}
	out := []storage.DeliveryAttempt{}
	if page.Limit <= 0 {
		return out, total, nil
	}
	rows, err := d.s.r.QueryContext(ctx, `SELECT doc FROM delivery_log WHERE destination = ? ORDER BY seq DESC LIMIT ? OFFSET ?`,
		destination, page.Limit, max(page.Offset, 0))
	if err != nil {
		return nil, 0, fmt.Errorf("reading the delivery log: %w: %v", storage.ErrUnavailable, err)
	}
	defer rows.Close()
	for rows.Next() {
		var doc []byte
		var a storage.DeliveryAttempt
		if err := rows.Scan(&doc); err != nil {
			return nil, 0, fmt.Errorf("reading the delivery log: %w: %v", storage.ErrUnavailable, err)
		}
		if json.Unmarshal(doc, &a) == nil {
			out = append(out, a)
		}
	}
	return out, total, rows.Err()
}

// Last implements storage.DeliveryLog.
func (d *deliveryLog) Last(ctx context.Context, destination, subject string) (string, string, error) {
	var version, hash string
	err := d.s.r.QueryRowContext(ctx, `SELECT version, hash FROM delivery_last WHERE destination = ? AND subject = ?`, destination, subject).Scan(&version, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("reading the last delivery: %w: %v", storage.ErrUnavailable, err)
	}
	return version, hash, nil
}

// SetLast implements storage.DeliveryLog.
func (d *deliveryLog) SetLast(ctx context.Context, destination, subject, version, hash string) error {
	return d.s.exec(ctx, true, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO delivery_last(destination, subject, version, hash) VALUES(?,?,?,?)
			ON CONFLICT(destination, subject) DO UPDATE SET version = excluded.version, hash = excluded.hash
			WHERE excluded.version >= delivery_last.version`, destination, subject, version, hash)
		return err
	})
}

var (
	_ storage.Queue       = (*Queue)(nil)
	_ storage.DeadLetters = (*Queue)(nil)
	_ storage.DeliveryLog = (*deliveryLog)(nil)
)
