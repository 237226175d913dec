// Package redistest gives tests a client on a real Redis: the one REDIS_HOST (and
// REDIS_PORT, REDIS_PASSWORD) names, as `make services-up` starts it.
package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage/redis"
)

var seq atomic.Int64

// Client returns a client with a key prefix of its own (tt-<name>-…), whose keys are
// dropped when the test ends; it skips the test when REDIS_HOST is unset. The redis
// package's own internal tests keep a copy (package redis cannot import this one).
func Client(t testing.TB, name string) *redis.Client {
	t.Helper()
	host := os.Getenv("REDIS_HOST")
	if host == "" {
		t.Skip("REDIS_HOST is not set: no Redis to test against")
	}
	port := os.Getenv("REDIS_PORT")
	if port == "" {
		port = "6379"
	}
	c, err := redis.New(redis.Config{Addrs: []string{net.JoinHostPort(host, port)}, Password: os.Getenv("REDIS_PASSWORD"),
		KeyPrefix: fmt.Sprintf("tt-%s-%d-%d", name, time.Now().UnixNano(), seq.Add(1))})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Drop(context.Background())
		c.Close()
	})
	return c
}
