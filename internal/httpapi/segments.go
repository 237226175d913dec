package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/jobs"
	"github.com/thamesthrive/thamesthrive/internal/segment"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

type pathIDKey struct{}

// withPathID makes the {id} of the path visible to a resource's Validate, which only
// gets the request's context (an update body need not repeat the id).
func withPathID(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h(w, r.WithContext(context.WithValue(r.Context(), pathIDKey{}, r.PathValue("id"))))
	}
}

// entityID is the id of the entity being validated: from the body, else the path.
func entityID(ctx context.Context, m *domain.Meta) string {
	if m.ID != "" {
		return m.ID
	}
	id, _ := ctx.Value(pathIDKey{}).(string)
	return id
}

func serialised(mu *sync.Mutex, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		h(w, r)
	}
}

func (s *Server) segmentResource() Resource[domain.Segment, *domain.Segment] {
	return Resource[domain.Segment, *domain.Segment]{
		Kind: domain.EntitySegment, Base: "/api/v1/segments", Read: permSegments, Write: permSegments,
		Validate: s.validateSegment, Changed: s.segmentChanged,
	}
}

func (s *Server) segmentRoutes() {
	r := s.segmentResource()
	docs := resourceDocs(r.Base, domain.Segment{})
	tag := []string{"segments"}
	idp := []Param{{Name: "id", In: "path", Description: "id of the segment"}}
	// Creates and updates are serialised in this process, so that two segments cannot
	// take the same machine name at once.
	var writes sync.Mutex
	s.handle("GET "+r.Base, r.Read, r.list(s), docs["GET "+r.Base])
	s.handle("POST "+r.Base, r.Write, serialised(&writes, r.create(s)), docs["POST "+r.Base])
	s.handle("GET "+r.Base+"/{id}", r.Read, r.get(s), docs["GET "+r.Base+"/{id}"])
	s.handle("PUT "+r.Base+"/{id}", r.Write, serialised(&writes, withPathID(r.update(s))), docs["PUT "+r.Base+"/{id}"])
	s.handle("DELETE "+r.Base+"/{id}", r.Write, r.remove(s), docs["DELETE "+r.Base+"/{id}"])
	s.handle("GET "+r.Base+"/{id}/count", r.Read, s.segmentCount, Doc{Summary: "Count the profiles that meet a segment's condition now",
		Tags: tag, Params: idp, Response: countAnswer{}})
	s.handle("GET "+r.Base+"/{id}/members", r.Read, s.segmentMembers, Doc{Summary: "List the profiles that meet a segment's condition now, newest first",
		Tags: tag, Params: idp, Query: pageParams, Response: searchListOf(domain.Profile{})})
	s.handle("POST "+r.Base+"/{id}/refresh", r.Write, s.segmentRefresh, Doc{Summary: "Re-evaluate a segment on every stored profile",
		Description: "Starts a background job (also started by every change of the segment); follow it at /api/v1/jobs/{id}.",
		Tags:        tag, Params: idp, Response: jobs.Job{}, Status: http.StatusAccepted})
}

type countAnswer struct {
	Count int64 `json:"count"`
}

func (s *Server) validateSegment(ctx context.Context, seg *domain.Segment) error {
	seg.MachineName = domain.SegmentMachineName(seg.Name)
	if seg.MachineName == "" {
		return invalid("name", "must contain a letter or a digit (the machine name is made of them)")
	}
	if strings.TrimSpace(seg.Condition) == "" {
		return invalid("condition", "is required")
	}
	if _, err := segment.ParseCondition(seg.Condition); err != nil {
		return invalid("condition", err.Error())
	}
	types := make([]string, 0, len(seg.EventTypes))
	for i, t := range seg.EventTypes {
		n := domain.NormalizeEventType(t)
		if n == "" || len(n) > 128 {
			return invalid(fmt.Sprintf("event_types[%d]", i), "must be an event type of 1-128 characters")
		}
		if !slices.Contains(types, n) {
			types = append(types, n)
		}
	}
	if len(types) > 100 {
		return invalid("event_types", "at most 100 event types")
	}
	seg.EventTypes = types
	self := entityID(ctx, &seg.Meta)
	ents, _, err := s.deps.Store.Entities().List(ctx, domain.EntitySegment, storage.ListOptions{})
	if err != nil {
		return err
	}
	for _, ent := range ents {
		if ent.ID == self {
			continue
		}
		other, err := segment.Load(ctx, s.deps.Store.Entities(), ent.ID)
		if err == nil && other.MachineName == seg.MachineName {
			return fmt.Errorf("name: segment %q already has the machine name %q: %w", other.ID, seg.MachineName, storage.ErrConflict)
		}
	}
	return nil
}

// segmentChanged applies a segment change: the pipeline reads segments again and a
// job re-evaluates every stored profile (superseding one still running for it).
func (s *Server) segmentChanged(id string) {
	ctx := context.Background()
	seg, err := segment.Load(ctx, s.deps.Store.Entities(), id)
	if err == nil {
		err = segment.Remember(ctx, s.deps.Store.Entities(), seg)
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.log.Error("segment_state_not_saved", "segment_id", id, "error", err)
	}
	d := s.deps.Data
	if d.Segments != nil {
		d.Segments.Invalidate()
	}
	if d.Jobs == nil {
		return
	}
	if _, err := d.Jobs.Submit(context.Background(), segment.RefreshJob, segment.JobKey(id), segment.RefreshParams{SegmentID: id}); err != nil {
		s.log.Error("segment_refresh_not_started", "segment_id", id, "error", err)
	}
}

// segmentRefresh starts a re-evaluation of every stored profile by hand (after an
// interrupted job, or for conditions on time such as now.offset("-30d")).
func (s *Server) segmentRefresh(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := segment.Load(r.Context(), s.deps.Store.Entities(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.deps.Data.Jobs == nil {
		s.fail(w, r, fmt.Errorf("no job runner: %w", storage.ErrUnavailable))
		return
	}
	job, err := s.deps.Data.Jobs.Submit(r.Context(), segment.RefreshJob, segment.JobKey(id), segment.RefreshParams{SegmentID: id})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, job)
}

// segmentQuery is the profile search for a segment's condition.
func (s *Server) segmentQuery(r *http.Request) (storage.Query, error) {
	seg, err := segment.Load(r.Context(), s.deps.Store.Entities(), r.PathValue("id"))
	if err != nil {
		return storage.Query{}, err
	}
	e, err := segment.ParseCondition(seg.Condition)
	if err != nil {
		return storage.Query{}, invalid("condition", err.Error())
	}
	return storage.Query{Where: e}, nil
}

// segmentCount answers {"count"}: how many live profiles meet the condition now.
func (s *Server) segmentCount(w http.ResponseWriter, r *http.Request) {
	q, err := s.segmentQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, total, err := s.deps.Store.Profiles().Search(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, countAnswer{Count: total})
}

// segmentMembers answers {"total", "items"}: the profiles meeting the condition,
// newest first, paged by ?limit and ?offset.
func (s *Server) segmentMembers(w http.ResponseWriter, r *http.Request) {
	q, err := s.segmentQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if q.Page, err = pageOf(r); err != nil {
		s.fail(w, r, err)
		return
	}
	if q.Page.Offset+q.Page.Limit > maxSearchWindow {
		s.fail(w, r, invalid("offset", fmt.Sprintf("offset+limit must be at most %d", maxSearchWindow)))
		return
	}
	q.TotalLimit = maxSearchWindow
	items, total, err := s.deps.Store.Profiles().Search(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeSearchList(w, q, total, items)
}
