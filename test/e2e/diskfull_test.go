package e2e

import (
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // to check the database file after the test
)

// smallFilesystem mounts a tmpfs of size bytes and returns its path; the test is
// skipped (with the reason) where that is not possible: not root, or no mount
// permission (containers without CAP_SYS_ADMIN). .ci/run runs as root.
func smallFilesystem(t *testing.T, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: mounting a small tmpfs for the disk-full test needs root (CI runs it as root)")
	}
	dir := filepath.Join(t.TempDir(), "small")
	os.Mkdir(dir, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("skipped: cannot mount a tmpfs here (%v: %s)", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

func freeBytes(t *testing.T, dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// TestDiskFullAnswers503AndRecovers fills the data directory's filesystem under
// /track load: requests get 503 with Retry-After (never a 500, never a hang), the log
// says the disk is full, every acknowledged event is stored, the database passes
// integrity_check, and writes resume by themselves once space is freed.
func TestDiskFullAnswers503AndRecovers(t *testing.T) {
	mnt := smallFilesystem(t, 24<<20)
	s := start(t, filepath.Join(mnt, "data"))
	s.source("web")
	s.adminToken()

	// Leave about 2 MB free.
	filler := filepath.Join(mnt, "filler")
	if err := os.WriteFile(filler, make([]byte, freeBytes(t, mnt)-2<<20), 0o600); err != nil {
		t.Fatal(err)
	}

	var (
		mu       sync.Mutex
		acked    []string
		statuses = map[int]int{}
		longest  time.Duration
		first503 time.Time
		last503  time.Time
		freedAt  time.Time
		firstOK  time.Time // first 200 after space was freed
		noRetry  int
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	pad := strings.Repeat("x", 4000)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"source":{"id":"web"},"profile":{"id":"p%d"},"events":[{"id":"e-%d-%d","type":"page-view","properties":{"pad":%q}}]}`, i%30, w, i, pad)
				t0 := time.Now()
				resp, err := client.Post(s.URL+"/track", "application/json", strings.NewReader(body))
				if err != nil {
					t.Errorf("/track: %v", err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				d := time.Since(t0)
				mu.Lock()
				statuses[resp.StatusCode]++
				longest = max(longest, d)
				switch resp.StatusCode {
				case http.StatusOK:
					acked = append(acked, fmt.Sprintf("e-%d-%d", w, i))
					if !freedAt.IsZero() && firstOK.IsZero() {
						firstOK = time.Now()
					}
				case http.StatusServiceUnavailable:
					if first503.IsZero() {
						first503 = time.Now()
					}
					last503 = time.Now()
					if resp.Header.Get("Retry-After") == "" {
						noRetry++
					}
				}
				mu.Unlock()
				if resp.StatusCode == http.StatusServiceUnavailable {
					time.Sleep(50 * time.Millisecond) // a client that obeys Retry-After, sooner
				}
			}
		}(w)
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("%s within a minute; statuses %v\n%s", what, statuses, tail(s.Stderr.String(), 3000))
			}
		}
	}
	locked := func(f func() bool) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return f() }
	}
	wait("no 503 once the disk filled", locked(func() bool { return !first503.IsZero() && time.Since(first503) > time.Second }))
	mu.Lock()
	freedAt = time.Now()
	mu.Unlock()
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	wait("no 200 after space was freed", locked(func() bool { return !firstOK.IsZero() && time.Since(firstOK) > 500*time.Millisecond }))
	close(stop)
	wg.Wait()

	logs := s.Stderr.String()
	if !strings.Contains(logs, `"msg":"service_unavailable"`) || !strings.Contains(logs, "no space left in the data directory") {
		t.Fatalf("no log line saying the disk is full:\n%s", tail(logs, 3000))
	}
	for code := range statuses {
		if code != http.StatusOK && code != http.StatusServiceUnavailable {
			t.Fatalf("statuses %v: only 200 and 503 expected", statuses)
		}
	}
	if noRetry > 0 {
		t.Fatalf("%d 503 answers without Retry-After", noRetry)
	}
	for _, id := range acked {
		if r := s.auth("GET", "/api/v1/events/"+id, nil); r.Status != http.StatusOK {
			t.Fatalf("acknowledged event %s lost: %d", id, r.Status)
		}
	}
	if exited, err := s.Stop(20 * time.Second); !exited || err != nil {
		t.Fatalf("stop after the disk-full episode: %v %v\n%s", exited, err, tail(s.Stderr.String(), 2000))
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.DataDir, "thamesthrive.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	var stored int
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	db.QueryRow(`SELECT count(*) FROM events`).Scan(&stored)
	if stored != len(acked) {
		t.Fatalf("%d events stored, %d acknowledged (a 503 must store nothing, so none is duplicated on retry)", stored, len(acked))
	}
	t.Logf("disk full: statuses %v, longest answer %v, 503s for %v, first 200 %v after space was freed; acknowledged %d, stored %d, lost 0, duplicated 0; integrity_check ok",
		statuses, longest.Round(time.Millisecond), last503.Sub(first503).Round(time.Millisecond), firstOK.Sub(freedAt).Round(time.Millisecond), len(acked), stored)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
