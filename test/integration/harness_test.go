// Package integration tests ThamesThrive against real servers: the storage and query
// suites on every Elasticsearch/OpenSearch engine named in the environment, and the
// real binary running as several replicas that share one OpenSearch and one Redis.
// Every test is skipped when the variables naming its servers are unset, so `go test
// ./...` passes on a machine with Go only; scripts/test-integration.sh starts the
// servers and sets them.
package integration

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/identity"
	"github.com/thamesthrive/thamesthrive/internal/storage/elastic"
	"github.com/thamesthrive/thamesthrive/test/testserver"
)

// engine is one Elasticsearch/OpenSearch cluster to run the suites against.
type engine struct{ name, url string }

// engines lists the clusters named in the environment: ELASTIC_HOST (the default
// OpenSearch 2.19 of scripts/services), OPENSEARCH3_HOST, ELASTIC9_HOST, ELASTIC8_HOST.
func engines() []engine {
	var out []engine
	for _, v := range []struct{ name, env string }{
		{"default", "ELASTIC_HOST"}, {"opensearch3", "OPENSEARCH3_HOST"}, {"elasticsearch9", "ELASTIC9_HOST"}, {"elasticsearch8", "ELASTIC8_HOST"},
	} {
		if u := strings.TrimSpace(os.Getenv(v.env)); u != "" {
			out = append(out, engine{v.name, u})
		}
	}
	return out
}

var prefixSeq atomic.Int64

// uniquePrefix names indices and Redis keys of one test, so that runs and tests never
// see each other's data on shared servers.
func uniquePrefix(what string) string {
	return fmt.Sprintf("tt-it-%s-%d-%d", what, time.Now().UnixNano()%1e9, prefixSeq.Add(1))
}

func elasticConfig(url, prefix string) elastic.Config {
	return elastic.Config{Hosts: strings.Split(url, ","), Username: os.Getenv("ELASTIC_HTTP_AUTH_USERNAME"),
		Password: os.Getenv("ELASTIC_HTTP_AUTH_PASSWORD"), APIKey: os.Getenv("ELASTIC_API_KEY"),
		IndexPrefix: prefix, KeyPaths: identity.DefaultKeys}
}

func TestMain(m *testing.M) {
	code := m.Run()
	testserver.Cleanup()
	os.Exit(code)
}

const (
	installToken = "integration-installation-token"
	adminUser    = "admin@example.com"
	adminPass    = "correct horse battery"
)

// cluster is a set of `serve` replicas sharing one index prefix on one cluster and
// one Redis.
type cluster struct {
	t        *testing.T
	env      []string
	prefix   string
	elastic  elastic.Config
	replicas []*replica
	token    string
}

type replica struct {
	*testserver.Process
	t *testing.T
	n int
}

type response = testserver.Response

var (
	client = testserver.Client
	at     = testserver.At
)

// newCluster migrates a fresh prefix and starts n replicas; it skips the test unless
// ELASTIC_HOST and REDIS_HOST are set. The indices and Redis keys are removed at the end.
func newCluster(t *testing.T, n int) *cluster {
	t.Helper()
	return newClusterEnv(t, n)
}

// newClusterEnv is newCluster with extra variables for every process.
func newClusterEnv(t *testing.T, n int, extra ...string) *cluster {
	t.Helper()
	es, redisHost := os.Getenv("ELASTIC_HOST"), os.Getenv("REDIS_HOST")
	if es == "" || redisHost == "" {
		t.Skip("ELASTIC_HOST and REDIS_HOST must be set (scripts/test-integration.sh starts both)")
	}
	bin := testserver.Binary(t)
	prefix := uniquePrefix("rep")
	c := &cluster{t: t, prefix: prefix, elastic: elasticConfig(es, prefix)}
	c.env = []string{"PATH=" + os.Getenv("PATH"), "ELASTIC_HOST=" + es, "ELASTIC_INDEX_PREFIX=" + prefix,
		"REDIS_HOST=" + redisHost, "REDIS_PORT=" + envOr("REDIS_PORT", "6379"), "REDIS_PASSWORD=" + os.Getenv("REDIS_PASSWORD"),
		"ELASTIC_HTTP_AUTH_USERNAME=" + os.Getenv("ELASTIC_HTTP_AUTH_USERNAME"), "ELASTIC_HTTP_AUTH_PASSWORD=" + os.Getenv("ELASTIC_HTTP_AUTH_PASSWORD"),
		"ELASTIC_API_KEY=" + os.Getenv("ELASTIC_API_KEY"),
		"SECRETS_KEY=" + strings.Repeat("ab", 32), "INSTALLATION_TOKEN=" + installToken, "LOGGING_LEVEL=info",
		"HTTP_ADDR=127.0.0.1:0", "TRACK_RATE_LIMIT=0", "PPROF=" + os.Getenv("INTEGRATION_PPROF")}
	c.env = append(c.env, extra...)
	migrate := exec.Command(bin, "migrate")
	migrate.Env = c.env
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if err := elastic.Drop(context.Background(), c.elastic); err != nil {
			t.Logf("dropping %s: %v", prefix, err)
		}
		dropRedisKeys(t, prefix)
	})
	for i := 0; i < n; i++ {
		c.replicas = append(c.replicas, c.start(i))
	}
	return c
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func (c *cluster) start(n int) *replica {
	c.t.Helper()
	return &replica{Process: testserver.Start(c.t, append(c.env, "DATA_DIR="+c.t.TempDir())), t: c.t, n: n}
}

// kill stops the replica with SIGKILL: nothing is flushed or finished.
func (r *replica) kill() { r.Kill() }

// killed reports whether the replica was killed.
func (r *replica) killed() bool {
	select {
	case <-r.Done():
		return true
	default:
		return false
	}
}

// send makes one request; err is a transport error (the replica is gone).
func (r *replica) send(method, path string, body any, headers ...string) (*response, error) {
	return testserver.Send(r.URL, method, path, body, headers...)
}

func (r *replica) do(method, path string, body any, headers ...string) *response {
	r.t.Helper()
	res, err := r.send(method, path, body, headers...)
	if err != nil {
		r.t.Fatalf("replica %d: %s %s: %v", r.n, method, path, err)
	}
	return res
}

// auth sends a request with the admin's bearer token.
func (c *cluster) auth(r *replica, method, path string, body any) *response {
	c.t.Helper()
	return r.do(method, path, body, "Authorization", "Bearer "+c.adminToken())
}

// adminToken installs the first admin through replica 0 (once) and returns a token.
func (c *cluster) adminToken() string {
	c.t.Helper()
	if c.token != "" {
		return c.token
	}
	c.token = testserver.AdminToken(c.t, c.replicas[0].URL, installToken, adminUser, adminPass)
	return c.token
}

// source creates an enabled REST source through replica r.
func (c *cluster) source(r *replica, id string) {
	c.t.Helper()
	body := map[string]any{"id": id, "name": "Source " + id, "type": "rest", "enabled": true, "trusted": true} // the tests choose profile ids (a server-side integration)
	if res := c.auth(r, "POST", "/api/v1/event-sources", body); res.Status != http.StatusCreated {
		c.t.Fatalf("creating source: %d %s", res.Status, res.Body)
	}
}

// openStore opens the cluster's indices in the test process, to check what the
// replicas stored.
func (c *cluster) openStore() *elastic.Store {
	c.t.Helper()
	s, err := elastic.Open(context.Background(), c.elastic)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { s.Close() })
	return s
}
