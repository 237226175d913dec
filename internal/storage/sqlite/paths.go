package sqlite

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/query/sqlgen"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// pathIndexPrefix starts the name of every index of Config.IndexedPaths.
const pathIndexPrefix = "profiles_path_"

// pathIndexName is the name of the index def of path: the path's letters and digits for
// the reader, and a hash of def, since different paths may share those (and so that an
// index of an older definition is dropped and built again).
func pathIndexName(path, def string) string {
	h := fnv.New32a()
	h.Write([]byte(def))
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, path)
	return fmt.Sprintf("%s%s_%08x", pathIndexPrefix, clean, h.Sum32())
}

// indexPaths makes the profiles' expression indexes match paths: it builds the missing
// ones (reading every profile, on the writer's connection, before the writer starts)
// and drops the ones of paths no longer listed, which would only cost writes. The
// indexes cover every profile: a partial one (live profiles only) is not used for the
// OR of a range and the Sentinel that sqlgen.Prefilter writes.
func (s *Store) indexPaths(ctx context.Context, paths []string) error {
	if s.cfg.Shared {
		// beside serve, which owns the indexes: searches still use the ones listed
		s.profileTable = profileTable.withPaths(paths)
		return nil
	}
	want := map[string]string{} // index name → definition
	for _, p := range paths {
		if !sqlgen.IndexablePath(strings.Split(p, ".")) {
			return fmt.Errorf("indexed path %q: not a dotted path of names: %w", p, storage.ErrInvalid)
		}
		def := pathIndexDef(p)
		want[pathIndexName(p, def)] = def
	}
	rows, err := s.w.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'profiles' AND substr(name, 1, ?) = ?`,
		len(pathIndexPrefix), pathIndexPrefix)
	if err != nil {
		return fmt.Errorf("listing the profiles' indexes: %w: %w", storage.ErrUnavailable, err)
	}
	var have []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return fmt.Errorf("listing the profiles' indexes: %w: %w", storage.ErrUnavailable, err)
		}
		have = append(have, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("listing the profiles' indexes: %w: %w", storage.ErrUnavailable, err)
	}
	for _, n := range have {
		if _, ok := want[n]; !ok {
			if _, err := s.w.ExecContext(ctx, `DROP INDEX "`+n+`"`); err != nil {
				return fmt.Errorf("dropping index %s: %w: %w", n, storage.ErrUnavailable, err)
			}
		}
	}
	for n, def := range want {
		if slices.Contains(have, n) {
			continue
		}
		start := time.Now()
		if _, err := s.w.ExecContext(ctx, `CREATE INDEX "`+n+`" ON profiles`+def); err != nil {
			return fmt.Errorf("creating index %s: %w: %w", def, storage.ErrUnavailable, err)
		}
		s.cfg.Logger.Info("store_path_indexed", "index", n, "seconds", time.Since(start).Seconds())
	}
	s.profileTable = profileTable.withPaths(paths)
	return nil
}

// pathIndexDef is the column list of path's index: sqlgen.PathExpr, then merged_into,
// created and id. A comparison on the path (where no profile has an array on it,
// sqlgen.Index.NoSentinel) and the live condition are then answered from the index
// alone: the total is counted there without reading a profile (profiles is a rowid
// table since schema version 4: on the WITHOUT ROWID table of earlier versions SQLite
// sought the row of every entry of an expression index); an equality gives the
// matches newest first, so that the default order's LIMIT stops after the page; and a
// range's page (sorted by created, then id) is chosen on the index too, before search
// reads the page's documents by id.
func pathIndexDef(path string) string {
	return "(" + sqlgen.PathExpr("doc", strings.Split(path, ".")) + ", merged_into, created, id)"
}
