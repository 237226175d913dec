// Package sqlite is the embedded storage backend: one SQLite file in the data directory,
// written by a single goroutine that group-commits concurrent batches into one durable
// transaction, and read through a separate pool of read-only connections (WAL mode lets
// readers run beside the writer). It uses modernc.org/sqlite, a pure-Go SQLite, so the
// binary stays static and needs no C toolchain.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	msqlite "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// FileName is the database file inside the data directory.
const FileName = "thamesthrive.db"

// Config configures the store.
type Config struct {
	// Dir is the data directory; it is created if missing.
	Dir string
	// MaxBatch caps how many Commit calls share one transaction.
	MaxBatch int
	// QueueSize bounds Commit calls waiting for the writer; past it Commit fails
	// fast with storage.ErrUnavailable instead of queueing without limit.
	QueueSize int
	// Sync is SQLite's synchronous setting for the writer: "full" (the default) syncs
	// the WAL in every commit, so a commit survives a power cut; "normal" syncs only at
	// checkpoints, so a commit survives a crash of the process (it is in the WAL file,
	// in the OS's cache) but the newest commits may be lost if the machine fails.
	Sync string
	// KeyPaths are the profile paths identity resolution looks profiles up by
	// (FindByKey); Open makes sure each has its index, so that the first look-up does
	// not build it while commits wait.
	KeyPaths []string
	// IndexedPaths are profile paths (dotted, such as "traits.tier") that get an
	// expression index (sqlgen.PathExpr), so that a search or a segment condition
	// comparing one of them reads the index instead of every profile. Each costs CPU on
	// every profile write (docs/performance.md); Open builds the missing ones and drops
	// those no longer listed.
	IndexedPaths []string
	// Logger receives what Open does that takes long on a large store: each schema
	// migration and each path index it builds, with their durations (nil: discarded).
	Logger *slog.Logger
	// Shared opens the store without taking the data directory's lock, beside a
	// process that holds it: for short-lived admin commands (create-user,
	// reset-password) that change a few configuration rows. SQLite's own file locking
	// keeps their writes safe; what the lock prevents — two processes each running the
	// pipeline with its own caches and in-process locks over one file — does not arise.
	Shared bool
	// CommitWindow bounds how long the writer holds a transaction open for more
	// requests when its queue is empty but the recent arrivals say another request is
	// due within the window (Store.linger): zero means DefaultCommitWindow, a negative
	// value never waits. Below saturation most requests would otherwise get a
	// transaction (and an fsync, and their own WAL pages) each: BenchmarkSQLiteFloor
	// costs 279 CPU-µs per request alone, 149 three to a transaction (docs/performance.md,
	// "B.2 round 3").
	CommitWindow time.Duration
	// OnBatch, if set, is called after each group commit with the number of Commit
	// calls it served and the number of new events it stored (for metrics).
	OnBatch func(commits, events int)
	// OnCommit, if set, is called by every Commit that was written, with where its
	// wait went (storage.CommitPhases).
	OnCommit func(storage.CommitPhases)
}

// Store is the SQLite backend.
type Store struct {
	cfg    Config
	w      *sql.DB // exactly one connection: SQLite has one writer
	r      *sql.DB // read-only connections
	queue  chan *commitReq
	stop   chan struct{}
	done   chan struct{}
	closed sync.Once
	lock   *dirLock // DATA_DIR/LOCK, held from Open to Close

	upsertProfile, upsertSession, insertEvent *sql.Stmt           // on the writer
	countEvents                               *sql.Stmt           // on the writer
	counts                                    map[eventHour]int64 // write's, reused
	moveSession                               *sql.Stmt           // on the writer
	getProfile, getSession, getEvent          *sql.Stmt           // on the read pool
	keyIndexes                                sync.Map            // profile key paths already indexed
	profileTable                              table               // profileTable with Config.IndexedPaths

	// lastArrival is when the last request the writer took reached the queue, and
	// arrivalGap a moving average of the time between requests (writer goroutine only).
	lastArrival time.Time
	arrivalGap  time.Duration
	window      *time.Timer

	// walFrames counts the pages written to the WAL since the writer's last complete
	// checkpoint (only the writer goroutine touches it).
	walFrames int
	// checkpoints counts the writer's checkpoints and incomplete ones (for tests).
	checkpoints, partialCheckpoints atomic.Int64
	// multi holds multi-row statements by table and row count, args their arguments
	// (writer goroutine only).
	multi [2][rowsPerStmt + 1]*sql.Stmt
	args  []any

	profiles *profiles
	sessions *sessions
	events   *events
	entities *entities

	// The work queue over the work table (work.go), told of topics with new work.
	insertWork *sql.Stmt
	wq         atomic.Pointer[Queue]
	deliveries *deliveryLog
}

