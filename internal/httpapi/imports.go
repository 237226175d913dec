package httpapi

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/thamesthrive/thamesthrive/internal/imports"
	"github.com/thamesthrive/thamesthrive/internal/jobs"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// Importer stores an upload and queues its import job (imports.Importer).
type Importer interface {
	Start(ctx context.Context, kind, format string, body io.Reader) (*jobs.Job, error)
}

func init() {
	extraResponses["POST /api/v1/imports"] = map[string]string{
		"413": "the upload is larger than IMPORT_MAX_BYTES",
		"415": "the Content-Type is not text/csv or application/x-ndjson",
	}
	extraResponses["POST /api/v1/imports/{id}/cancel"] = map[string]string{"409": "the import has finished"}
}

// importRoutes registers the imports: an upload becomes a job of kind import, which
// the import routes show and cancel to those who may import (the job routes show it
// too, to their roles).
func (s *Server) importRoutes() {
	tag := []string{"imports"}
	idp := []Param{{Name: "id", In: "path", Description: "id of the import (its job's id)"}}
	s.handle("POST /api/v1/imports", permImports, s.startImport, Doc{Summary: "Import profiles or events from a CSV or NDJSON upload",
		Description: "The body is stored as it streams in (at most IMPORT_MAX_BYTES), then a worker imports it line by line: " +
			"progress, counts (read, stored, skipped, failed) and the first bad lines with their line numbers are in the answered job record. " +
			"Idempotent by id: importing a file again stores nothing new. Imported events are stored as they are: no rules, flows or deliveries run (docs/imports.md).",
		Tags: tag, Query: []Param{{Name: "kind", Description: "profiles or events", Required: true}},
		Request: "", RequestType: "text/csv,application/x-ndjson", Response: jobs.Job{}, Status: http.StatusAccepted})
	s.handle("GET /api/v1/imports", permImports, s.listImports, Doc{Summary: "List imports, newest first", Tags: tag,
		Response: listOf(jobs.Job{}), Query: append([]Param{{Name: "status", Description: "queued, running, done, failed, cancelled or interrupted"}}, pageParams...)})
	s.handle("GET /api/v1/imports/{id}", permImports, s.getImport, Doc{Summary: "Get an import and its progress", Tags: tag, Params: idp, Response: jobs.Job{}})
	s.handle("POST /api/v1/imports/{id}/cancel", permImports, s.cancelImport, Doc{Summary: "Cancel an unfinished import (409 when it has finished)",
		Tags: tag, Params: idp, Response: jobs.Job{}})
}

func (s *Server) startImport(w http.ResponseWriter, r *http.Request) {
	im := s.deps.Data.Imports
	if im == nil {
		s.fail(w, r, fmt.Errorf("imports are not available: %w", storage.ErrUnavailable))
		return
	}
	kind := r.URL.Query().Get("kind")
	if kind != imports.KindProfiles && kind != imports.KindEvents {
		s.fail(w, r, fmt.Errorf("kind: must be profiles or events: %w", storage.ErrInvalid))
		return
	}
	format, err := imports.FormatOf(r.Header.Get("Content-Type"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
		s.fail(w, r, fmt.Errorf("Content-Encoding: %q is not accepted; send the file as it is: %w", enc, storage.ErrInvalid))
		return
	}
	j, err := im.Start(r.Context(), kind, format, r.Body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/imports/"+j.ID)
	writeJSON(w, http.StatusAccepted, j)
}

func (s *Server) listImports(w http.ResponseWriter, r *http.Request) {
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
	items, total, err := jr.List(r.Context(), jobs.Filter{Kind: imports.JobKind, Status: r.URL.Query().Get("status"), Limit: page.Limit, Offset: page.Offset})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "items": items})
}

// importJob returns the import job id (404 for a job of another kind).
func (s *Server) importJob(r *http.Request) (*jobs.Job, error) {
	jr, err := s.jobRunner()
	if err != nil {
		return nil, err
	}
	j, err := jr.Get(r.Context(), r.PathValue("id"))
	if err == nil && j.Kind != imports.JobKind {
		err = fmt.Errorf("import %q: %w", r.PathValue("id"), storage.ErrNotFound)
	}
	return j, err
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request) {
	j, err := s.importJob(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, j)
}

func (s *Server) cancelImport(w http.ResponseWriter, r *http.Request) {
	j, err := s.importJob(r)
	if err == nil {
		err = s.deps.Data.Jobs.Cancel(r.Context(), j.ID)
	}
	if err == nil {
		j, err = s.importJob(r)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, j)
}
