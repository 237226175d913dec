package httpapi

import (
	"fmt"
	"net/http"

	"github.com/thamesthrive/thamesthrive/internal/jobs"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

func (s *Server) jobRoutes() {
	tag := []string{"jobs"}
	idp := []Param{{Name: "id", In: "path", Description: "id of the job"}}
	s.handle("GET /api/v1/jobs", permJobs, s.listJobs, Doc{Summary: "List background jobs, newest first", Tags: tag, Response: listOf(jobs.Job{}),
		Query: append([]Param{{Name: "kind", Description: "only jobs of this kind, such as segment-refresh"},
			{Name: "key", Description: "only jobs with this key, such as segment:<id>"},
			{Name: "status", Description: "queued, running, done, failed, cancelled or interrupted"}}, pageParams...)})
	s.handle("GET /api/v1/jobs/{id}", permJobs, s.getJob, Doc{Summary: "Get a background job and its progress", Tags: tag, Params: idp, Response: jobs.Job{}})
	s.handle("POST /api/v1/jobs/{id}/cancel", permJobs, s.cancelJob, Doc{Summary: "Cancel an unfinished job (409 when it has finished)",
		Tags: tag, Params: idp, Response: jobs.Job{}})
	s.importRoutes()
}

func (s *Server) jobRunner() (jobs.Runner, error) {
	if s.deps.Data.Jobs == nil {
		return nil, fmt.Errorf("no job runner: %w", storage.ErrUnavailable)
	}
	return s.deps.Data.Jobs, nil
}

// listJobs answers {"total", "items"}, newest first, filtered by ?kind, ?key (such as
// segment:<id>) and ?status, paged by ?limit and ?offset.
func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	page, err := pageOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	jr, err := s.jobRunner()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	items, total, err := jr.List(r.Context(), jobs.Filter{Kind: q.Get("kind"), Key: q.Get("key"), Status: q.Get("status"), Limit: page.Limit, Offset: page.Offset})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeList(w, total, items)
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	jr, err := s.jobRunner()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	j, err := jr.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, j)
}

// cancelJob stops an unfinished job (409 when it has finished) and answers its record.
func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	jr, err := s.jobRunner()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	if err := jr.Cancel(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	j, err := jr.Get(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, j)
}
