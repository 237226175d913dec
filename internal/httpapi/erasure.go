package httpapi

import (
	"errors"
	"net/http"
	"slices"

	"github.com/thamesthrive/thamesthrive/internal/audit"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Kinds recorded in the audit trail for erasures of data.
const (
	auditKindProfile = "profile"
	auditKindSession = "session"
	auditKindEvent   = "event"
)

// maxExport bounds the sessions and events one export holds (the search window of
// Elasticsearch).
const maxExport = maxSearchWindow

// profileExport is everything stored about a person.
type profileExport struct {
	Exported domain.Time `json:"exported"`
	// Profile is the live profile; Tombstones the profiles merged into it.
	Profile    *domain.Profile   `json:"profile"`
	Tombstones []*domain.Profile `json:"tombstones"`
	Sessions   []*domain.Session `json:"sessions"`
	Events     []*domain.Event   `json:"events"`
	// Truncated says that the person has more than maxExport sessions or events and
	// the export holds the first of them only.
	Truncated bool `json:"truncated"`
}

// erasureRoutes registers the right to be forgotten (delete) and the right of access
// (export).
func (s *Server) erasureRoutes() {
	data := []string{"data"}
	s.handle("DELETE /api/v1/profiles/{id}", permDeleteData, s.eraseProfile, Doc{Summary: "Erase a person (the right to be forgotten)", Tags: data,
		Description: "Deletes the profile (a merged-away id stands for its survivor), every profile merged into it (all ids in its ids), " +
			"and all their sessions and events, under the profile's lock so that a concurrent /track cannot write any of it back. " +
			"Answers how many of each were deleted.", Params: idParam, Response: storage.Erased{}})
	s.handle("GET /api/v1/profiles/{id}/export", permReadData, s.exportProfile, Doc{Summary: "Export everything stored about a person", Tags: data,
		Description: "One JSON document: the profile (a merged-away id stands for its survivor), the profiles merged into it, " +
			"their sessions and their events (newest first); at most 10000 sessions and 10000 events (truncated: true when there are more).", Params: idParam, Response: profileExport{}})
	s.handle("DELETE /api/v1/sessions/{id}", permDeleteData, s.deleteSession, Doc{Summary: "Delete a session (its events stay)", Tags: data,
		Params: idParam, Status: http.StatusNoContent})
	s.handle("DELETE /api/v1/events/{id}", permDeleteData, s.deleteEvent, Doc{Summary: "Delete an event", Tags: data,
		Params: idParam, Status: http.StatusNoContent})
}

func (s *Server) eraseProfile(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	n, err := s.deps.Collector.Erase(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("profile_erased", "profile", id, "profiles", n.Profiles, "sessions", n.Sessions, "events", n.Events)
	s.recordChange(r, audit.ActionDelete, auditKindProfile, id, 0)
	writeJSON(w, http.StatusOK, n)
}

func (s *Server) exportProfile(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p, err := s.resolveProfile(r, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := profileExport{Exported: domain.Now(), Profile: p, Tombstones: []*domain.Profile{}}
	ids := p.IDs
	for _, id := range p.IDs {
		if id == p.ID {
			continue
		}
		t, err := s.deps.Store.Profiles().Get(ctx, id)
		switch {
		case err == nil:
			out.Tombstones = append(out.Tombstones, t)
		case errors.Is(err, storage.ErrNotFound):
		default:
			s.fail(w, r, err)
			return
		}
	}
	if !slices.Contains(ids, p.ID) {
		ids = append(slices.Clone(ids), p.ID)
	}
	if out.Sessions, err = s.deps.Store.Erasure().SessionsOf(ctx, ids, maxExport); err != nil {
		s.fail(w, r, err)
		return
	}
	if out.Sessions == nil {
		out.Sessions = []*domain.Session{}
	}
	var total int64
	if out.Events, total, err = s.deps.Store.Erasure().EventsOf(ctx, ids, maxExport); err != nil {
		s.fail(w, r, err)
		return
	}
	if out.Events == nil {
		out.Events = []*domain.Event{}
	}
	out.Truncated = int64(len(out.Events)) < total
	out.Truncated = out.Truncated || len(out.Sessions) >= maxExport
	w.Header().Set("Content-Disposition", `attachment; filename="profile-`+safeFileName(p.ID)+`.json"`)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.deps.Collector.DeleteSession(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.recordChange(r, audit.ActionDelete, auditKindSession, id, 0)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteEvent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.deps.Store.Erasure().DeleteEvent(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.recordChange(r, audit.ActionDelete, auditKindEvent, id, 0)
	w.WriteHeader(http.StatusNoContent)
}

// safeFileName keeps letters, digits, '-', '_' and '.' of id.
func safeFileName(id string) string {
	b := make([]byte, 0, len(id))
	for i := 0; i < len(id) && len(b) < 100; i++ {
		c := id[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' {
			b = append(b, c)
		}
	}
	return string(b)
}
