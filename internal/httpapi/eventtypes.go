package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/mapping"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

func (s *Server) eventTypeResource() Resource[domain.EventType, *domain.EventType] {
	return Resource[domain.EventType, *domain.EventType]{
		Kind: domain.EntityEventType, Base: "/api/v1/event-types", Read: permEventTypes, Write: permEventTypes,
		Validate: validateEventType,
		Changed: func(string) {
			if s.deps.Data.EventTypes != nil {
				s.deps.Data.EventTypes.Invalidate()
			}
		},
	}
}

// eventTypeRoutes serves event types under their type: PUT /api/v1/event-types/{type}
// creates or replaces one.
func (s *Server) eventTypeRoutes() {
	r := s.eventTypeResource()
	docs := resourceDocs(r.Base, domain.EventType{})
	put := docs["PUT "+r.Base+"/{id}"]
	put.Summary = "Create or replace an event type"
	put.Description = "The path names the event type (normalised: lower case, '-' for spaces). 201 when it is created. " + put.Description
	put.Params = []Param{{Name: "id", In: "path", Description: "the event type, such as purchase"}}
	s.handle("GET "+r.Base, r.Read, r.list(s), docs["GET "+r.Base])
	s.handle("POST "+r.Base, r.Write, r.create(s), docs["POST "+r.Base])
	s.handle("GET "+r.Base+"/{id}", r.Read, r.get(s), docs["GET "+r.Base+"/{id}"])
	s.handle("PUT "+r.Base+"/{id}", r.Write, withPathID(upsert(s, r)), put)
	s.handle("DELETE "+r.Base+"/{id}", r.Write, r.remove(s), docs["DELETE "+r.Base+"/{id}"])
}

// upsert updates the event type at the path like PUT on any resource, or creates it
// (201) when there is none: validateEventType takes the id from the path.
func upsert(s *Server, r Resource[domain.EventType, *domain.EventType]) http.HandlerFunc {
	update, create := r.update(s), r.create(s)
	return func(w http.ResponseWriter, req *http.Request) {
		_, err := r.Load(req.Context(), s.deps.Store.Entities(), req.PathValue("id"))
		switch {
		case err == nil:
			update(w, req)
		case errors.Is(err, storage.ErrNotFound):
			create(w, req)
		default:
			s.fail(w, req, err)
		}
	}
}

func validateEventType(ctx context.Context, t *domain.EventType) error {
	id := entityID(ctx, &t.Meta)
	path, _ := ctx.Value(pathIDKey{}).(string)
	switch {
	case path != "" && id != path:
		return invalid("id", "does not match the id in the path")
	case id == "":
		return invalid("id", "is required: the event type, such as purchase")
	case domain.NormalizeEventType(id) != id || !idPattern.MatchString(id):
		return invalid("id", fmt.Sprintf("must be a normalised event type (lower case, '-' for spaces), such as %q", domain.NormalizeEventType(id)))
	}
	t.ID = id
	if t.ProfileMapping == nil {
		t.ProfileMapping = []domain.ProfileMapping{}
	}
	if len(t.ProfileMapping) > 100 {
		return invalid("profile_mapping", "at most 100 mappings")
	}
	// Compile checks the mappings, on_invalid and the schema (a JSON Schema that
	// does not compile, or refers to other documents, is a 400 naming "schema").
	if _, err := mapping.Compile(t); err != nil {
		return fmt.Errorf("%w: %w", err, storage.ErrInvalid)
	}
	return nil
}
