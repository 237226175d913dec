package loadtest

import (
	"container/heap"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// SessionShape describes the session-shaped mix: visitors (the warm-up's profiles) come back
// with a skewed popularity, each visit being a session of a few page views minutes apart,
// and sometimes sign in during a session.
//
// The clock is simulated: every event carries time.create. Sessions start evenly over SpanDays
// days ending an hour before Start+SpanDays; each start draws a visitor by popularity (Zipf),
// redrawing while the drawn visitor is still in a session or left less than 30 minutes ago,
// so popular visitors come back often (hours apart) and the long tail once in weeks. Views
// of a session are ViewGap apart. The requests are sorted by that time, so the pool
// interleaves the sessions of many visitors as a live site would; the real send rate is
// whatever the loop drives.
type SessionShape struct {
	MinViews, MaxViews int           // page views per session, uniform in [Min, Max] (3–8)
	ViewGapMin         time.Duration // time between two views of a session, uniform in [min, max]
	ViewGapMax         time.Duration
	SpanDays           float64 // simulated days the pool's sessions start over
	ZipfS, ZipfV       float64 // visitor of popularity rank k drawn ∝ (ZipfV+k)^-ZipfS

	SignInShare float64 // share of sessions with one sign-in among their events
	Start       time.Time
}

// DefaultSessionShape is the shape `make bench MIX=sessions` uses.
func DefaultSessionShape(now time.Time) SessionShape {
	return SessionShape{MinViews: 3, MaxViews: 8, ViewGapMin: 30 * time.Second, ViewGapMax: 5 * time.Minute,
		SpanDays: 30, ZipfS: 1.1, ZipfV: 5, SignInShare: 0.1,
		Start: now.UTC().Truncate(time.Hour).Add(-31 * 24 * time.Hour)}
}

// sessionEvent is one request of the session mix before it is framed.
type sessionEvent struct {
	at      time.Time
	visitor int // index into pairs
	session int // session number across the pool
	visit   visit
}

type byTime []sessionEvent

func (h byTime) Len() int { return len(h) }
func (h byTime) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].session < h[j].session
}
func (h byTime) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *byTime) Push(x any)   { *h = append(*h, x.(sessionEvent)) }
func (h *byTime) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// SessionStats is what the pool builder made, for tests and the report.
type SessionStats struct {
	Sessions      int
	Visitors      int // distinct visitors with at least one session
	ViewsPerSess  []int
	SignIns       int
	TopShare      float64 // share of sessions of the most active 1% of visitors
	FirstSession  int     // sessions that reuse the visitor's warm-up session id
	NewSessionIDs int     // sessions with an id made up by the client
}

// BuildSessionPool precomputes n requests of the session-shaped mix over the warm-up pairs.
// A visitor's first session in the pool goes on with the warm-up session id; later ones use a
// new id the client makes up (as a tracker does when its session cookie has expired), which
// the server creates on first sight. Every request carries one event. The same mix, shape,
// pairs and n give the same pool.
func BuildSessionPool(m Mix, sh SessionShape, pairs []Pair, n int) ([]Request, SessionStats, error) {
	var st SessionStats
	if n < 1 {
		return nil, st, errors.New("pool size must be at least 1")
	}
	if len(pairs) < 2 {
		return nil, st, errors.New("the session mix needs at least 2 warm-up pairs")
	}
	if sh.MinViews < 1 || sh.MaxViews < sh.MinViews || sh.ZipfS <= 1 || sh.ZipfV < 1 || sh.SpanDays <= 0 || sh.ViewGapMax < sh.ViewGapMin {
		return nil, st, errors.New("bad session shape")
	}
	rng := rand.New(rand.NewPCG(m.Seed, 0x73657373696f6e))
	zipf := rand.NewZipf(rng, sh.ZipfS, sh.ZipfV, uint64(len(pairs)-1))
	// rank → visitor, so the popular ones are not the first warm-up profiles
	rank := rng.Perm(len(pairs))

	// Each session is generated whole, its events merged with the others' by time through a
	// heap. free[v] is when visitor v may start a new session.
	meanViews := float64(sh.MinViews+sh.MaxViews) / 2
	step := time.Duration(sh.SpanDays * float64(24*time.Hour) / (float64(n) / meanViews))
	clock := map[int]time.Time{}
	seen := map[int]bool{}
	perVisitor := map[int]int{}
	var emails []string
	var h byTime
	events := 0
	for events < n {
		at := sh.Start.Add(time.Duration(st.Sessions) * step)
		vis := -1
		for try := 0; try < 100; try++ {
			v := rank[int(zipf.Uint64())]
			if free, ok := clock[v]; !ok || !free.After(at) {
				vis = v
				break
			}
		}
		if vis < 0 { // the popular ones are all busy: take any free visitor
			for _, v := range rng.Perm(len(pairs)) {
				if free, ok := clock[v]; !ok || !free.After(at) {
					vis = v
					break
				}
			}
		}
		if vis < 0 {
			return nil, st, errors.New("every visitor is in a session: the pool needs more warm-up pairs")
		}
		views := sh.MinViews + rng.IntN(sh.MaxViews-sh.MinViews+1)
		views = min(views, n-events)
		sess := st.Sessions
		st.Sessions++
		st.ViewsPerSess = append(st.ViewsPerSess, views)
		perVisitor[vis]++
		pair := pairs[vis]
		if seen[vis] {
			pair.Session = fmt.Sprintf("bench-sess-%d-%d", m.Seed, sess)
			st.NewSessionIDs++
		} else {
			seen[vis] = true
			st.FirstSession++
		}
		signAt := -1
		if views > 1 && rng.Float64() < sh.SignInShare {
			signAt = 1 + rng.IntN(views-1) // never the landing view
		}
		for i := range views {
			if i > 0 {
				at = at.Add(sh.ViewGapMin + time.Duration(rng.Int64N(int64(sh.ViewGapMax-sh.ViewGapMin)+1)))
			}
			v := visit{kind: Returning, pair: pair, variant: rng.Uint64(), at: at}
			if i == signAt {
				v.kind = SignIn
				if len(emails) > 0 && rng.Float64() < m.MergeShare {
					v.email = emails[rng.IntN(len(emails))]
				} else {
					v.email = fmt.Sprintf("user%d@example.com", len(emails))
					emails = append(emails, v.email)
				}
				st.SignIns++
			}
			h = append(h, sessionEvent{at: at, visitor: vis, session: sess, visit: v})
		}
		events += views
		clock[vis] = at.Add(30 * time.Minute)
	}
	heap.Init(&h)
	out := make([]Request, 0, n)
	for h.Len() > 0 {
		e := heap.Pop(&h).(sessionEvent)
		body, err := m.body(e.visit)
		if err != nil {
			return nil, st, err
		}
		out = append(out, Request{Kind: e.visit.kind, Events: 1, Raw: m.frame(body, e.visit.variant)})
	}
	st.Visitors = len(perVisitor)
	top := max(1, len(pairs)/100)
	counts := make([]int, 0, len(perVisitor))
	for _, c := range perVisitor {
		counts = append(counts, c)
	}
	// partial selection of the largest `top` counts
	sortDesc(counts)
	sum := 0
	for i := 0; i < top && i < len(counts); i++ {
		sum += counts[i]
	}
	st.TopShare = float64(sum) / float64(st.Sessions)
	return out, st, nil
}

func sortDesc(a []int) { slices.SortFunc(a, func(x, y int) int { return y - x }) }
