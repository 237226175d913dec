package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// RateLimiter decides whether key (a client address) may send a collector request now
// and, if not, how long until it may. The in-process limiter below serves one replica;
// with Redis, app passes one limiter shared by every replica.
type RateLimiter interface {
	Allow(ctx context.Context, key string) (bool, time.Duration, error)
}

// ipLimiter is a token bucket per client address for the collector routes. Buckets
// live in an LRU, so memory is bounded however many addresses appear; an address pushed
// out simply starts with a full bucket again.
type ipLimiter struct {
	limit rate.Limit
	burst int
	cache *lru.Cache[string, *rate.Limiter]
}

func newIPLimiter(perSecond float64, burst int) *ipLimiter {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = max(1, int(perSecond))
	}
	c, _ := lru.New[string, *rate.Limiter](65536)
	return &ipLimiter{limit: rate.Limit(perSecond), burst: burst, cache: c}
}

// Allow implements RateLimiter.
func (l *ipLimiter) Allow(_ context.Context, ip string) (bool, time.Duration, error) {
	ok, wait := l.allow(ip)
	return ok, wait, nil
}

// allow reports whether ip may send a request now; if not, how long until it may.
func (l *ipLimiter) allow(ip string) (bool, time.Duration) {
	lim, ok := l.cache.Get(ip)
	if !ok {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.cache.Add(ip, lim)
	}
	r := lim.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return false, d
	}
	return true, 0
}

// rateLimited answers 429 with Retry-After when the client is over its rate. A limiter
// that cannot answer (Redis unreachable) lets the request through: losing the limit
// for a moment is better than refusing events.
func (s *Server) rateLimited(w http.ResponseWriter, r *http.Request) bool {
	if s.limiter == nil {
		return false
	}
	ok, wait, err := s.limiter.Allow(r.Context(), clientIP(r))
	if err != nil {
		s.log.Warn("rate_limiter_unavailable", "error", err)
		return false
	}
	if ok {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
	writeError(w, http.StatusTooManyRequests, "", "too many requests from this address; retry later")
	return true
}
