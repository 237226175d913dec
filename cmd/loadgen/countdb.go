package main

import (
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/thamesthrive/thamesthrive/internal/loadtest"
	_ "modernc.org/sqlite"
)

// cmdCountDB counts stored rows straight from the server's SQLite file, read-only, after the
// server stopped: the nothing-lost check must not trust the server's own word.
func cmdCountDB(args []string) error {
	fs := flag.NewFlagSet("countdb", flag.ExitOnError)
	path := fs.String("db", "", "SQLite database file")
	fs.Parse(args)
	if *path == "" {
		return fmt.Errorf("-db is required")
	}
	if _, err := os.Stat(*path); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+*path+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var out loadtest.StoredCounts
	if err := db.QueryRow("SELECT count(*) FROM events").Scan(&out.Events); err != nil {
		return fmt.Errorf("counting events: %w", err)
	}
	// The rest is for information: a schema without it is no failure.
	count := func(q string) *int64 {
		var n int64
		if db.QueryRow(q).Scan(&n) != nil {
			return nil
		}
		return &n
	}
	out.Profiles = count("SELECT count(*) FROM profiles")
	out.Sessions = count("SELECT count(*) FROM sessions")
	out.MergedProfiles = count("SELECT count(*) FROM profiles WHERE merged_into IS NOT NULL AND merged_into != ''")
	if rows, err := db.Query("SELECT type, count(*) FROM events GROUP BY type"); err == nil {
		out.EventsByType = map[string]int64{}
		for rows.Next() {
			var t string
			var n int64
			if rows.Scan(&t, &n) == nil {
				out.EventsByType[t] = n
			}
		}
		rows.Close()
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}
