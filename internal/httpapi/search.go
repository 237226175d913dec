package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/jobs"
	"github.com/thamesthrive/thamesthrive/internal/mapping"
	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/query/eval"
	"github.com/thamesthrive/thamesthrive/internal/segment"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// DataDeps are the services behind search, segments, event types and jobs. Any may be
// nil in tests that do not use them.
type DataDeps struct {
	Segments   *segment.Engine
	EventTypes *mapping.Mapper
	Jobs       jobs.Runner
	Imports    Importer // nil: no imports
}

// maxSearchWindow bounds offset+limit of a search, as search engines do (deep pages
// cost the store the whole prefix): narrow the condition instead. It is also where a
// list's total stops counting (storage.Query.TotalLimit): past it no page can be
// reached, and an exact count of millions of matches costs more than the page.
const maxSearchWindow = 10000

// dataRoutes registers search, condition checks, segments, event types and jobs.
func (s *Server) dataRoutes() {
	data := []string{"data"}
	searchDoc := func(kind string, item any) Doc {
		return Doc{Summary: "Search " + kind + " with the condition language", Tags: data, Request: searchRequest{}, Response: searchListOf(item),
			Description: "where: a condition whose fields may leave out the scope (400 with the parser's line and column when it is wrong); " +
				"limit 0-1000 (default 50; 0 answers only the total); offset+limit at most 10000; sort: up to 5 {field, order: asc|desc}, " +
				"missing values last; default newest first. total counts up to 10000 matches: beyond, total is 10000 and " +
				`total_relation "gte" (otherwise "eq"); exact_total: true counts every match (slower on large stores).`}
	}
	s.handle("POST /api/v1/profiles/search", permReadData, searchHandler(s, "profile", s.deps.Store.Profiles().Search), searchDoc("profiles", domain.Profile{}))
	s.handle("POST /api/v1/sessions/search", permReadData, searchHandler(s, "session", s.deps.Store.Sessions().Search), searchDoc("sessions", domain.Session{}))
	s.handle("POST /api/v1/events/search", permReadData, searchHandler(s, "event", s.deps.Store.Events().Search), searchDoc("events", domain.Event{}))
	s.handle("POST /api/v1/conditions/check", permReadData, s.checkCondition, Doc{Summary: "Evaluate a condition in memory", Tags: data,
		Description: "Against the stored profile, session and event named by id (an event brings its session and profile) and the " +
			"documents given by scope, which win.", Request: checkRequest{}, Response: checkAnswer{}})
	s.segmentRoutes()
	s.eventTypeRoutes()
	s.jobRoutes()
}

type searchRequest struct {
	Where  string    `json:"where"`
	Limit  *int      `json:"limit"`
	Offset int       `json:"offset"`
	Sort   []sortKey `json:"sort"`
	// ExactTotal counts every match; by default the count stops after maxSearchWindow.
	ExactTotal bool `json:"exact_total"`
}

type sortKey struct {
	Field string `json:"field"`
	Order string `json:"order"`
}

// parseScoped parses a search condition in which fields default to scope and may name
// no other. Errors name the field and keep the parser's position.
func parseScoped(field, src, scope string) (query.Expr, error) {
	e, err := query.ParseOptions{DefaultScope: scope, Scopes: []string{scope},
		ScopeMessage: "only " + scope + " fields can be used here"}.Parse(src)
	if err != nil {
		return nil, invalid(field, err.Error())
	}
	return e, nil
}