type commitReq struct {
	at       time.Time // when it was queued
	buf      *[]byte   // the rows' documents, returned to docBufs once written
	profiles []row
	sessions []row
	events   []row
	work     []*storage.WorkItem
	// ops, when set, make this a request of the work queue's own: statements run in
	// the writer's transaction after the documents' (work.go).
	ops    []func(tx *sql.Tx) error
	result chan error
	// Set by the writer before it answers: when the write carrying this request
	// began and ended (storage.CommitPhases).
	began, ended time.Time
}

// row is a document encoded before it reaches the writer, so that JSON work happens on
// the callers' goroutines in parallel rather than inside the single writer.
type row struct {
	id, a, b, c, d string
	doc            []byte
}

// The writer's statements, and the reads by id of the pipeline (also used by
// BenchmarkSQLiteFloor).
const (
	sqlUpsertProfile = `INSERT INTO profiles(id, merged_into, created, updated, doc) VALUES(?,?,?,?,?)
			ON CONFLICT(id) DO UPDATE SET merged_into=excluded.merged_into, updated=excluded.updated, doc=excluded.doc`
	// A stored session whose profile stays the same (nearly every update) must not name
	// profile_id in its SET list: SQLite then rewrites the session's sessions_profile
	// index entry even when the value is unchanged, one more random page per request
	// (docs/performance.md). The WHERE makes the upsert change nothing when the profile
	// differs; write then runs moveSession, which sets all three columns.
	sqlUpsertSession = `INSERT INTO sessions(id, profile_id, created, updated, doc) VALUES(?,?,?,?,?)
			ON CONFLICT(id) DO UPDATE SET updated=excluded.updated, doc=excluded.doc WHERE profile_id = excluded.profile_id`
	sqlMoveSession = `UPDATE sessions SET profile_id=?2, updated=?3, doc=?4 WHERE id=?1`
	// RETURNING gives the events actually inserted (not the ids already stored), which
	// write counts into event_counts.
	sqlInsertEvent = `INSERT OR IGNORE INTO events(id, profile_id, session_id, type, inserted, doc) VALUES(?,?,?,?,?,?) RETURNING type, inserted`
	sqlCountEvents = `INSERT INTO event_counts(hour, type, n) VALUES(?,?,?) ON CONFLICT(hour, type) DO UPDATE SET n = n + excluded.n`
	sqlGetProfile  = `SELECT doc FROM profiles WHERE id = ?`
	sqlGetSession  = `SELECT doc FROM sessions WHERE id = ?`
)

// Open opens (creating if needed) the database in cfg.Dir and starts the writer.
func Open(cfg Config) (*Store, error) {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 8192
	}
	if cfg.CommitWindow == 0 {
		cfg.CommitWindow = DefaultCommitWindow
	}
	var sync string
	switch cfg.Sync {
	case "", "full":
		sync = "FULL"
	case "normal":
		sync = "NORMAL"
	default:
		return nil, fmt.Errorf("sqlite: synchronous setting %q is not one of full, normal", cfg.Sync)
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	var lock *dirLock
	if !cfg.Shared {
		var err error
		if lock, err = lockDir(cfg.Dir); err != nil {
			return nil, err
		}
	}
	s, err := open(cfg, sync)
	if err != nil {
		lock.release()
		return nil, err
	}
	s.lock = lock
	return s, nil
}

