package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/thamesthrive/thamesthrive/internal/audit"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/secrets"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// route is one registered GUI API route and the roles allowed on it. The table of
// routes is what the role tests and the OpenAPI document walk.
type route struct {
	Pattern string
	Perm    perm
}

// handle registers a GUI API route that needs a bearer token of a user whose roles the
// permission table allows p. doc (one, optional here but required by the OpenAPI
// test) describes the route for the OpenAPI document.
func (s *Server) handle(pattern string, p perm, h http.HandlerFunc, doc ...Doc) {
	s.apiRoutes = append(s.apiRoutes, route{Pattern: pattern, Perm: p})
	s.meta.add(pattern, doc)
	s.mux.Handle(pattern, s.authed(p, h))
}

// Routes lists the GUI API routes with their permissions.
func (s *Server) Routes() []route { return slices.Clone(s.apiRoutes) }

// metaEntity is implemented by configuration entities, which embed domain.Meta.
type metaEntity[T any] interface {
	*T
	GetMeta() *domain.Meta
}

// Resource describes a configuration entity served with list, get, create, update and
// delete under Base: one implementation of CRUD, validation order, versioning and
// pagination for every kind.
type Resource[T any, PT metaEntity[T]] struct {
	Kind  string // storage entity kind
	Base  string // e.g. "/api/v1/event-sources"
	Read  perm
	Write perm
	// Validate checks and normalises a decoded entity before it is stored; it
	// returns errors made with invalid(field, msg). Meta fields are checked already.
	Validate func(ctx context.Context, v PT) error
	// Changed runs after a successful create, update or delete of id.
	Changed func(id string)
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func invalid(field, msg string) error {
	return fmt.Errorf("%s: %s: %w", field, msg, storage.ErrInvalid)
}

// register adds the five routes of r.
func register[T any, PT metaEntity[T]](s *Server, r Resource[T, PT]) {
	docs := resourceDocs(r.Base, *new(T))
	s.handle("GET "+r.Base, r.Read, r.list(s), docs["GET "+r.Base])
	s.handle("POST "+r.Base, r.Write, r.create(s), docs["POST "+r.Base])
	s.handle("GET "+r.Base+"/{id}", r.Read, r.get(s), docs["GET "+r.Base+"/{id}"])
	s.handle("PUT "+r.Base+"/{id}", r.Write, r.update(s), docs["PUT "+r.Base+"/{id}"])
	s.handle("DELETE "+r.Base+"/{id}", r.Write, r.remove(s), docs["DELETE "+r.Base+"/{id}"])
}

// Load reads one entity of this resource from the store.
func (r Resource[T, PT]) Load(ctx context.Context, entities storage.Entities, id string) (PT, error) {
	ent, err := entities.Get(ctx, r.Kind, id)
	if err != nil {
		return nil, err
	}
	return r.decodeStored(ent)
}

func (r Resource[T, PT]) decodeStored(ent *storage.Entity) (PT, error) {
	v := PT(new(T))
	if err := json.Unmarshal(ent.Doc, v); err != nil {
		return nil, fmt.Errorf("decoding %s %q: %w", r.Kind, ent.ID, err)
	}
	v.GetMeta().Version = ent.Version
	return v, nil
}

// decode reads a request body; fields left out keep the defaults (enabled: true, and
// id: the id of the path for an update, so that Validate knows which entity it checks).
func (r Resource[T, PT]) decode(w http.ResponseWriter, req *http.Request, id string) (PT, error) {
	v := PT(new(T))
	v.GetMeta().Enabled = true
	v.GetMeta().ID = id
	if err := decodeJSON(w, req, v); err != nil {
		return nil, err
	}
	m := v.GetMeta()
	m.Name = strings.TrimSpace(m.Name)
	if m.Name == "" || len(m.Name) > 200 {
		return nil, invalid("name", "is required and at most 200 characters")
	}
	if len(m.Description) > 10000 {
		return nil, invalid("description", "is longer than 10000 characters")
	}
	if m.Tags == nil {
		m.Tags = []string{}
	}
	for i, t := range m.Tags {
		if t = strings.TrimSpace(t); t == "" || len(t) > 100 {
			return nil, invalid(fmt.Sprintf("tags[%d]", i), "must be 1-100 characters")
		}
	}
	if err := r.Validate(req.Context(), v); err != nil {
		return nil, err
	}
	return v, nil
}

// store writes v with its secret fields sealed (one sent as the mask keeps what old,
// the stored version or nil, holds), records the change in the audit trail and answers
// v with its secrets masked.
func (r Resource[T, PT]) store(s *Server, w http.ResponseWriter, req *http.Request, v, old PT, ifVersion int64, status int) {
	m := v.GetMeta()
	m.Version = 0
	if err := s.sealSecrets(v, old); err != nil {
		s.fail(w, req, err)
		return
	}
	doc, err := json.Marshal(v)
	if err != nil {
		s.fail(w, req, err)
		return
	}
	ver, err := s.deps.Store.Entities().Put(req.Context(), &storage.Entity{Kind: r.Kind, ID: m.ID, Doc: doc}, ifVersion)
	if err != nil {
		s.fail(w, req, err)
		return
	}
	m.Version = ver
	if r.Changed != nil {
		r.Changed(m.ID)
	}
	s.recordChange(req, changeAction(ifVersion), r.Kind, m.ID, ver)
	secrets.MaskFields(v)
	writeJSON(w, status, v)
}

func (r Resource[T, PT]) create(s *Server) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		v, err := r.decode(w, req, "")
		if err != nil {
			s.fail(w, req, err)
			return
		}
		m := v.GetMeta()
		if m.ID == "" {
			m.ID = uuid.NewString()
		} else if !idPattern.MatchString(m.ID) {
			s.fail(w, req, invalid("id", "must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"))
			return
		}
		now := domain.Now()
		m.Created, m.Updated = now, now
		r.store(s, w, req, v, nil, 0, http.StatusCreated)
	}
}

