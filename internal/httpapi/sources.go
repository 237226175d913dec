package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

func (s *Server) sourceResource() Resource[domain.Source, *domain.Source] {
	return Resource[domain.Source, *domain.Source]{
		Kind: domain.EntitySource, Base: "/api/v1/event-sources", Read: permSources, Write: permSources,
		Validate: validateSource, Changed: s.deps.Sources.Invalidate,
	}
}

func validateSource(_ context.Context, src *domain.Source) error {
	switch src.Type {
	case "":
		src.Type = domain.SourceREST
	case domain.SourceREST, domain.SourceWebhook:
	default:
		return invalid("type", fmt.Sprintf("must be %q or %q", domain.SourceREST, domain.SourceWebhook))
	}
	if src.AllowedOrigins == nil {
		src.AllowedOrigins = []string{}
	}
	for i, o := range src.AllowedOrigins {
		if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
			return invalid(fmt.Sprintf("allowed_origins[%d]", i), "must be \"*\" or an origin such as https://shop.example.com")
		}
	}
	return nil
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
