package segment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/jobs"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// RefreshJob is the job kind that re-evaluates one segment on every stored profile.
const RefreshJob = "segment-refresh"

// stateKind stores, per segment id, the machine names the segment may have left on
// profiles: its current one and those of earlier names (or of the deleted segment)
// that a refresh has not yet removed everywhere.
const stateKind = "segment-state"

type state struct {
	MachineNames []string `json:"machine_names"`
}

// RefreshParams are the parameters of a RefreshJob.
type RefreshParams struct {
	SegmentID string `json:"segment_id"`
}

// JobKey is the key of segment id's refresh jobs: a new one supersedes the last.
func JobKey(id string) string { return "segment:" + id }

// Mutator changes one profile under the pipeline's lock and commits it
// (collector.Collector.Mutate).
type Mutator interface {
	Mutate(ctx context.Context, profileID string, fn func(w *pipeline.Work) error) error
}

// Refresher runs RefreshJobs.
type Refresher struct {
	// Candidates makes the job ask the store for only the profiles that can need a
	// change (see Run) instead of reading every live profile. It pays where the store
	// answers any profile condition from an index (Elasticsearch/OpenSearch: 1,000,000
	// profiles of which 50,000 candidates are 4.8 times cheaper for the job); on the
	// embedded store a condition outside INDEXED_PATHS, and segment membership, are
	// evaluated in SQL on every row's JSON, which costs three times what reading and
	// decoding each profile does (docs/performance.md, C round 4).
	Candidates bool

	store    storage.Store
	mut      Mutator
	batch    int
	parallel int
	now      func() time.Time
}

// NewRefresher returns a Refresher that reads profiles from store in batches of
// batch (default 500) and changes them through mut, eight at a time.
func NewRefresher(store storage.Store, mut Mutator, batch int) *Refresher {
	if batch <= 0 {
		batch = 500
	}
	return &Refresher{store: store, mut: mut, batch: batch, parallel: 8, now: time.Now}
}

// Run implements jobs.Handler. It brings every live profile in line with the segment
// as it is now: members of an enabled segment gain its machine name (segment-entered),
// non-members lose it (segment-left); the segment's earlier machine names (after a
// rename), and all of them after it was disabled or deleted, are removed without
// events, since no customer did anything. Profiles that need no change are not
// written. It is idempotent: running it again (or after an interruption) finishes
// the work.
func (r *Refresher) Run(ctx context.Context, t jobs.Task) error {
	var p RefreshParams
	if err := t.Decode(&p); err != nil {
		return err
	}
	if p.SegmentID == "" {
		return errors.New("segment_id is required")
	}
	ents := r.store.Entities()
	var cur *Compiled
	seg, err := Load(ctx, ents, p.SegmentID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return err
	case seg.Enabled:
		if cur, err = Compile(seg); err != nil {
			return fmt.Errorf("compiling segment %s: %w", seg.ID, err)
		}
	}
	// Record the current name before any profile gets it here (the API did so
	// already for the pipeline), so that a rename after an interruption still knows
	// to remove it.
	var st state
	err = updateState(ctx, ents, p.SegmentID, func(s *state) {
		if cur != nil && !slices.Contains(s.MachineNames, cur.Segment.MachineName) {
			s.MachineNames = append(s.MachineNames, cur.Segment.MachineName)
		}
		st = *s
	})
	if err != nil {
		return err
	}
	var stale []string
	for _, n := range st.MachineNames {
		if cur == nil || n != cur.Segment.MachineName {
			stale = append(stale, n)
		}
	}

	// Only two kinds of profile can need a change: those that meet the condition (they
	// may lack the name) and those that hold the name or a stale one (they may have to
	// lose it). With Candidates the store reads just those and every other profile is
	// left unread; otherwise every live profile is read and evaluated in memory.
	// Without a current segment only the holders of a stale name matter. A condition
	// the store cannot express (query.ErrUnsupported, e.g. two fields compared on
	// Elasticsearch) walks every profile instead.
	var where query.Expr
	switch {
	case cur != nil && r.Candidates:
		where = &query.Binary{Op: query.Or, X: cur.Expr, Y: holdsAny(append([]string{cur.Segment.MachineName}, stale...))}
	case cur == nil && len(stale) > 0:
		where = holdsAny(stale)
	}
	if cur == nil && where == nil {
		t.SetTotal(0)
	} else {
		var total int64
		if where != nil {
			_, total, err = r.store.Profiles().Search(ctx, storage.Query{Where: where})
			if cur != nil && errors.Is(err, query.ErrUnsupported) {
				where = nil
			}
		}
		if where == nil {
			total, err = r.store.Profiles().Count(ctx)
		}
		if err != nil {
			return err
		}
		t.SetTotal(total)
		if err := r.walk(ctx, t, where, cur, stale); err != nil {
			return err
		}
	}
	// The stale names are gone from every profile; names recorded meanwhile stay.
	return updateState(ctx, ents, p.SegmentID, func(s *state) {
		s.MachineNames = slices.DeleteFunc(s.MachineNames, func(n string) bool { return slices.Contains(stale, n) })
	})
}

