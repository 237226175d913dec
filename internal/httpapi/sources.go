package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

func (s *Server) sourceResource() Resource[domain.Source, *domain.Source] {
	return Resource[domain.Source, *domain.Source]{
		Kind: domain.EntitySource, Base: "/api/v1/event-sources", Read: permSources, Write: permSources,
		Validate: func(ctx context.Context, src *domain.Source) error {
			if err := validateSource(ctx, src); err != nil {
				return err
			}
			return s.checkWriteKey(ctx, src)
		},
		Changed: func(id string) {
			s.deps.Sources.Invalidate(id)
			if s.segment != nil {
				s.segment.Invalidate(id)
			}
		},
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
	for i, h := range src.AllowedHeaders {
		if !headerName.MatchString(h) {
			return invalid(fmt.Sprintf("allowed_headers[%d]", i), "must be an HTTP header name")
		}
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

var headerName = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_|~-]{1,64}$`)

var writeKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,128}$`)

// checkWriteKey gives src its write key: the one sent, else the one it already has (a
// PUT that leaves the field out keeps it), else a new random one. Keys are unique.
func (s *Server) checkWriteKey(ctx context.Context, src *domain.Source) error {
	ents := s.deps.Store.Entities()
	if src.WriteKey == "" && src.ID != "" {
		old, err := collector.LoadSource(ctx, ents, src.ID)
		switch {
		case err == nil:
			src.WriteKey = old.WriteKey
		case !errors.Is(err, storage.ErrNotFound):
			return err
		}
	}
	if src.WriteKey == "" {
		src.WriteKey = rand.Text() // 26 base32 characters: 130 random bits
		return nil
	}
	if !writeKeyPattern.MatchString(src.WriteKey) {
		return invalid("write_key", "must be 16-128 letters, digits, '_' or '-'")
	}
	all, _, err := ents.List(ctx, domain.EntitySource, storage.ListOptions{})
	if err != nil {
		return err
	}
	for _, e := range all {
		var other domain.Source
		if json.Unmarshal(e.Doc, &other) == nil && e.ID != src.ID && other.WriteKey == src.WriteKey {
			return invalid("write_key", "is the write key of another source")
		}
	}
	return nil
}
