package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// fence is the version of a document as last read by this process. Writing a profile
// or session back is conditional on it (if_seq_no/if_primary_term, or create-only when
// the read found nothing): if another process wrote the document in between — which
// the per-profile lock prevents unless a lock holder stalled past its lock's expiry —
// the write fails with a conflict instead of silently overwriting the newer version.
// The cluster's own sequence number is the fencing token.
type fence struct {
	seq, term int64
	absent    bool
}

func fenceKey(kind, id string) string { return kind + "\x00" + id }

// item is one action of a _bulk request.
type item struct {
	kind   string
	op     string // index, create or update
	index  string // concrete index or write alias
	id     string
	fence  *fence
	retry  int // retry_on_conflict, for updates
	source []byte
	obj    any    // the document, for rewrapping (see wrapRaw)
	key    string // keysDone entry to remember once stored
	wrap   bool   // source already wrapped in rawField
}

type commitReq struct {
	items  []*item
	size   int
	result chan error
	// at is when Commit queued it; began and ended, set by the writer before it answers,
	// when the _bulk write carrying it began and ended (storage.CommitPhases).
	at, began, ended time.Time
}

// Commit implements storage.Store. The batch is encoded on the caller's goroutine and
// queued for a writer, which sends it in one _bulk request together with whatever other
// commits are waiting. It returns when every document is acknowledged by the cluster,
// or with an error: storage.ErrUnavailable when the queue is full or the cluster did
// not accept the documents within WriteTimeout, storage.ErrConflict when a profile or
// session was written by someone else since this process read it.
func (s *Store) Commit(ctx context.Context, b *storage.Batch) error {
	if s.stopped.Load() {
		return fmt.Errorf("store closed: %w", storage.ErrUnavailable)
	}
	req, err := s.encode(b)
	if err != nil {
		return err
	}
	if len(req.items) == 0 {
		return nil
	}
	// The read lock orders this enqueue before Close stops the writers, which write
	// everything queued before they exit.
	s.closing.RLock()
	if s.stopped.Load() {
		s.closing.RUnlock()
		return fmt.Errorf("store closed: %w", storage.ErrUnavailable)
	}
	req.at = time.Now()
	select {
	case s.queue <- req:
		s.closing.RUnlock()
	default:
		s.closing.RUnlock()
		s.forgetFences(req)
		return fmt.Errorf("write queue full: %w", storage.ErrUnavailable)
	}
	// Once queued the write will be attempted; waiting for its outcome is what makes the
	// caller's acknowledgement honest, so ctx does not abandon it early.
	err = <-req.result
	if s.cfg.OnCommit != nil && err == nil {
		s.cfg.OnCommit(storage.CommitPhases{Queued: req.began.Sub(req.at), Write: req.ended.Sub(req.began), Answer: time.Since(req.ended)})
	}
	return err
}

// docSizeHint is the scratch buffer a document is encoded into first: most /track
// profiles, sessions and events fit, so most are encoded without the buffer growing.
const docSizeHint = 2048

// scratchPool holds the buffers documents are encoded into; each document is then copied
// out at its own size (a /track profile or session is about 600 bytes, an event about
// 1,300), so a request allocates what it stores rather than docSizeHint per document.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, docSizeHint); return &b }}

// appendDoc encodes a document with enc into a scratch buffer and returns an exact-size copy.
func appendDoc(enc func([]byte) ([]byte, error)) ([]byte, error) {
	sp := scratchPool.Get().(*[]byte)
	b, err := enc((*sp)[:0])
	var doc []byte
	if err == nil {
		doc = append(make([]byte, 0, len(b)), b...)
	}
	if cap(b) <= 64<<10 { // an unusually large document's buffer is not kept
		*sp = b[:0]
		scratchPool.Put(sp)
	}
	return doc, err
}

