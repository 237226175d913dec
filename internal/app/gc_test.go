package app

import (
	"log/slog"
	"runtime/debug"
	"testing"

	"github.com/thamesthrive/thamesthrive/internal/config"
)

// serve on the production backend collects less often unless GOGC says otherwise; the
// embedded store keeps Go's default.
func TestTuneGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	log := slog.New(slog.DiscardHandler)
	cases := []struct {
		name string
		cfg  config.Config
		want int // the GC percentage after tuneGC
	}{
		{"elastic, GOGC unset", config.Config{ElasticHosts: []string{"http://es:9200"}}, productionGCPercent},
		{"elastic, GOGC given", config.Config{ElasticHosts: []string{"http://es:9200"}, GOGC: "100"}, 100},
		{"embedded", config.Config{}, 100},
	}
	for _, c := range cases {
		debug.SetGCPercent(100)
		tuneGC(c.cfg, log)
		if got := debug.SetGCPercent(100); got != c.want {
			t.Errorf("%s: GC percent %d, want %d", c.name, got, c.want)
		}
	}
}