// decodeSearch turns a search body into a storage query for documents of scope.
func decodeSearch(w http.ResponseWriter, r *http.Request, scope string) (storage.Query, error) {
	var body searchRequest
	var q storage.Query
	if err := decodeJSON(w, r, &body); err != nil {
		return q, err
	}
	if strings.TrimSpace(body.Where) != "" {
		e, err := parseScoped("where", body.Where, scope)
		if err != nil {
			return q, err
		}
		q.Where = e
	}
	q.Page.Limit = 50
	if body.Limit != nil {
		q.Page.Limit = *body.Limit
	}
	if q.Page.Limit < 0 || q.Page.Limit > 1000 {
		return q, invalid("limit", "must be from 0 (count only) to 1000")
	}
	if body.Offset < 0 || body.Offset+q.Page.Limit > maxSearchWindow {
		return q, invalid("offset", fmt.Sprintf("must be at least 0, and offset+limit at most %d: narrow the condition to see further", maxSearchWindow))
	}
	q.Page.Offset = body.Offset
	if !body.ExactTotal {
		q.TotalLimit = maxSearchWindow
	}
	if len(body.Sort) > 5 {
		return q, invalid("sort", "at most 5 sort keys")
	}
	for i, k := range body.Sort {
		f := strings.TrimPrefix(k.Field, scope+"@")
		if !storage.ValidSortField(f) {
			return q, invalid(fmt.Sprintf("sort[%d].field", i), "must be a field path such as metadata.time.insert")
		}
		var desc bool
		switch strings.ToLower(k.Order) {
		case "", "asc":
		case "desc":
			desc = true
		default:
			return q, invalid(fmt.Sprintf("sort[%d].order", i), `must be "asc" or "desc"`)
		}
		q.Sort = append(q.Sort, storage.Sort{Field: f, Desc: desc})
	}
	return q, nil
}

// searchHandler answers POST …/search for documents of scope with {"total",
// "total_relation", "items"}.
func searchHandler[T any](s *Server, scope string, search func(context.Context, storage.Query) ([]T, int64, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := decodeSearch(w, r, scope)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		items, total, err := search(r.Context(), q)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeSearchList(w, q, total, items)
	}
}

type checkRequest struct {
	Condition string `json:"condition"`
	// DefaultScope is the scope of fields written without one; empty means every
	// field names its scope.
	DefaultScope string                    `json:"default_scope"`
	ProfileID    string                    `json:"profile_id"`
	SessionID    string                    `json:"session_id"`
	EventID      string                    `json:"event_id"`
	Documents    map[string]map[string]any `json:"documents"`
}

type checkAnswer struct {
	Result bool `json:"result"`
}

// checkCondition evaluates a condition in memory (the GUI's "test this condition")
// against stored documents named by id and documents given in the body, which win.
// An event brings its session and profile unless those are named too.
func (s *Server) checkCondition(w http.ResponseWriter, r *http.Request) {
	var body checkRequest
	if err := decodeJSON(w, r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	if body.DefaultScope != "" && !query.IsScope(body.DefaultScope) {
		s.fail(w, r, invalid("default_scope", "must be one of "+strings.Join(query.Scopes, ", ")))
		return
	}
	if strings.TrimSpace(body.Condition) == "" {
		s.fail(w, r, invalid("condition", "is required"))
		return
	}
	e, err := query.ParseOptions{DefaultScope: body.DefaultScope}.Parse(body.Condition)
	if err != nil {
		s.fail(w, r, invalid("condition", err.Error()))
		return
	}
	prog, err := eval.Compile(e)
	if err != nil {
		s.fail(w, r, invalid("condition", err.Error()))
		return
	}
	docs := eval.Maps{}
	ctx := r.Context()
	sessionID, profileID := body.SessionID, body.ProfileID
	if body.EventID != "" {
		ev, err := s.deps.Store.Events().Get(ctx, body.EventID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if docs["event"], err = toDoc(ev); err != nil {
			s.fail(w, r, err)
			return
		}
		if sessionID == "" {
			sessionID = ev.Session.ID
			if _, err := s.deps.Store.Sessions().Get(ctx, sessionID); errors.Is(err, storage.ErrNotFound) {
				sessionID = "" // the event's session was not stored
			}
		}
		if profileID == "" {
			profileID = ev.Profile.ID
		}
	}
	if sessionID != "" {
		x, err := s.deps.Store.Sessions().Get(ctx, sessionID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if docs["session"], err = toDoc(x); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if profileID != "" {
		p, err := s.resolveProfile(r, profileID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if docs["profile"], err = toDoc(p); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	for scope, doc := range body.Documents {
		if !query.IsScope(scope) {
			s.fail(w, r, invalid("documents", fmt.Sprintf("%q is not a scope (%s)", scope, strings.Join(query.Scopes, ", "))))
			return
		}
		docs[scope] = doc
	}
	writeJSON(w, http.StatusOK, checkAnswer{Result: prog.Eval(docs, domain.Now().Time)})
}

// toDoc turns a typed document into the JSON form conditions are evaluated on.
func toDoc(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}