// open opens the database of a data directory whose lock the caller holds.
func open(cfg Config, sync string) (*Store, error) {
	path := filepath.Join(cfg.Dir, FileName)
	if err := checkFile(path); err != nil {
		return nil, err
	}
	dsn := func(extra ...string) string {
		q := url.Values{}
		for _, p := range append([]string{"journal_mode(WAL)", "synchronous(" + sync + ")", "busy_timeout(10000)", "foreign_keys(on)"}, extra...) {
			q.Add("_pragma", p)
		}
		return "file:" + path + "?" + q.Encode()
	}
	// Page caches are per connection. The writer keeps 8 MB: its inserts touch index
	// pages all over the tables. Readers fetch single rows by key, which the OS page
	// cache serves nearly as well, so each keeps 2 MB (RSS, docs/performance.md).
	// The writer goroutine checkpoints the WAL itself, after answering a batch's waiters
	// (Store.checkpoint), instead of SQLite's automatic checkpoint, which ran inside a
	// commit and made every request queued behind it wait. The checkpoint stays on the
	// writer connection, between transactions: only there does it copy the whole WAL, so
	// the next transaction starts the WAL file over and overwrites blocks it already
	// has. (Tried: passive checkpoints on another connection race the writer, the WAL
	// did not restart and kept growing, and pwrite went from 6% to 32% of the server's
	// CPU: docs/performance.md.) The automatic checkpoint is left at 4 × the writer's
	// hard bound only as a backstop, for writes made outside the writer goroutine
	// (entities, erasure) while no batch comes.
	w, err := sql.Open("sqlite", dsn("cache_size(-8000)", fmt.Sprintf("wal_autocheckpoint(%d)", 4*hardCheckpointFrames))+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := migrate(w, cfg.Logger); err != nil {
		w.Close()
		return nil, classify(path, fmt.Errorf("migrating %s: %w", path, err))
	}
	r, err := sql.Open("sqlite", dsn("cache_size(-2000)", "query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("opening %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s := &Store{cfg: cfg, w: w, r: r, queue: make(chan *commitReq, cfg.QueueSize), stop: make(chan struct{}), done: make(chan struct{})}
	s.arrivalGap = s.gapLimit() // idle until requests come close together
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&s.upsertProfile, sqlUpsertProfile},
		{&s.upsertSession, sqlUpsertSession},
		{&s.moveSession, sqlMoveSession},
		{&s.insertEvent, sqlInsertEvent},
		{&s.countEvents, sqlCountEvents},
		{&s.insertWork, sqlInsertWork},
	} {
		if *p.dst, err = w.Prepare(p.q); err != nil {
			w.Close()
			r.Close()
			return nil, classify(path, fmt.Errorf("preparing statement: %w", err))
		}
	}
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		{&s.getProfile, sqlGetProfile},
		{&s.getSession, sqlGetSession},
		{&s.getEvent, `SELECT doc FROM events WHERE id = ?`},
	} {
		if *p.dst, err = r.Prepare(p.q); err != nil {
			w.Close()
			r.Close()
			return nil, classify(path, fmt.Errorf("preparing statement: %w", err))
		}
	}
	s.multi[profilesTable][1], s.multi[eventsTable][1] = s.upsertProfile, s.insertEvent
	s.profiles = &profiles{s}
	s.sessions = &sessions{s}
	s.events = &events{s}
	s.entities = &entities{s}
	s.deliveries = &deliveryLog{s: s}
	for _, path := range cfg.KeyPaths {
		if err := s.indexKey(context.Background(), path); err != nil {
			w.Close()
			r.Close()
			return nil, classify(s.path(), err)
		}
	}
	if err := s.indexPaths(context.Background(), cfg.IndexedPaths); err != nil {
		w.Close()
		r.Close()
		return nil, classify(s.path(), err)
	}
	go s.writer()
	return s, nil
}

