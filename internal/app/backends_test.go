package app

import (
	"slices"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/config"
)

func TestRedisAddrs(t *testing.T) {
	for _, tc := range []struct {
		host string
		want []string
	}{
		{"redis", []string{"redis:6390"}},
		{"a:1, b", []string{"a:1", "b:6390"}},
		{"rediss://u:p@r:7000/2", []string{"rediss://u:p@r:7000/2"}},
		{"::1", []string{"[::1]:6390"}},
	} {
		cfg := config.Defaults()
		cfg.RedisHost, cfg.RedisPort = tc.host, 6390
		if got := redisAddrs(cfg); !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v, want %v", tc.host, got, tc.want)
		}
	}
	cfg := config.Defaults()
	cfg.ElasticHosts = []string{"x"}
	if cacheSize(cfg) != 0 || cacheSize(config.Defaults()) == 0 {
		t.Error("the collector may cache only on the embedded store")
	}
}