func (s *Store) encode(b *storage.Batch) (*commitReq, error) {
	req := &commitReq{result: make(chan error, 1)}
	add := func(it *item) {
		req.items = append(req.items, it)
		req.size += len(it.source) + len(it.id) + len(it.index) + 64
	}
	for _, p := range b.Profiles {
		doc, err := appendDoc(p.AppendJSON) // the hand-written encoder: the same bytes as encoding/json
		if err != nil {
			return nil, fmt.Errorf("encoding profile %s: %w", p.ID, err)
		}
		add(s.fencedItem(kindProfiles, p.ID, doc, p))
		if !p.Merged() {
			for _, it := range s.keyItems(p) {
				add(it)
			}
		}
	}
	for _, x := range b.Sessions {
		doc, err := appendDoc(x.AppendJSON)
		if err != nil {
			return nil, fmt.Errorf("encoding session %s: %w", x.ID, err)
		}
		add(s.fencedItem(kindSessions, x.ID, doc, x))
	}
	for _, e := range b.Events {
		doc, err := appendDoc(e.AppendJSON)
		if err != nil {
			return nil, fmt.Errorf("encoding event %s: %w", e.ID, err)
		}
		t := e.Metadata.Time.Insert.Time
		if t.IsZero() {
			t = time.Now()
		}
		// Create-only: an event id stored already is kept as it was (idempotent retries).
		add(&item{kind: kindEvents, op: "create", index: s.names.eventIndex(t), id: e.ID, source: doc, obj: e})
	}
	// The transactional outbox: the work items go in the same _bulk request, and the
	// commit succeeds only when they are stored too (outbox.go).
	now := time.Now()
	for _, w := range b.Work {
		it, err := s.outboxItem(w, now)
		if err != nil {
			return nil, err
		}
		add(it)
	}
	return req, nil
}

func (s *Store) fencedItem(kind, id string, doc []byte, obj any) *item {
	it := &item{kind: kind, op: "index", index: s.names.alias(kind), id: id, source: doc, obj: obj}
	if f, ok := s.fences.Peek(fenceKey(kind, id)); ok {
		s.fences.Remove(fenceKey(kind, id))
		if f.absent {
			it.op = "create"
		} else {
			it.fence = &f
		}
	}
	return it
}

// forgetFences drops the fences of a batch that was not written: its documents'
// versions are unknown now, and the next read records them again.
func (s *Store) forgetFences(req *commitReq) {
	for _, it := range req.items {
		if it.kind == kindProfiles || it.kind == kindSessions {
			s.fences.Remove(fenceKey(it.kind, it.id))
		}
	}
}