// Profiles implements storage.Store.
func (s *Store) Profiles() storage.Profiles { return s.profiles }

// Sessions implements storage.Store.
func (s *Store) Sessions() storage.Sessions { return s.sessions }

// Events implements storage.Store.
func (s *Store) Events() storage.Events { return s.events }

// Entities implements storage.Store.
func (s *Store) Entities() storage.Entities { return s.entities }

// DB returns the read-only pool, for packages that query the embedded store directly
// (search with SQL generated from conditions, reports).
func (s *Store) DB() *sql.DB { return s.r }

// Ping implements storage.Store.
func (s *Store) Ping(ctx context.Context) error {
	select {
	case <-s.done:
		return fmt.Errorf("store closed: %w", storage.ErrUnavailable)
	default:
	}
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("pinging sqlite: %w: %w", storage.ErrUnavailable, err)
	}
	return nil
}

// Close stops the writer after it has written everything already queued, then closes
// the database.
func (s *Store) Close() error {
	var err error
	s.closed.Do(func() {
		close(s.stop)
		<-s.done
		err = errors.Join(s.w.Close(), s.r.Close())
		s.lock.release()
	})
	return err
}

// Commit implements storage.Store.
func (s *Store) Commit(ctx context.Context, b *storage.Batch) error {
	req, err := encodeBatch(b)
	if err != nil {
		return err
	}
	select {
	case <-s.stop:
		putDocBuf(req.buf)
		return fmt.Errorf("store closed: %w", storage.ErrUnavailable)
	default:
	}
	req.at = time.Now()
	select {
	case s.queue <- req:
	default:
		putDocBuf(req.buf)
		return fmt.Errorf("write queue full: %w", storage.ErrUnavailable)
	}
	// Once queued the write will happen; waiting for it is what makes the caller's
	// acknowledgement honest, so a cancelled ctx does not abandon it early.
	err = <-req.result
	if s.cfg.OnCommit != nil && err == nil {
		s.cfg.OnCommit(storage.CommitPhases{Queued: req.began.Sub(req.at), Write: req.ended.Sub(req.began), Answer: time.Since(req.ended)})
	}
	// The driver copied the documents when it bound them; the buffer is free again.
	putDocBuf(req.buf)
	return err
}

// docBufs recycles the buffers documents are encoded into (about 2.5 KB per /track
// request, a quarter of the bytes the pipeline allocated, docs/performance.md).
var docBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func putDocBuf(b *[]byte) {
	if cap(*b) <= 64<<10 { // a rare huge batch is left to the GC
		*b = (*b)[:0]
		docBufs.Put(b)
	}
}

func encodeBatch(b *storage.Batch) (*commitReq, error) {
	req := &commitReq{result: make(chan error, 1),
		profiles: make([]row, 0, len(b.Profiles)), sessions: make([]row, 0, len(b.Sessions)), events: make([]row, 0, len(b.Events))}
	// All documents of the request share one pooled buffer (hand-written encoders that
	// write what encoding/json would, docs/performance.md); each row keeps its own slice
	// of it. Rows encoded before the buffer grows keep pointing at its old array, which
	// stays alive as long as they do.
	req.buf = docBufs.Get().(*[]byte)
	buf := (*req.buf)[:0]
	defer func() { *req.buf = buf }()
	var err error
	for _, p := range b.Profiles {
		start := len(buf)
		if buf, err = p.AppendJSON(buf); err != nil {
			return nil, fmt.Errorf("encoding profile %s: %w", p.ID, err)
		}
		req.profiles = append(req.profiles, row{id: p.ID, a: p.Metadata.MergedInto, b: p.Metadata.Time.Insert.String(), c: p.Metadata.Time.Update.String(), doc: buf[start:len(buf):len(buf)]})
	}
	for _, x := range b.Sessions {
		start := len(buf)
		if buf, err = x.AppendJSON(buf); err != nil {
			return nil, fmt.Errorf("encoding session %s: %w", x.ID, err)
		}
		req.sessions = append(req.sessions, row{id: x.ID, a: x.Profile.ID, b: x.Metadata.Time.Insert.String(), c: domain.Now().String(), doc: buf[start:len(buf):len(buf)]})
	}
	for _, e := range b.Events {
		start := len(buf)
		if buf, err = e.AppendJSON(buf); err != nil {
			return nil, fmt.Errorf("encoding event %s: %w", e.ID, err)
		}
		req.events = append(req.events, row{id: e.ID, a: e.Profile.ID, b: e.Session.ID, c: e.Type, d: e.Metadata.Time.Insert.String(), doc: buf[start:len(buf):len(buf)]})
	}
	req.work = b.Work
	return req, nil
}