// update replaces an entity. With "version" in the body the update applies only if the
// stored entity is still at that version (409 otherwise); without it, last write wins.
func (r Resource[T, PT]) update(s *Server) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		id := req.PathValue("id")
		old, err := r.Load(req.Context(), s.deps.Store.Entities(), id)
		if err != nil {
			s.fail(w, req, err)
			return
		}
		v, err := r.decode(w, req, id)
		if err != nil {
			s.fail(w, req, err)
			return
		}
		m := v.GetMeta()
		if m.ID != "" && m.ID != id {
			s.fail(w, req, invalid("id", "does not match the id in the path"))
			return
		}
		ifVersion := m.Version
		if ifVersion == 0 {
			ifVersion = -1
		}
		m.ID = id
		m.Created, m.Updated = old.GetMeta().Created, domain.Now()
		r.store(s, w, req, v, old, ifVersion, http.StatusOK)
	}
}

func (r Resource[T, PT]) get(s *Server) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		v, err := r.Load(req.Context(), s.deps.Store.Entities(), req.PathValue("id"))
		if err != nil {
			s.fail(w, req, err)
			return
		}
		secrets.MaskFields(v)
		writeJSON(w, http.StatusOK, v)
	}
}

func (r Resource[T, PT]) remove(s *Server) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		id := req.PathValue("id")
		if err := s.deps.Store.Entities().Delete(req.Context(), r.Kind, id); err != nil {
			s.fail(w, req, err)
			return
		}
		if r.Changed != nil {
			r.Changed(id)
		}
		s.recordChange(req, audit.ActionDelete, r.Kind, id, 0)
		w.WriteHeader(http.StatusNoContent)
	}
}

// list answers {"total", "items"}, filtered by ?tag= (every given tag) and ?q= (text in
// id, name or description, case-insensitive), paged by ?limit= and ?offset=.
// Configuration entities are few, so filtering happens here rather than in each store.
func (r Resource[T, PT]) list(s *Server) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		page, err := pageOf(req)
		if err != nil {
			s.fail(w, req, err)
			return
		}
		q := req.URL.Query()
		text := strings.ToLower(q.Get("q"))
		tags := q["tag"]
		ents, _, err := s.deps.Store.Entities().List(req.Context(), r.Kind, storage.ListOptions{})
		if err != nil {
			s.fail(w, req, err)
			return
		}
		items := make([]PT, 0, min(len(ents), page.Limit))
		total := 0
		for _, e := range ents {
			v, err := r.decodeStored(e)
			if err != nil {
				s.fail(w, req, err)
				return
			}
			m := v.GetMeta()
			if text != "" && !strings.Contains(strings.ToLower(m.ID+"\x00"+m.Name+"\x00"+m.Description), text) {
				continue
			}
			if !hasAll(m.Tags, tags) {
				continue
			}
			if total >= page.Offset && len(items) < page.Limit {
				secrets.MaskFields(v)
				items = append(items, v)
			}
			total++
		}
		writeList(w, total, items)
	}
}

func hasAll(have, want []string) bool {
	for _, t := range want {
		if !slices.Contains(have, t) {
			return false
		}
	}
	return true
}