func (s *Store) writer() {
	defer s.wg.Done()
	batch := make([]*commitReq, 0, s.cfg.MaxBatch)
	for {
		var first *commitReq
		select {
		case first = <-s.queue:
		case <-s.stop:
			// Write what was accepted before Close.
			for {
				select {
				case req := <-s.queue:
					s.flush([]*commitReq{req})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
		size := first.size
	fill:
		for len(batch) < s.cfg.MaxBatch && size < s.cfg.MaxBulkBytes {
			select {
			case req := <-s.queue:
				batch = append(batch, req)
				size += req.size
			default:
				break fill
			}
		}
		if s.cfg.Linger > 0 && len(batch) < s.cfg.MaxBatch && size < s.cfg.MaxBulkBytes {
			wait := time.NewTimer(s.cfg.Linger)
		linger:
			for len(batch) < s.cfg.MaxBatch && size < s.cfg.MaxBulkBytes {
				select {
				case req := <-s.queue:
					batch = append(batch, req)
					size += req.size
				case <-wait.C:
					break linger
				case <-s.stop:
					break linger
				}
			}
			wait.Stop()
		}
		s.flush(batch)
	}
}

type pendingItem struct {
	req int
	it  *item
}

// bulkPath asks _bulk to answer only what the writer reads of each item: the cluster
// then encodes, and serve decodes, a third of the answer (no _index, _id, _version,
// result, _shards per item).
const bulkPath = "/_bulk?filter_path=items.*.status,items.*._seq_no,items.*._primary_term,items.*.error.type,items.*.error.reason"

type bulkResult struct {
	Status      int   `json:"status"`
	SeqNo       int64 `json:"_seq_no"`
	PrimaryTerm int64 `json:"_primary_term"`
	Error       *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

// flush writes the items of reqs with _bulk, retrying what the cluster could not take
// yet (429, 503, unreachable) with backoff until WriteTimeout, and answers each req.
//
// In two steps: first the events, then the profiles, sessions, key documents and work
// items of the commits whose events are stored. A profile is thus never written with
// the changes of an event that is not stored: a client's retry finds the event missing
// and applies it once. The other way round (event stored, profile write lost) the
// profile's list of applied events tells the retry to apply it again
// (domain.ProfileMetadata.Applied); event stored and work item lost, the retry plans
// the work again (collector replan).
func (s *Store) flush(reqs []*commitReq) {
	began := time.Now()
	errs := make([]error, len(reqs))
	var todo, later []pendingItem
	for i, r := range reqs {
		for _, it := range r.items {
			if it.kind == kindEvents {
				todo = append(todo, pendingItem{i, it})
			} else {
				later = append(later, pendingItem{i, it})
			}
		}
	}
	deadline := time.Now().Add(s.cfg.WriteTimeout)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	backoff := 25 * time.Millisecond
	var body bytes.Buffer
	size := 0
	for _, r := range reqs {
		size += r.size
	}
	body.Grow(size) // the whole body at once, not by doubling
	stored := 0
	touched := map[string]bool{}
	var fresh []storage.CachedDoc // written: the cache gets them
	var stale []string            // conflicting or of unknown state: the cache drops them
	var lastErr error
	for len(todo) > 0 || len(later) > 0 {
		if len(todo) == 0 { // second step
			for _, p := range later {
				if errs[p.req] == nil {
					todo = append(todo, p)
				}
			}
			later = nil
			if len(todo) == 0 {
				break
			}
			backoff = 25 * time.Millisecond
		}
		if err := s.ensureEventIndices(ctx, todo); err != nil {
			lastErr = err
		} else {
			body.Reset()
			for _, p := range todo {
				writeAction(&body, p.it)
			}
			var res struct {
				Errors bool                    `json:"errors"`
				Items  []map[string]bulkResult `json:"items"`
			}
			_, err := s.c.do(ctx, http.MethodPost, bulkPath, body.Bytes(), &res)
			switch {
			case err == nil && len(res.Items) != len(todo):
				lastErr = fmt.Errorf("bulk answered %d items for %d", len(res.Items), len(todo))
			case err == nil:
				var again []pendingItem
				for i, p := range todo {
					var r bulkResult
					for _, v := range res.Items[i] {
						r = v
					}
					touched[p.it.kind] = true
					if r.Status < 300 && (p.it.kind == kindProfiles || p.it.kind == kindSessions) {
						fresh = append(fresh, storage.CachedDoc{Key: cacheKey(p.it.kind, p.it.id), SeqNo: r.SeqNo, Term: r.PrimaryTerm, Source: p.it.source})
					} else if r.Status == http.StatusConflict && p.it.kind != kindEvents && p.it.kind != kindOutbox {
						stale = append(stale, cacheKey(p.it.kind, p.it.id))
					}
					if retry, err := s.itemDone(p.it, r); retry {
						again = append(again, p)
					} else if err != nil {
						if errs[p.req] == nil {
							errs[p.req] = err
						}
					} else if p.it.kind == kindEvents && r.Status < 300 {
						stored++
					}
				}
				todo = again[:0]
				for _, p := range again {
					if errs[p.req] == nil { // a failed commit's other documents need no retry
						todo = append(todo, p)
					}
				}
				if len(todo) == 0 {
					lastErr = nil
					break
				}
				lastErr = fmt.Errorf("cluster busy")
			case retriable(statusOf(err)) || statusOf(err) == 0:
				lastErr = err // unreachable or busy: retry the whole request
			default:
				lastErr = err
				for _, p := range todo {
					if errs[p.req] == nil {
						errs[p.req] = fmt.Errorf("writing batch: %w: %w", storage.ErrUnavailable, err)
					}
				}
				todo = nil
			}
		}
		if len(todo) == 0 {
			continue
		}
		if time.Until(deadline) < backoff {
			for _, p := range append(todo, later...) {
				if errs[p.req] == nil {
					errs[p.req] = fmt.Errorf("writing batch: %w: %w", storage.ErrUnavailable, lastErr)
				}
			}
			s.warn("bulk_write_failed", "error", fmt.Sprint(lastErr), "documents", len(todo))
			break
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, time.Second)
	}
	for kind := range touched {
		s.gens[kind].written.Add(1)
	}
	for i, r := range reqs {
		if errs[i] != nil {
			s.forgetFences(r)
			for _, it := range r.items { // their state in the cluster is unknown now
				if it.kind == kindProfiles || it.kind == kindSessions {
					stale = append(stale, cacheKey(it.kind, it.id))
				}
			}
		}
	}
	if s.cfg.Cache != nil {
		// Before any Commit returns, so before the pipeline releases its locks: the next
		// holder, on any replica, reads what was just written.
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if len(fresh) > 0 {
			if err := s.cfg.Cache.Set(cctx, fresh); err != nil {
				s.warn("doc_cache_set_failed", "error", err.Error())
				for _, d := range fresh {
					stale = append(stale, d.Key)
				}
			}
		}
		if len(stale) > 0 {
			if err := s.cfg.Cache.Delete(cctx, stale...); err != nil {
				s.warn("doc_cache_delete_failed", "error", err.Error())
			}
		}
		cancel()
	}
	ended := time.Now()
	for i, r := range reqs {
		r.began, r.ended = began, ended
		r.result <- errs[i]
	}
	if s.cfg.OnBatch != nil {
		s.cfg.OnBatch(len(reqs), stored)
	}
}

// itemDone interprets one item's answer: done (nil), failed (error) or to be retried.
func (s *Store) itemDone(it *item, r bulkResult) (retry bool, err error) {
	switch {
	case r.Status < 300:
		if it.kind == kindProfiles || it.kind == kindSessions {
			s.fences.Add(fenceKey(it.kind, it.id), fence{seq: r.SeqNo, term: r.PrimaryTerm})
		}
		if it.key != "" {
			s.keysDone.Add(it.key, struct{}{})
		}
		return false, nil
	case r.Status == http.StatusConflict && (it.kind == kindEvents || it.kind == kindOutbox):
		return false, nil // stored already: the id is the idempotency key
	case r.Status == http.StatusConflict:
		return false, fmt.Errorf("%s %q was changed by another writer since it was read: %w", strings.TrimSuffix(it.kind, "s"), it.id, storage.ErrConflict)
	case retriable(r.Status):
		return true, nil
	}
	typ, reason := "", ""
	if r.Error != nil {
		typ, reason = r.Error.Type, r.Error.Reason
	}
	switch {
	case r.Status == http.StatusBadRequest && !it.wrap && it.obj != nil &&
		(strings.Contains(typ, "parsing_exception") || typ == "illegal_argument_exception"):
		// A free-form value clashes with the mapping (a field that was a string is now an
		// object, say). Keep the document whole but unindexed rather than refuse it.
		s.log.Warn("document_stored_unindexed", "kind", it.kind, "id", it.id, "reason", reason)
		if err := wrapRaw(it); err != nil {
			return false, err
		}
		return true, nil
	case r.Status == http.StatusNotFound && it.kind == kindEvents && strings.Contains(typ, "index_not_found"):
		s.eventIndices.Delete(it.index)
		return true, nil
	}
	return false, fmt.Errorf("writing %s %q: %w: HTTP %d %s: %s", strings.TrimSuffix(it.kind, "s"), it.id, storage.ErrUnavailable, r.Status, typ, reason)
}

// writeAction appends one action line and its document to a _bulk body. The action is
// written by hand (it was the largest encoding/json cost of a commit after the
// documents): {"<op>":{"_index":…,"_id":…[,"if_seq_no":…,"if_primary_term":…][,"retry_on_conflict":…]}}.
func writeAction(buf *bytes.Buffer, it *item) {
	buf.Write(appendAction(buf.AvailableBuffer(), it.op, it.index, it.id, it.fence, it.retry))
	buf.Write(it.source)
	buf.WriteByte('\n')
}

// appendAction appends one action line (with its newline) of a _bulk body.
func appendAction(b []byte, op, index, id string, f *fence, retry int) []byte {
	b = append(b, `{"`...)
	b = append(b, op...)
	b = append(b, `":{"_index":`...)
	b = appendJSONString(b, index)
	b = append(b, `,"_id":`...)
	b = appendJSONString(b, id)
	if f != nil {
		b = append(b, `,"if_seq_no":`...)
		b = strconv.AppendInt(b, f.seq, 10)
		b = append(b, `,"if_primary_term":`...)
		b = strconv.AppendInt(b, f.term, 10)
	}
	if retry != 0 {
		b = append(b, `,"retry_on_conflict":`...)
		b = strconv.AppendInt(b, int64(retry), 10)
	}
	return append(b, "}}\n"...)
}

// appendJSONString appends s as a JSON string. Index names and ids are plain ASCII
// almost always; anything else goes through encoding/json, so the bytes are its own.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// ensureEventIndices creates the monthly event indices the items need (once per process
// and month: the template gives them their mapping and the read alias).
func (s *Store) ensureEventIndices(ctx context.Context, todo []pendingItem) error {
	for _, p := range todo {
		if p.it.kind != kindEvents {
			continue
		}
		if _, ok := s.eventIndices.Load(p.it.index); ok {
			continue
		}
		if err := s.createIndex(ctx, p.it.index); err != nil {
			return err
		}
		s.eventIndices.Store(p.it.index, true)
	}
	return nil
}

// wrapRaw rewrites an item's source so that the document is stored whole under
// rawField (unindexed) with only the fields the store itself needs indexed.
func wrapRaw(it *item) error {
	core := map[string]any{"id": it.id, rawField: json.RawMessage(it.source)}
	switch o := it.obj.(type) {
	case *domain.Profile:
		core["ids"] = o.IDs
		core["metadata"] = map[string]any{"merged_into": o.Metadata.MergedInto,
			"time": map[string]any{"insert": o.Metadata.Time.Insert, "create": o.Metadata.Time.Create}}
	case *domain.Session:
		core["profile"] = map[string]any{"id": o.Profile.ID}
		core["metadata"] = map[string]any{"time": map[string]any{"insert": o.Metadata.Time.Insert}}
	case *domain.Event:
		core["type"] = o.Type
		core["profile"] = map[string]any{"id": o.Profile.ID}
		core["session"] = map[string]any{"id": o.Session.ID}
		core["metadata"] = map[string]any{"time": map[string]any{"insert": o.Metadata.Time.Insert}}
	default:
		return errors.New("cannot rewrap document")
	}
	b, err := json.Marshal(core)
	if err != nil {
		return err
	}
	it.source, it.wrap = b, true
	return nil
}

// unwrap returns the stored document of a source that wrapRaw made, or src itself.
func unwrap(src []byte) []byte {
	if !bytes.Contains(src, []byte(`"`+rawField+`"`)) {
		return src
	}
	var w map[string]json.RawMessage
	if json.Unmarshal(src, &w) == nil && len(w[rawField]) > 0 && w[rawField][0] == '{' {
		return w[rawField]
	}
	return src
}
