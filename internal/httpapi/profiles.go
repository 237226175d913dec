package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// profileListRoutes registers the plain lists the GUI pages through: every live
// profile, and the sessions of one profile.
func (s *Server) profileListRoutes() {
	data := []string{"data"}
	s.handle("GET /api/v1/profiles", permReadData, s.listProfiles, Doc{Summary: "List live profiles, newest first", Tags: data,
		Description: "A plain page of profiles (merged-away ones left out); POST /api/v1/profiles/search filters and sorts.",
		Query:       pageParams, Response: searchListOf(domain.Profile{})})
	s.handle("GET /api/v1/profiles/{id}/sessions", permReadData, s.profileSessions, Doc{Summary: "List a profile's sessions, newest first",
		Description: "The sessions of the profile and of every id merged into it (a merged-away id answers the survivor's).",
		Tags:        data, Params: idParam, Query: pageParams, Response: listOf(domain.Session{})})
}

// searchPage checks that a page stays inside the search window of the stores.
func searchPage(r *http.Request) (storage.Page, error) {
	page, err := pageOf(r)
	if err == nil && page.Offset+page.Limit > maxSearchWindow {
		err = invalid("offset", "offset+limit must be at most "+strconv.Itoa(maxSearchWindow)+": use POST …/search with a condition to see further")
	}
	return page, err
}

func (s *Server) listProfiles(w http.ResponseWriter, r *http.Request) {
	page, err := searchPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := storage.Query{Page: page, TotalLimit: maxSearchWindow}
	items, total, err := s.deps.Store.Profiles().Search(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeSearchList(w, q, total, items)
}

func (s *Server) profileSessions(w http.ResponseWriter, r *http.Request) {
	page, err := searchPage(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.resolveProfile(r, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ids := p.IDs
	if len(ids) == 0 {
		ids = []string{p.ID}
	}
	terms := make([]string, 0, len(ids))
	for _, id := range ids {
		terms = append(terms, "profile.id == "+strconv.Quote(id))
	}
	where, err := query.ParseOptions{DefaultScope: "session"}.Parse(strings.Join(terms, " OR "))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items, total, err := s.deps.Store.Sessions().Search(r.Context(), storage.Query{Where: where, Page: page})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeList(w, total, items)
}