func (s *Store) writer() {
	defer close(s.done)
	batch := make([]*commitReq, 0, s.cfg.MaxBatch)
	for {
		select {
		case req := <-s.queue:
			s.arrived(req)
			batch = append(batch[:0], req)
		case <-s.stop:
			// Drain what was accepted before Close.
			for {
				select {
				case req := <-s.queue:
					s.flush([]*commitReq{req})
				default:
					return
				}
			}
		}
		s.fill(&batch)
		s.linger(&batch)
		s.flush(batch)
		s.checkpoint()
	}
}

// Checkpoint thresholds, in WAL frames (pages). The writer runs the checkpoint itself
// after it has answered a batch's waiters, so no request waits for one as part of its
// own commit. It checkpoints when its queue is empty and idleCheckpointFrames are in
// the WAL (below saturation the writer is often idle, and a small checkpoint delays a
// request that arrives during it by little), and even with requests queued once
// hardCheckpointFrames are (at saturation it is never idle; this bounds the WAL at
// about 16 MB, as the automatic checkpoint of 4000 pages did). Being the only writer,
// its PASSIVE checkpoint copies the whole WAL unless a reader still reads an old
// snapshot, and the next transaction starts the WAL file over (docs/performance.md,
// change 4, for what a checkpointer on another connection did instead).
//
// BenchmarkCheckpoint (50,000 random profiles): a checkpoint of ~200 frames keeps the
// writer busy ~3 ms, ~820 frames ~7 ms, ~3,300 frames ~18-20 ms. 250 frames is about
// 40 single commits at half load; the smaller steps cost some CPU (a hot page is copied
// more often, two fsyncs per checkpoint), ~6 cpu-µs per frame against ~3.3 at 3,300.
// Variables so that tests can make them small.
var (
	idleCheckpointFrames = 250
	hardCheckpointFrames = 4000
)

// checkpoint copies the WAL into the database when it is due (see idleCheckpointFrames).
func (s *Store) checkpoint() {
	s.walFrames += s.framesWritten()
	if s.walFrames < idleCheckpointFrames || (s.walFrames < hardCheckpointFrames && len(s.queue) > 0) {
		return
	}
	var busy, log, done int
	if err := s.w.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done); err != nil {
		return // tried again after the next batch
	}
	s.checkpoints.Add(1)
	if done < log {
		// A reader holds an older snapshot; what it needs is copied next time.
		s.partialCheckpoints.Add(1)
		s.walFrames = log - done
		return
	}
	s.walFrames = 0
}

// framesWritten returns how many pages the writer connection wrote (to the WAL) since
// it was last asked.
func (s *Store) framesWritten() int {
	c, err := s.w.Conn(context.Background())
	if err != nil {
		return 0
	}
	defer c.Close()
	n := 0
	c.Raw(func(dc any) error {
		if st, ok := dc.(interface {
			Status(msqlite.DBStatusOp, bool) (int, int, error)
		}); ok {
			n, _, _ = st.Status(msqlite.DBStatusCacheWrite, true)
		}
		return nil
	})
	return n
}

