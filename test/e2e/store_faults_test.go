package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/test/testserver"
)

// command runs the binary with a subcommand on dataDir and returns its exit status and
// output (stdout and stderr together). It gives up after a minute.
func command(t *testing.T, dataDir string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testserver.Binary(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HTTP_ADDR=127.0.0.1:0", "DATA_DIR=" + dataDir, "INSTALLATION_TOKEN=" + installToken, "TRACK_RATE_LIMIT=0"}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("thamesthrive %v did not finish in a minute:\n%s", args, out)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// TestSecondServeOnOneDataDirRefused: a second `serve` on a data directory that one
// already serves stops at once with an error naming the lock file, and the first goes
// on serving. After the first stops (kill -9 too), a new one starts.
func TestSecondServeOnOneDataDirRefused(t *testing.T) {
	s := start(t, "")
	code, out := command(t, s.DataDir, "serve")
	lock := filepath.Join(s.DataDir, "LOCK")
	if code != 1 || !strings.Contains(out, "data directory in use by another process") || !strings.Contains(out, lock) ||
		!strings.Contains(out, fmt.Sprintf("pid %d", s.Cmd.Process.Pid)) {
		t.Fatalf("second serve: exit %d\n%s", code, out)
	}
	if r := s.do("GET", "/healthz", nil); r.Status != http.StatusOK {
		t.Fatalf("the first process stopped serving: %d", r.Status)
	}
	s.restart() // kill -9: the kernel drops the lock with the process
}

// TestDamagedDatabaseRefusedAtStart: a database file that is not one, or was cut
// short, stops `serve` with exit status 1 and a message naming the file and what to
// do; never a panic.
func TestDamagedDatabaseRefusedAtStart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir, path string)
	}{
		{"not a database", func(t *testing.T, dir, path string) {
			os.WriteFile(path, []byte(strings.Repeat("garbage ", 2000)), 0o600)
		}},
		{"truncated", func(t *testing.T, dir, path string) {
			s := start(t, dir)
			s.source("web")
			for i := 0; i < 200; i++ {
				s.track(map[string]any{"source": map[string]string{"id": "web"}, "profile": map[string]string{"id": fmt.Sprint("p", i)},
					"events": []map[string]any{{"type": "page-view", "properties": map[string]string{"pad": strings.Repeat("x", 500)}}}})
			}
			if exited, err := s.Stop(20 * time.Second); !exited || err != nil {
				t.Fatalf("stop: %v %v", exited, err)
			}
			st, _ := os.Stat(path)
			os.Truncate(path, st.Size()/3)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "thamesthrive.db")
			tc.damage(t, dir, path)
			code, out := command(t, dir, "serve")
			if code != 1 || !strings.Contains(out, path) || !strings.Contains(out, "database file is damaged") ||
				!strings.Contains(out, "thamesthrive restore") || strings.Contains(out, "panic") {
				t.Fatalf("serve on a damaged database: exit %d\n%s", code, out)
			}
		})
	}
}

// TestBackupUnderLoadThenRestore: `thamesthrive backup` runs while /track is under
// load; `restore` refuses the live data directory; restored into a new one and
// served, it holds every event acknowledged before the backup began.
func TestBackupUnderLoadThenRestore(t *testing.T) {
	s := start(t, "")
	s.source("web")
	s.adminToken()
	var (
		mu     sync.Mutex
		before []string // acknowledged before the backup began
		after  atomic.Int64
		began  atomic.Bool
	)
	stop := testserver.Load(8, func(n int64) {
		body := fmt.Sprintf(`{"source":{"id":"web"},"profile":{"id":"p%d"},"events":[{"id":"e-%d","type":"page-view"}]}`, n%20, n)
		resp, err := client.Post(s.URL+"/track", "application/json", strings.NewReader(body))
		if err != nil {
			return
		}
		var out struct{ Events []string }
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil {
			return
		}
		if began.Load() {
			after.Add(1)
			return
		}
		mu.Lock()
		before = append(before, out.Events[0])
		mu.Unlock()
	})
	time.Sleep(time.Second)
	began.Store(true)
	file := filepath.Join(t.TempDir(), "backup.db")
	code, out := command(t, s.DataDir, "backup", file)
	time.Sleep(300 * time.Millisecond)
	stop()
	if code != 0 {
		t.Fatalf("backup: exit %d\n%s", code, out)
	}
	t.Logf("%s(%d acknowledged before it began, %d while it ran and after)", out, len(before), after.Load())
	if after.Load() == 0 {
		t.Fatal("no request was acknowledged while the backup ran: it was not taken under load")
	}
	if code, out := command(t, s.DataDir, "restore", file); code != 1 || !strings.Contains(out, "data directory in use") {
		t.Fatalf("restore over the live store: exit %d\n%s", code, out)
	}

	dir := t.TempDir()
	if code, out := command(t, dir, "restore", file); code != 0 || !strings.Contains(out, "restored") {
		t.Fatalf("restore: exit %d\n%s", code, out)
	}
	r := start(t, dir)
	for _, id := range before {
		if g := r.auth("GET", "/api/v1/events/"+id, nil); g.Status != http.StatusOK {
			t.Fatalf("event %s, acknowledged before the backup began, is not in the restored store: %d", id, g.Status)
		}
	}
	if len(before) < 50 {
		t.Fatalf("only %d events acknowledged before the backup: the test proves little", len(before))
	}
}
