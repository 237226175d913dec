package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

func (s *Server) linkResource() Resource[domain.Link, *domain.Link] {
	return Resource[domain.Link, *domain.Link]{
		Kind: domain.EntityLink, Base: "/api/v1/links", Read: permLinks, Write: permLinks,
		Validate: func(_ context.Context, l *domain.Link) error {
			if err := l.Validate(); err != nil {
				var fe *domain.FieldError
				if errors.As(err, &fe) {
					return invalid(fe.Field, fe.Message)
				}
				return invalid("body", err.Error())
			}
			return nil
		},
	}
}

// linkCookie remembers, on ThamesThrive's own host, the profile a click landed on, so
// that later clicks without ?profile_id= are attributed to the same visitor.
const linkCookie = "tt_pid"

// redirect serves GET /redirect/{id}: it records a click event for the visitor (the
// profile of ?profile_id=, else of the cookie of an earlier click, else a new one) and
// answers 302 to the link's configured target. Nothing of the request can change where
// it redirects. A click that cannot be recorded (disabled source, storage down) is
// logged and still redirected: the person clicking must get where the link promised.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request) {
	if s.rateLimited(w, r) {
		return
	}
	link, err := s.linkResource().Load(r.Context(), s.deps.Store.Entities(), r.PathValue("id"))
	switch {
	case errors.Is(err, storage.ErrNotFound) || (err == nil && !link.Enabled):
		writeError(w, http.StatusNotFound, "id", "no such link")
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	if pid, err := s.recordClick(r, link); err != nil {
		s.log.Warn("link_click_not_recorded", "link", link.ID, "error", err)
	} else {
		http.SetCookie(w, &http.Cookie{Name: linkCookie, Value: pid, Path: "/redirect/", MaxAge: 400 * 86400,
			HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", link.Target)
	w.WriteHeader(http.StatusFound)
}

func (s *Server) recordClick(r *http.Request, link *domain.Link) (string, error) {
	c := s.deps.Collector
	src, err := c.CheckSource(r.Context(), link.Source, collector.RouteCollect, "")
	if err != nil {
		return "", err
	}
	q := r.URL.Query()
	pid := q.Get("profile_id")
	if pid == "" {
		if ck, err := r.Cookie(linkCookie); err == nil {
			pid = ck.Value
		}
	}
	params := map[string]any{}
	for k, v := range q {
		if k != "profile_id" && k != "session_id" && len(v) > 0 {
			params[k] = v[0]
		}
	}
	page := map[string]any{"url": link.Target}
	if ref := r.Referer(); ref != "" {
		if u, err := url.Parse(ref); err == nil {
			page["referer"] = map[string]any{"host": u.Host, "url": ref}
		}
	}
	utm := map[string]any{}
	for _, k := range []string{"source", "medium", "campaign", "term", "content"} {
		if v := q.Get("utm_" + k); v != "" {
			utm[k] = v
		}
	}
	req := &collector.TrackRequest{Source: collector.IDRef{ID: src.ID}, Context: map[string]any{"page": page, "utm": utm},
		Events: []collector.TrackEvent{{Type: link.EventType, Properties: map[string]any{"link_id": link.ID, "target": link.Target, "query": params}}}}
	if pid != "" {
		req.Profile = &collector.IDRef{ID: pid}
	}
	if sid := q.Get("session_id"); sid != "" {
		req.Session = &collector.IDRef{ID: sid}
	}
	if collector.ValidateRequest(req, c.Limits()) != nil { // a malformed id from the URL: a new visitor
		req.Profile, req.Session = nil, nil
	}
	resp, err := c.Track(r.Context(), src, req, requestMeta(r))
	if err != nil {
		return "", err
	}
	return resp.Profile.ID, nil
}
