package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage/storagetest"
)

// BenchmarkSQLiteFloor states what SQLite alone costs for this schema per /track request
// of a returning visitor, without the store's goroutines, encoding or channels: read the
// profile and the session by id (on a read-only connection, the store's prepared
// statements), then, in one transaction per 64 (or 2) requests on the writer connection, upsert
// the profile and the session and insert one event, with the store's statements. The
// visitor is chosen at random among 100,000 stored profiles and sessions. Batches of 2
// are what the writer sees at half load (BenchmarkOpenLoopCommit: 1.5-2 commits per
// transaction). Documents are
// the sizes the store writes for storagetest.SampleBatch. The writer connection has the
// store's page cache and an automatic checkpoint of 4,000 pages (what the store's bound
// is), so checkpoints are included.
//
// Reported: cpu-µs per request (getrusage, process), split into the reads and the
// writes (including the commit's fsync).
//
// SQLITE_FLOOR_BATCHES (comma-separated sizes, e.g. "23,2") replaces 64 and 2: `make bench`
// sets it to the mean transaction sizes its loops made the server commit.
func BenchmarkSQLiteFloor(b *testing.B) {
	batches := []int{64, 2}
	if v := os.Getenv("SQLITE_FLOOR_BATCHES"); v != "" {
		batches = batches[:0]
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("SQLITE_FLOOR_BATCHES: %q is not a positive batch size", f)
			}
			batches = append(batches, n)
		}
	}
	for _, batch := range batches {
		for _, sync := range []string{"FULL", "NORMAL"} {
			b.Run(fmt.Sprintf("batch=%d/sync=%s", batch, sync), func(b *testing.B) { benchFloor(b, batch, sync) })
		}
	}
}

func benchFloor(b *testing.B, batch int, sync string) {
	const stored = 100000
	path := filepath.Join(b.TempDir(), FileName)
	dsn := func(extra ...string) string {
		q := url.Values{}
		for _, p := range append([]string{"journal_mode(WAL)", "synchronous(" + sync + ")", "busy_timeout(10000)", "foreign_keys(on)"}, extra...) {
			q.Add("_pragma", p)
		}
		return "file:" + path + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn("cache_size(-8000)", "wal_autocheckpoint(4000)")+"&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	if err := migrate(w, slog.New(slog.DiscardHandler)); err != nil {
		b.Fatal(err)
	}
	r, err := sql.Open("sqlite", dsn("cache_size(-2000)", "query_only(1)"))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	r.SetMaxOpenConns(1)

	sample, err := encodeBatch(storagetest.SampleBatch("p0", "s0", "e0"))
	if err != nil {
		b.Fatal(err)
	}
	p, x, e := sample.profiles[0], sample.sessions[0], sample.events[0]
	ctx := context.Background()
	tx, err := w.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for i := range stored {
		id := fmt.Sprint(i)
		if _, err := tx.Exec(sqlUpsertProfile, "p"+id, nil, p.b, p.c, p.doc); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(sqlUpsertSession, "s"+id, "p"+id, x.b, x.c, x.doc); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	prep := func(db *sql.DB, q string) *sql.Stmt {
		st, err := db.Prepare(q)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	getP, getS := prep(r, sqlGetProfile), prep(r, sqlGetSession)
	upP, upS, insE := prep(w, sqlUpsertProfile), prep(w, sqlUpsertSession), prep(w, sqlInsertEvent)

	ids := make([]string, batch)
	var doc []byte
	var readCPU, writeCPU time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n += batch {
		k := min(batch, b.N-n)
		c0 := floorCPU()
		for j := range k {
			ids[j] = fmt.Sprint(rand.IntN(stored))
			if err := getP.QueryRowContext(ctx, "p"+ids[j]).Scan(&doc); err != nil {
				b.Fatal(err)
			}
			if err := getS.QueryRowContext(ctx, "s"+ids[j]).Scan(&doc); err != nil {
				b.Fatal(err)
			}
		}
		c1 := floorCPU()
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		up, us, ie := tx.Stmt(upP), tx.Stmt(upS), tx.Stmt(insE)
		for j := range k {
			if _, err := up.ExecContext(ctx, "p"+ids[j], nil, p.b, p.c, p.doc); err != nil {
				b.Fatal(err)
			}
			if _, err := us.ExecContext(ctx, "s"+ids[j], "p"+ids[j], x.b, x.c, x.doc); err != nil {
				b.Fatal(err)
			}
			if _, err := ie.ExecContext(ctx, fmt.Sprint("e", n+j), "p"+ids[j], "s"+ids[j], e.c, e.d, e.doc); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		readCPU += c1 - c0
		writeCPU += floorCPU() - c1
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N) }
	b.ReportMetric(per(readCPU+writeCPU), "cpu-µs/req")
	b.ReportMetric(per(readCPU), "read-cpu-µs/req")
	b.ReportMetric(per(writeCPU), "write-cpu-µs/req")
}

func floorCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
