package elastic

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// DeleteEventsBefore implements storage.EventRetention. Events live in monthly
// indices by insert time (eventIndex): every index whose month ended before t is
// dropped whole, which costs the cluster nothing (no deletes to merge away); the
// events of the month t falls in that are older than t are then deleted by query,
// so the boundary is exact to the day rather than to the month.
func (s *Store) DeleteEventsBefore(ctx context.Context, t time.Time, progress func(int64)) (int64, error) {
	t = t.UTC()
	var rows []struct {
		Index string `json:"index"`
		Docs  string `json:"docs.count"`
	}
	pattern := s.names.prefix + "-" + kindEvents + "-*"
	// The counts below are of what a refresh has made visible: events written in the
	// last refresh interval (ELASTIC_REFRESH_INTERVAL) by any process are counted too.
	if err := s.refresh(ctx, kindEvents); err != nil {
		return 0, err
	}
	if err := s.c.doJSON(ctx, http.MethodGet, "/_cat/indices/"+pattern+"?format=json&h=index,docs.count", nil, &rows); err != nil {
		return 0, classify("listing event indices", err)
	}
	var total int64
	for _, row := range rows {
		month, ok := indexMonth(row.Index)
		if !ok || month.AddDate(0, 1, 0).After(t) {
			continue
		}
		// The whole month is older than t.
		if _, err := s.c.do(ctx, http.MethodDelete, "/"+row.Index, nil, nil); err != nil && statusOf(err) != http.StatusNotFound {
			return total, classify("dropping event index "+row.Index, err)
		}
		n, err := strconv.ParseInt(row.Docs, 10, 64)
		if err != nil {
			n = -1
		} else {
			total += n
		}
		if progress != nil {
			progress(n)
		}
	}
	// The boundary month.
	n, err := s.deleteByQuery(ctx, kindEvents, map[string]any{"bool": map[string]any{"filter": []any{
		map[string]any{"range": map[string]any{insertDate: map[string]any{"lt": t.Format(time.RFC3339Nano), "format": "strict_date_optional_time"}}},
	}}})
	total += n
	if n > 0 && progress != nil {
		progress(n)
	}
	if err != nil {
		return total, fmt.Errorf("deleting old events: %w", err)
	}
	return total, nil
}

// indexMonth parses the month of an event index name (…-2006.01).
func indexMonth(name string) (time.Time, bool) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return time.Time{}, false
	}
	m, err := time.Parse("2006.01", name[i+1:])
	return m, err == nil
}

var _ storage.EventRetention = (*Store)(nil)
