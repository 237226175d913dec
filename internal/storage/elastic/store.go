// Package elastic is the production storage backend on Elasticsearch 8/9 or OpenSearch
// 2/3. It speaks to the cluster through a small net/http client (client.go), keeps
// profiles, sessions, configuration entities and profile keys in one index each and
// events in monthly indices, all behind aliases under a configurable prefix
// (schema.go), and writes through a group-committing _bulk writer (writer.go): a
// Commit returns only when the cluster has acknowledged every document of the batch,
// which it does after its translog is fsynced.
//
// Reads by id use the real-time GET, so a profile or session written by any replica is
// seen at once by every other. Searches are near-real-time; a process refreshes an
// index it has written before searching it, so it reads its own writes. Identity
// resolution's FindByKey must see a profile committed a moment ago by another replica:
// it reads a key index addressed by (path, value) with the real-time GET (keys.go).
package elastic

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Config configures the store.
type Config struct {
	// Hosts are the cluster's URLs (http://host:9200); requests go round robin.
	Hosts []string
	// Username and Password (basic auth) or APIKey (an encoded Elasticsearch API key).
	Username, Password, APIKey string
	// CAFile is a PEM file of the CA that signed the cluster's certificate.
	CAFile string
	// IndexPrefix names every index, template and alias ("thamesthrive").
	IndexPrefix string
	// Shards and Replicas of the profile, session and event indices (1 and 0).
	Shards, Replicas int
	// RefreshInterval is how often the profile, session and event indices are
	// refreshed (DefaultRefreshInterval): how long a write of one process takes to
	// reach another process's searches. A process's own writes are refreshed before
	// its next search of the index. Reads by id are real-time whatever it is.
	RefreshInterval time.Duration
	// KeyPaths are the profile paths looked up by FindByKey that are kept in the key
	// index (the merge keys); FindByKey on other paths falls back to a search.
	KeyPaths []string
	// MaxBatch caps how many Commit calls share one _bulk request (256), MaxBulkBytes
	// its size (8 MiB).
	MaxBatch     int
	MaxBulkBytes int
	// QueueSize bounds Commit calls waiting for a writer (4096); past it Commit fails
	// at once with storage.ErrUnavailable.
	QueueSize int
	// Writers is how many _bulk requests may be in flight at once (1). One writer sends
	// everything that queued while the previous bulk was out in the next: fewer, bigger
	// bulks cost less CPU per document here and in the cluster (docs/performance.md).
	Writers int
	// Linger, when positive, is how long a writer waits for more Commit calls to join a
	// _bulk that is not full (0: it sends what has queued at once). Each _bulk costs the
	// cluster a translog fsync per shard it touches whatever its size, so at a replica's
	// modest rate a few milliseconds more per request buy much larger bulks
	// (docs/performance.md, A.4).
	Linger time.Duration
	// WriteTimeout bounds how long a Commit keeps retrying a busy or unreachable
	// cluster before it fails with storage.ErrUnavailable (10s).
	WriteTimeout time.Duration
	// Cache, if set, holds the latest profiles and sessions for every replica (see
	// storage.DocCache); without it every read is a real-time GET from the cluster.
	Cache storage.DocCache
	// HTTPClient replaces the default client (tests).
	HTTPClient *http.Client
	Logger     *slog.Logger
	// OnBatch, if set, is called after each group commit with the number of Commit
	// calls it served and the number of new events it stored.
	OnBatch func(commits, events int)
	// OnCommit, if set, is called by every Commit that was written, with where its
	// wait went (storage.CommitPhases).
	OnCommit func(storage.CommitPhases)
}

var prefixRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,100}$`)

func (c *Config) defaults() error {
	if c.IndexPrefix == "" {
		c.IndexPrefix = "thamesthrive"
	}
	if !prefixRE.MatchString(c.IndexPrefix) {
		return fmt.Errorf("ELASTIC_INDEX_PREFIX: %q must be lower-case letters, digits, '-', '_' or '.'", c.IndexPrefix)
	}
	if c.Shards <= 0 {
		c.Shards = 1
	}
	if c.Replicas < 0 {
		c.Replicas = 0
	}
	if c.RefreshInterval <= 0 {
		c.RefreshInterval = DefaultRefreshInterval
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 256
	}
	if c.MaxBulkBytes <= 0 {
		c.MaxBulkBytes = 8 << 20
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 4096
	}
	if c.Writers <= 0 {
		c.Writers = 1
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	for _, p := range c.KeyPaths {
		if !domain.ValidKeyPath(p) {
			return fmt.Errorf("key path %q: %w", p, storage.ErrInvalid)
		}
	}
	return nil
}

// Store is the Elasticsearch/OpenSearch backend.
type Store struct {
	cfg   Config
	c     *client
	names names
	log   *slog.Logger

	queue   chan *commitReq
	stop    chan struct{}
	stopped atomic.Bool
	closing sync.RWMutex // Commit's enqueue (read) against Close (write)
	wg      sync.WaitGroup
	closed  sync.Once

	// fences remember the sequence number and primary term of the last version of a
	// profile or session this process read, so that writing it back is conditional on
	// nobody having written it since (see fence in writer.go).
	fences *lru.Cache[string, fence]
	// keysDone remembers (path, value, profile) entries already in the key index.
	keysDone *lru.Cache[string, struct{}]
	keyPaths map[string]bool
	// eventIndices are the monthly event indices known to exist.
	eventIndices sync.Map

	// partOlder is the index expression of the event partitions older than the
	// recent ones, read at partRead.
	partMu    sync.Mutex
	partOlder string
	partRead  time.Time

	warnMu sync.Mutex
	warned map[string]time.Time

	gens  map[string]*refreshGen
	kinds kindsCache

	profiles *profiles
	sessions *sessions
	events   *events
	entities *entities
}

// refreshGen makes searches read this process's own writes: writes bump written, and a
// search refreshes the index first when refreshed is behind.
type refreshGen struct {
	written   atomic.Int64
	mu        sync.Mutex
	refreshed int64
}

func newStore(cfg Config) (*Store, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	s := &Store{cfg: cfg, c: c, names: names{cfg.IndexPrefix}, log: cfg.Logger, keyPaths: map[string]bool{},
		gens: map[string]*refreshGen{}}
	for _, p := range cfg.KeyPaths {
		s.keyPaths[p] = true
	}
	for _, k := range allKinds() {
		s.gens[k] = &refreshGen{}
	}
	if s.fences, err = lru.New[string, fence](100000); err != nil {
		return nil, err
	}
	if s.keysDone, err = lru.New[string, struct{}](100000); err != nil {
		return nil, err
	}
	s.profiles, s.sessions, s.events, s.entities = &profiles{s}, &sessions{s}, &events{s}, &entities{s}
	return s, nil
}

// Migrate creates or upgrades the index templates, indices and aliases of cfg's prefix.
// It is what `thamesthrive migrate` runs; it is idempotent.
func Migrate(ctx context.Context, cfg Config) error {
	s, err := newStore(cfg)
	if err != nil {
		return err
	}
	return s.migrate(ctx)
}

// Drop deletes every index and template under cfg's prefix. Tests use it to clean up.
func Drop(ctx context.Context, cfg Config) error {
	s, err := newStore(cfg)
	if err != nil {
		return err
	}
	return s.drop(ctx)
}

// Open checks that the indices exist in the version this binary needs (an error
// wrapping ErrSchema says to run migrate otherwise) and starts the writers.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s, err := newStore(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.check(ctx); err != nil {
		if errors.Is(err, ErrSchema) {
			return nil, err
		}
		return nil, fmt.Errorf("checking indices on %v: %w: %w", s.c.hosts, storage.ErrUnavailable, err)
	}
	s.queue = make(chan *commitReq, s.cfg.QueueSize)
	s.stop = make(chan struct{})
	for i := 0; i < s.cfg.Writers; i++ {
		s.wg.Add(1)
		go s.writer()
	}
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

// Ping implements storage.Store: the cluster answers and the store's indices are
// allocated (yellow or green).
func (s *Store) Ping(ctx context.Context) error {
	if s.stopped.Load() {
		return fmt.Errorf("store closed: %w", storage.ErrUnavailable)
	}
	var h struct {
		Status string `json:"status"`
	}
	err := s.c.doJSON(ctx, http.MethodGet, "/_cluster/health/"+s.names.alias(kindProfiles)+"?timeout=2s", nil, &h)
	if err != nil {
		return fmt.Errorf("pinging the cluster: %w: %w", storage.ErrUnavailable, err)
	}
	if h.Status == "red" {
		return fmt.Errorf("cluster health of %s is red: %w", s.names.alias(kindProfiles), storage.ErrUnavailable)
	}
	return nil
}

// Close stops accepting commits, writes everything already accepted, and waits for the
// writers.
func (s *Store) Close() error {
	s.closed.Do(func() {
		s.closing.Lock()
		s.stopped.Store(true)
		s.closing.Unlock()
		if s.stop != nil {
			close(s.stop)
			s.wg.Wait()
		}
	})
	return nil
}

// Refresh makes everything written so far visible to searches (tests and tools).
func (s *Store) Refresh(ctx context.Context) error {
	return s.c.doJSON(ctx, http.MethodPost, "/"+s.names.prefix+"-*/_refresh", nil, nil)
}

// readOwnWrites refreshes kind's indices if this process wrote to them since it last
// did, so that a search right after a Commit sees it.
func (s *Store) readOwnWrites(ctx context.Context, kind string) error {
	g := s.gens[kind]
	want := g.written.Load()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refreshed >= want {
		return nil
	}
	now := g.written.Load()
	if err := s.c.doJSON(ctx, http.MethodPost, "/"+s.names.alias(kind)+"/_refresh", nil, nil); err != nil {
		return fmt.Errorf("refreshing %s: %w: %w", s.names.alias(kind), storage.ErrUnavailable, err)
	}
	g.refreshed = now
	return nil
}

// warn logs a warning at most once every 10 seconds per message: a cluster in trouble
// fails every batch, and one line says as much as a thousand.
func (s *Store) warn(msg string, args ...any) {
	now := time.Now()
	s.warnMu.Lock()
	last := s.warned[msg]
	if now.Sub(last) < 10*time.Second {
		s.warnMu.Unlock()
		return
	}
	if s.warned == nil {
		s.warned = map[string]time.Time{}
	}
	s.warned[msg] = now
	s.warnMu.Unlock()
	s.log.Warn(msg, args...)
}

var _ storage.Store = (*Store)(nil)
