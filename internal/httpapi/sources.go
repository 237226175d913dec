package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// sourceInput is what clients send to create or replace a source.
type sourceInput struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Description    string   `json:"description"`
	Type           string   `json:"type"`
	Enabled        *bool    `json:"enabled"`
	Tags           []string `json:"tags"`
	AllowedOrigins []string `json:"allowed_origins"`
	Version        int64    `json:"version"`
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func invalid(field, msg string) error {
	return fmt.Errorf("%s: %s: %w", field, msg, storage.ErrInvalid)
}

func (in *sourceInput) toSource() (*domain.Source, error) {
	if in.ID != "" && !idPattern.MatchString(in.ID) {
		return nil, invalid("id", "must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 200 {
		return nil, invalid("name", "is required and at most 200 characters")
	}
	switch in.Type {
	case "":
		in.Type = domain.SourceREST
	case domain.SourceREST, domain.SourceWebhook:
	default:
		return nil, invalid("type", fmt.Sprintf("must be %q or %q", domain.SourceREST, domain.SourceWebhook))
	}
	for i, o := range in.AllowedOrigins {
		if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
			return nil, invalid(fmt.Sprintf("allowed_origins[%d]", i), "must be \"*\" or an origin such as https://shop.example.com")
		}
	}
	enabled := in.Enabled == nil || *in.Enabled
	src := &domain.Source{Meta: domain.Meta{ID: in.ID, Name: in.Name, Description: in.Description, Enabled: enabled, Tags: in.Tags},
		Type: in.Type, AllowedOrigins: in.AllowedOrigins}
	if src.Tags == nil {
		src.Tags = []string{}
	}
	if src.AllowedOrigins == nil {
		src.AllowedOrigins = []string{}
	}
	return src, nil
}

func (s *Server) putSource(w http.ResponseWriter, r *http.Request, src *domain.Source, ifVersion int64, status int) {
	doc, _ := json.Marshal(src)
	v, err := s.deps.Store.Entities().Put(r.Context(), &storage.Entity{Kind: collector.EntitySource, ID: src.ID, Doc: doc}, ifVersion)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	src.Version = v
	s.deps.Sources.Invalidate(src.ID)
	writeJSON(w, status, src)
}

func (s *Server) createSource(w http.ResponseWriter, r *http.Request) {
	var in sourceInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	src, err := in.toSource()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if src.ID == "" {
		src.ID = uuid.NewString()
	}
	now := domain.Now()
	src.Created, src.Updated = now, now
	s.putSource(w, r, src, 0, http.StatusCreated)
}

func (s *Server) updateSource(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	old, err := collector.LoadSource(r.Context(), s.deps.Store.Entities(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in sourceInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if in.ID != "" && in.ID != id {
		s.fail(w, r, invalid("id", "does not match the id in the path"))
		return
	}
	in.ID = id
	src, err := in.toSource()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	src.Created, src.Updated = old.Created, domain.Now()
	ifVersion := in.Version // 0: last write wins (-1), n: must still be version n
	if ifVersion == 0 {
		ifVersion = -1
	}
	s.putSource(w, r, src, ifVersion, http.StatusOK)
}

func (s *Server) getSource(w http.ResponseWriter, r *http.Request) {
	src, err := collector.LoadSource(r.Context(), s.deps.Store.Entities(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, src)
}

func (s *Server) deleteSource(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.deps.Store.Entities().Delete(r.Context(), collector.EntitySource, id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.deps.Sources.Invalidate(id)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listSources(w http.ResponseWriter, r *http.Request) {
	page, err := pageOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ents, total, err := s.deps.Store.Entities().List(r.Context(), collector.EntitySource, storage.ListOptions{Page: page})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]*domain.Source, 0, len(ents))
	for _, e := range ents {
		var src domain.Source
		if err := json.Unmarshal(e.Doc, &src); err != nil {
			s.fail(w, r, fmt.Errorf("decoding source %q: %w", e.ID, err))
			return
		}
		src.Version = e.Version
		items = append(items, &src)
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "items": items})
}

// pageOf reads ?limit= (default 50, at most 1000) and ?offset=.
func pageOf(r *http.Request) (storage.Page, error) {
	p := storage.Page{Limit: 50}
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return p, invalid("limit", "must be an integer from 1 to 1000")
		}
		p.Limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, invalid("offset", "must be a non-negative integer")
		}
		p.Offset = n
	}
	return p, nil
}
