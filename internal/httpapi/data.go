package httpapi

import (
	"net/http"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// resolveProfile follows merge tombstones, so an id that was merged away answers the
// surviving profile.
func (s *Server) resolveProfile(r *http.Request, id string) (*domain.Profile, error) {
	for hops := 0; ; hops++ {
		p, err := s.deps.Store.Profiles().Get(r.Context(), id)
		if err != nil || !p.Merged() || hops >= 16 {
			return p, err
		}
		id = p.Metadata.MergedInto
	}
}

func (s *Server) getProfile(w http.ResponseWriter, r *http.Request) {
	p, err := s.resolveProfile(r, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) profileEvents(w http.ResponseWriter, r *http.Request) {
	page, err := pageOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.resolveProfile(r, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	evs, total, err := s.deps.Store.Events().ListByProfile(r.Context(), p.IDs, page)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeList(w, total, evs)
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	x, err := s.deps.Store.Sessions().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, x)
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	ev, err := s.deps.Store.Events().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ev)
}
