package httpapi

import (
	"net/http"
	"runtime"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// systemInfo is what the GUI's system page shows.
type systemInfo struct {
	Version       string            `json:"version"`
	Backend       string            `json:"backend"`
	GoVersion     string            `json:"go_version"`
	Started       domain.Time       `json:"started"`
	UptimeSeconds int64             `json:"uptime_seconds"`
	Health        map[string]string `json:"health"`
}

func (s *Server) systemRoutes() {
	started := time.Now()
	s.handle("GET /api/v1/system", permSystem, func(w http.ResponseWriter, r *http.Request) {
		health := map[string]string{"store": "ok"}
		if err := s.deps.Store.Ping(r.Context()); err != nil {
			health["store"] = "unavailable: " + err.Error()
		}
		writeJSON(w, http.StatusOK, systemInfo{Version: s.opt.Version, Backend: s.opt.Backend, GoVersion: runtime.Version(),
			Started: domain.NewTime(started), UptimeSeconds: int64(time.Since(started).Seconds()), Health: health})
	}, Doc{Summary: "Version, storage backend and health of this process", Tags: []string{"system"}, Response: systemInfo{}})
}