// fill adds queued requests to batch. Before giving up on an empty queue it yields the
// processor a few times: requests that are being processed right now (runnable
// goroutines) then reach the queue and share this transaction instead of each paying
// for a commit of their own. With one CPU (GOMAXPROCS=1) this is what makes group
// commit group; it costs no waiting when nothing else is runnable.
func (s *Store) fill(batch *[]*commitReq) {
	for yields := 0; len(*batch) < s.cfg.MaxBatch; {
		select {
		case req := <-s.queue:
			s.arrived(req)
			*batch = append(*batch, req)
		default:
			if yields == 3 {
				return
			}
			yields++
			runtime.Gosched()
		}
	}
}

// DefaultCommitWindow is Config.CommitWindow's default.
const DefaultCommitWindow = 2 * time.Millisecond

// arrived updates the moving average of the time between requests with req's arrival.
// One sample counts for at most 4 windows, so that after an idle spell the average comes
// back to the rate of a burst within a few requests.
func (s *Store) arrived(req *commitReq) {
	if !req.at.After(s.lastArrival) {
		return
	}
	gap := req.at.Sub(s.lastArrival)
	s.lastArrival = req.at
	gap = min(gap, s.gapLimit())
	s.arrivalGap += (gap - s.arrivalGap) / 8
}

func (s *Store) gapLimit() time.Duration { return 4 * max(s.cfg.CommitWindow, time.Millisecond) }

// linger holds the batch open, after fill found the queue empty, while another request
// is expected (the mean time between arrivals is shorter than what is left of the
// window) and until CommitWindow after the batch's first request was queued. Below
// saturation requests come one at a time, each while the writer is idle, and without
// this each pays for a transaction of its own (its fsync, its WAL pages and the
// checkpoint work they make), nearly twice the CPU per request of three sharing one; at
// saturation fill already finds company and this rarely waits. A request never waits
// here longer than the window (plus the timer's granularity), and not at all when
// requests come further apart than that. Durability is unchanged: the waiters are
// answered only after the transaction is committed.
func (s *Store) linger(batch *[]*commitReq) {
	if s.cfg.CommitWindow < 0 {
		return
	}
	deadline := (*batch)[0].at.Add(s.cfg.CommitWindow)
	for len(*batch) < s.cfg.MaxBatch {
		left := time.Until(deadline)
		if left <= 0 || s.arrivalGap > left {
			return
		}
		if s.window == nil {
			s.window = time.NewTimer(left)
		} else {
			s.window.Reset(left)
		}
		select {
		case req := <-s.queue:
			s.window.Stop()
			s.arrived(req)
			*batch = append(*batch, req)
			s.fill(batch)
		case <-s.window.C:
			return
		}
	}
}

func (s *Store) flush(all []*commitReq) {
	// The work queue's own requests (acknowledgements, retries) go in a transaction
	// of their own, so that none of them can ever fail a request's documents.
	batch := all
	var ops []*commitReq
	if hasOps(all) {
		batch = nil
		for _, r := range all {
			if r.ops != nil {
				ops = append(ops, r)
			} else {
				batch = append(batch, r)
			}
		}
	}
	if len(batch) > 0 {
		began := time.Now()
		stored, err := s.write(batch)
		if err != nil {
			err = fmt.Errorf("writing batch: %w: %w", storage.ErrUnavailable, writeError(s.cfg.Dir, err))
		} else {
			if s.cfg.OnBatch != nil {
				s.cfg.OnBatch(len(batch), stored)
			}
			s.workWritten(batch)
		}
		ended := time.Now()
		for _, r := range batch {
			r.began, r.ended = began, ended
			r.result <- err
		}
	}
	if len(ops) > 0 {
		s.runOps(ops)
	}
}

func hasOps(batch []*commitReq) bool {
	for _, r := range batch {
		if r.ops != nil {
			return true
		}
	}
	return false
}