func (r *Refresher) walk(ctx context.Context, t jobs.Task, where query.Expr, cur *Compiled, stale []string) error {
	after := ""
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ps, err := r.store.Profiles().Scan(ctx, where, after, r.batch)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			return nil
		}
		now := r.now()
		var todo []string
		for _, p := range ps {
			needed := slices.ContainsFunc(p.Segments, func(s string) bool { return slices.Contains(stale, s) })
			if cur != nil && cur.Match(cur.Doc(p), now) != slices.Contains(p.Segments, cur.Segment.MachineName) {
				needed = true
			}
			if needed {
				todo = append(todo, p.ID)
			}
		}
		if err := r.update(ctx, t, todo, cur, stale, now); err != nil {
			return err
		}
		t.Advance(int64(len(ps)))
		after = ps[len(ps)-1].ID
	}
}

// update brings the profiles ids in line, several at a time so that their commits
// share the store's group commit (each is durable on its own, as a request is).
func (r *Refresher) update(ctx context.Context, t jobs.Task, ids []string, cur *Compiled, stale []string, now time.Time) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	next := make(chan string)
	for i := 0; i < min(r.parallel, len(ids)); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				if err := r.updateOne(ctx, t, id, cur, stale, now); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for _, id := range ids {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		select {
		case next <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// updateOne decides again on the locked, current profile: it may have changed since
// it was read.
func (r *Refresher) updateOne(ctx context.Context, t jobs.Task, id string, cur *Compiled, stale []string, now time.Time) error {
	err := r.mut.Mutate(ctx, id, func(w *pipeline.Work) error {
		before := slices.Clone(w.Profile.Segments)
		w.Profile.Segments = slices.DeleteFunc(w.Profile.Segments, func(s string) bool { return slices.Contains(stale, s) })
		removed := len(before) - len(w.Profile.Segments)
		var ch Change
		if cur != nil {
			// A profile that held an earlier name of the segment was a member: a
			// rename alone is not an entry.
			was := removed > 0 || slices.Contains(w.Profile.Segments, cur.Segment.MachineName)
			ch = set(w, cur, cur.Match(cur.Doc(w.Profile), now), was)
		}
		if slices.Equal(before, w.Profile.Segments) {
			return errUnchanged
		}
		t.Count("removed_names", int64(removed))
		t.Count("entered", int64(len(ch.Entered)))
		t.Count("left", int64(len(ch.Left)))
		return nil
	})
	if err != nil && !errors.Is(err, errUnchanged) && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("updating profile %s: %w", id, err)
	}
	return nil
}

// errUnchanged makes Mutate store nothing when the locked profile needs no change.
var errUnchanged = errors.New("unchanged")

// holdsAny is the condition profile@segments == [names…].
func holdsAny(names []string) query.Expr {
	l := &query.List{}
	for _, n := range names {
		l.Elems = append(l.Elems, &query.Literal{Kind: query.KindString, Str: n})
	}
	return &query.Compare{Op: query.Eq, X: &query.Field{Scope: "profile", Path: []string{"segments"}}, Y: l}
}

// Remember records seg's machine name among those the segment may leave on
// profiles. The API calls it whenever a segment is saved, before requests can use the
// name, so that a later rename or deletion removes it even if no refresh ran between.
func Remember(ctx context.Context, entities storage.Entities, seg *domain.Segment) error {
	return updateState(ctx, entities, seg.ID, func(s *state) {
		if seg.MachineName != "" && !slices.Contains(s.MachineNames, seg.MachineName) {
			s.MachineNames = append(s.MachineNames, seg.MachineName)
		}
	})
}

// updateState changes a segment's state with fn, retrying when another writer
// changed it in between (optimistic concurrency on the entity's version).
func updateState(ctx context.Context, entities storage.Entities, id string, fn func(*state)) error {
	for attempt := 0; ; attempt++ {
		var st state
		var version int64
		ent, err := entities.Get(ctx, stateKind, id)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return err
		default:
			if err := json.Unmarshal(ent.Doc, &st); err != nil {
				return fmt.Errorf("decoding segment state %s: %w", id, err)
			}
			version = ent.Version
		}
		before := slices.Clone(st.MachineNames)
		fn(&st)
		if slices.Equal(before, st.MachineNames) {
			return nil
		}
		if st.MachineNames == nil {
			st.MachineNames = []string{}
		}
		doc, err := json.Marshal(st)
		if err != nil {
			return err
		}
		_, err = entities.Put(ctx, &storage.Entity{Kind: stateKind, ID: id, Doc: doc}, version)
		if !errors.Is(err, storage.ErrConflict) || attempt >= 20 {
			if err != nil {
				return fmt.Errorf("saving segment state %s: %w", id, err)
			}
			return nil
		}
	}
}

var _ jobs.Handler = (*Refresher)(nil).Run
