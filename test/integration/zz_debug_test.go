package integration

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestZZDebugLoad(t *testing.T) {
	c := newCluster(t, 1)
	c.source(c.replicas[0], "web")
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	go func() {
		time.Sleep(6 * time.Second)
		res, _ := c.replicas[0].send("GET", "/debug/pprof/goroutine?debug=1", nil)
		os.WriteFile("/tmp/issue6-goroutines.txt", res.Body, 0o644)
		res, _ = c.replicas[0].send("GET", "/debug/pprof/profile?seconds=5", nil)
		os.WriteFile("/tmp/issue6-cpu.pprof", res.Body, 0o644)
	}()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1) - 1)
				if n >= 1500 {
					return
				}
				p := n % 100
				trackOnce(c.replicas[0], pageView(fmt.Sprintf("p%03d", p), fmt.Sprintf("s%03d", p), fmt.Sprintf("e%05d", n)))
			}
		}()
	}
	wg.Wait()
	t.Logf("%v", time.Since(start))
}