func (s *Store) write(batch []*commitReq) (stored int, err error) {
	ctx := context.Background()
	clear(s.counts) // what a failed transaction counted
	// The multi-row statements this batch needs are prepared before the transaction
	// takes the writer's only connection.
	np, ne := 0, 0
	for _, r := range batch {
		np += len(r.profiles)
		ne += len(r.events)
	}
	for _, k := range []struct{ kind, n int }{{profilesTable, np}, {eventsTable, ne}} {
		for _, n := range []int{min(k.n, rowsPerStmt), k.n % rowsPerStmt} {
			if n > 0 {
				if _, err := s.multiStmt(k.kind, n); err != nil {
					return 0, err
				}
			}
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	// Profiles and events go in one multi-row statement per table (up to rowsPerStmt
	// rows each), sessions one by one (write must know which upsert changed nothing).
	args := s.args[:0]
	n := 0
	flushRows := func(kind int) error {
		if n == 0 {
			return nil
		}
		st, err := s.multiStmt(kind, n)
		if err != nil {
			return err
		}
		if kind == eventsTable {
			k, err := s.insertEvents(ctx, tx.Stmt(st), args)
			if err != nil {
				return err
			}
			stored += k
		} else if _, err := tx.Stmt(st).ExecContext(ctx, args...); err != nil {
			return err
		}
		args, n = args[:0], 0
		return nil
	}
	for _, r := range batch {
		for _, p := range r.profiles {
			args = append(args, p.id, nullable(p.a), p.b, p.c, p.doc)
			if n++; n == rowsPerStmt {
				if err = flushRows(profilesTable); err != nil {
					return 0, err
				}
			}
		}
	}
	if err = flushRows(profilesTable); err != nil {
		return 0, err
	}
	us := tx.Stmt(s.upsertSession)
	var ms *sql.Stmt // prepared for this transaction only when a session changes profile
	for _, r := range batch {
		for _, x := range r.sessions {
			res, err2 := us.ExecContext(ctx, x.id, x.a, x.b, x.c, x.doc)
			if err = err2; err != nil {
				return 0, err
			}
			if n, err2 := res.RowsAffected(); err2 != nil || n == 0 {
				// The stored session belongs to another profile (a merge moved it).
				if ms == nil {
					ms = tx.Stmt(s.moveSession)
				}
				if _, err = ms.ExecContext(ctx, x.id, x.a, x.c, x.doc); err != nil {
					return 0, err
				}
			}
		}
	}
	for _, r := range batch {
		for _, e := range r.events {
			args = append(args, e.id, e.a, e.b, e.c, e.d, e.doc)
			if n++; n == rowsPerStmt {
				if err = flushRows(eventsTable); err != nil {
					return 0, err
				}
			}
		}
	}
	if err = flushRows(eventsTable); err != nil {
		return 0, err
	}
	if err = s.writeCounts(ctx, tx); err != nil {
		return 0, err
	}
	if err = s.writeWork(ctx, tx, batch); err != nil {
		return 0, err
	}
	clear(args[:cap(args)])
	s.args = args[:0]
	return stored, tx.Commit()
}

const (
	profilesTable = iota
	eventsTable
	rowsPerStmt = 32
)

// multiStmt returns the writer's statement that upserts n profiles or inserts n events:
// the single-row statement with n rows of values.
func (s *Store) multiStmt(kind, n int) (*sql.Stmt, error) {
	if st := s.multi[kind][n]; st != nil {
		return st, nil
	}
	q, values := sqlUpsertProfile, `(?,?,?,?,?)`
	if kind == eventsTable {
		q, values = sqlInsertEvent, `(?,?,?,?,?,?)`
	}
	st, err := s.w.Prepare(strings.Replace(q, "VALUES"+values, "VALUES"+values+strings.Repeat(","+values, n-1), 1))
	if err != nil {
		return nil, err
	}
	s.multi[kind][n] = st
	return st, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

var _ storage.Store = (*Store)(nil)
