package redis

import (
	"context"
	"fmt"
	"net"
	"os"
	"testing"
	"time"
)

// TestLockOfDeadHolderExpires: a lock left by a process that died (nobody renews it)
// is free once its TTL has passed.
func TestLockOfDeadHolderExpires(t *testing.T) {
	host := os.Getenv("REDIS_HOST")
	if host == "" {
		t.Skip("REDIS_HOST is not set: no Redis to test against")
	}
	port := os.Getenv("REDIS_PORT")
	if port == "" {
		port = "6379"
	}
	c, err := New(Config{Addrs: []string{net.JoinHostPort(host, port)}, Password: os.Getenv("REDIS_PASSWORD"),
		KeyPrefix: fmt.Sprintf("tt-test-dead-%d", time.Now().UnixNano())})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Drop(context.Background()); c.Close() }()
	ctx := context.Background()
	// The dead process's lock: set as Lock sets it, and never renewed.
	if err := c.rdb.Set(ctx, c.key("lock", "p1"), "dead-token", 400*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	l := c.Locker(10*time.Second, nil)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(short, "p1"); err == nil {
		t.Fatal("took a lock that is held")
	}
	start := time.Now()
	wait, cancel2 := context.WithTimeout(ctx, 3*time.Second)
	defer cancel2()
	unlock, err := l.Lock(wait, "p1")
	if err != nil {
		t.Fatalf("the dead holder's lock did not expire: %v", err)
	}
	unlock()
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v", d)
	}
}
