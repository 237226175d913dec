package chaos

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// server is one of the suite's own services, as scripts/services/up.sh left it in
// $CHAOS_SERVICES_DIR/<name>: pid, port, and for Redis the arguments it was started with.
type server struct {
	t    *testing.T
	name string
	dir  string
}

func (s *server) pid() int {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, "pid"))
	if err != nil {
		s.t.Fatalf("%s: %v", s.name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		s.t.Fatalf("%s pid file: %v", s.name, err)
	}
	return pid
}

func (s *server) port() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "port"))
	return strings.TrimSpace(string(b))
}

func (s *server) signal(sig syscall.Signal) {
	s.t.Helper()
	if err := syscall.Kill(s.pid(), sig); err != nil {
		s.t.Fatalf("%s: kill -%d: %v", s.name, sig, err)
	}
}

// pause stops the process with SIGSTOP for d, then lets it run again. A failing test
// never leaves it stopped (scripts/test-chaos.sh also sends SIGCONT before stopping it).
func (s *server) pause(d time.Duration) {
	s.t.Helper()
	pid := s.pid()
	s.signal(syscall.SIGSTOP)
	defer syscall.Kill(pid, syscall.SIGCONT)
	time.Sleep(d)
}

// gone waits until pid has exited (bounded); false when it has not.
func gone(pid int, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
			return true
		}
		// An exited child of init that is not reaped yet still answers kill 0.
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err != nil || zombie(b) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func zombie(stat []byte) bool {
	i := bytes.LastIndexByte(stat, ')')
	return i > 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

// restartRedis stops Redis with SIGTERM (it syncs its append-only file and exits) and
// starts it again with the same arguments: same port, same data directory and AOF. It
// returns when Redis answers PING (not LOADING).
func (s *server) restartRedis() time.Duration {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dir, "args"))
	if err != nil {
		s.t.Fatalf("redis args (scripts/services/up.sh writes them): %v", err)
	}
	args := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") // keeps the empty value of --save ''
	pid := s.pid()
	start := time.Now()
	s.signal(syscall.SIGTERM)
	if !gone(pid, 30*time.Second) {
		syscall.Kill(pid, syscall.SIGKILL)
		s.t.Fatalf("redis did not stop within 30 s of SIGTERM")
	}
	if out, err := exec.Command("redis-server", args...).CombinedOutput(); err != nil {
		s.t.Fatalf("starting redis again: %v\n%s", err, out)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !redisPong(s.port()) {
		if time.Now().After(deadline) {
			s.t.Fatalf("redis did not answer PING within 60 s of its restart")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

func redisPong(port string) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// killOpenSearch kills the OpenSearch JVM with -9 and starts it again with the same
// command line, environment and directory (same data directory and port: shards are
// recovered from disk, translog replayed). It returns once the cluster is yellow, that
// is every primary shard is assigned again, bounded by wait.
func (s *server) killOpenSearch(wait time.Duration) time.Duration {
	s.t.Helper()
	pid := s.pid()
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		s.t.Fatal(err)
	}
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		s.t.Fatal(err)
	}
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil {
		s.t.Fatal(err)
	}
	argv := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
	env := strings.Split(strings.TrimSuffix(string(environ), "\x00"), "\x00")
	start := time.Now()
	s.signal(syscall.SIGKILL)
	if !gone(pid, 30*time.Second) {
		s.t.Fatalf("opensearch (pid %d) still there 30 s after kill -9", pid)
	}
	logf, err := os.OpenFile(filepath.Join(s.dir, "server.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = env, cwd, logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives the test, as up.sh's did; down.sh stops it
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting opensearch again: %v", err)
	}
	go cmd.Wait()
	if err := os.WriteFile(filepath.Join(s.dir, "pid"), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	for !clusterYellow(s.port()) {
		if time.Now().After(deadline) {
			s.t.Fatalf("opensearch not yellow within %v of its restart; log: %s", wait, filepath.Join(s.dir, "server.log"))
		}
		time.Sleep(250 * time.Millisecond)
	}
	return time.Since(start)
}

func clusterYellow(port string) bool {
	c := &http.Client{Timeout: 5 * time.Second}
	res, err := c.Get("http://127.0.0.1:" + port + "/_cluster/health?wait_for_status=yellow&timeout=2s")
	if err != nil {
		return false
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	s := b.String()
	return res.StatusCode == 200 && !strings.Contains(s, `"timed_out":true`) &&
		(strings.Contains(s, `"status":"yellow"`) || strings.Contains(s, `"status":"green"`))
}
