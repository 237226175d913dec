package httpapi

import (
	"context"
	"net/http"

	"github.com/thamesthrive/thamesthrive/internal/audit"
)

// recordChange writes an audit entry for a change made by the request's user. Every
// configuration resource gets it through Resource; handlers that change configuration
// some other way (deploying a flow, say) call it themselves. The change is done by
// now, so a failure to record it is logged, not answered.
func (s *Server) recordChange(r *http.Request, action, kind, id string, version int64) {
	e := &audit.Entry{Action: action, Kind: kind, ObjectID: id, Version: version, ClientIP: clientIP(r)}
	if p := principal(r.Context()); p != nil {
		e.Actor = p.UserID
	}
	// The change happened even if the client hung up; so must its record.
	if err := audit.Log(context.WithoutCancel(r.Context()), s.deps.Store.Entities(), e); err != nil {
		s.log.Error("audit_write_failed", "action", action, "kind", kind, "id", id, "error", err)
	}
}

type auditList struct {
	Total int64          `json:"total"`
	Items []*audit.Entry `json:"items"`
}

func (s *Server) auditRoutes() {
	s.handle("GET /api/v1/audit", permAudit, s.listAudit, Doc{Summary: "List changes to configuration and users, newest first",
		Tags: []string{"audit"}, Response: auditList{},
		Query: append([]Param{
			{Name: "actor", Description: "id of the user who made the change"},
			{Name: "action", Description: "create, update, delete, install, password or revoke_tokens"},
			{Name: "kind", Description: "kind of the changed object, e.g. source or user"},
			{Name: "object_id", Description: "id of the changed object"},
		}, pageParams...)})
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	page, err := pageOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	f := audit.Filter{Actor: q.Get("actor"), Action: q.Get("action"), Kind: q.Get("kind"), ObjectID: q.Get("object_id")}
	items, total, err := audit.List(r.Context(), s.deps.Store.Entities(), f, page)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, auditList{Total: total, Items: items})
}

// changeAction names a store of an entity: ifVersion 0 creates, anything else updates.
func changeAction(ifVersion int64) string {
	if ifVersion == 0 {
		return audit.ActionCreate
	}
	return audit.ActionUpdate
}
