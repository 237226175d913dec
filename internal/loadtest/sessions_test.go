package loadtest

import (
	"testing"
	"time"
)

// sessionPool builds a pool and reads every request back (with net/http's parser), returning
// per request its profile, session, kind and event time.
type parsedView struct {
	profile, session, kind string
	at                     time.Time
}

func parseSessionPool(t *testing.T, reqs []Request) []parsedView {
	t.Helper()
	out := make([]parsedView, len(reqs))
	for i, r := range reqs {
		_, doc := parse(t, r.Raw)
		evs, _ := doc["events"].([]any)
		if len(evs) != 1 || r.Events != 1 {
			t.Fatalf("request %d: %d events, want 1", i, len(evs))
		}
		ev := evs[0].(map[string]any)
		ts, _ := get(ev, "time.create").(string)
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			t.Fatalf("request %d: time.create %q: %v", i, ts, err)
		}
		p, _ := get(doc, "profile.id").(string)
		s, _ := get(doc, "session.id").(string)
		out[i] = parsedView{profile: p, session: s, kind: ev["type"].(string), at: at}
	}
	return out
}

func TestSessionPoolStatistics(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	sh := DefaultSessionShape(now)
	tests := []struct {
		name  string
		pairs int
		n     int
	}{
		{"small", 200, 5000},
		{"bench-sized", 20000, 50000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := DefaultMix("bench", "127.0.0.1:1")
			reqs, st, err := BuildSessionPool(m, sh, testPairs(tc.pairs), tc.n)
			if err != nil {
				t.Fatal(err)
			}
			if len(reqs) != tc.n {
				t.Fatalf("%d requests, want %d", len(reqs), tc.n)
			}
			views := parseSessionPool(t, reqs)

			// sessions: 3–8 views each (the last may be cut by n), mean near 5.5
			total := 0
			for i, v := range st.ViewsPerSess {
				if (v < sh.MinViews && i != len(st.ViewsPerSess)-1) || v > sh.MaxViews {
					t.Fatalf("session %d has %d views", i, v)
				}
				total += v
			}
			if total != tc.n {
				t.Fatalf("sessions hold %d views, want %d", total, tc.n)
			}
			mean := float64(total) / float64(st.Sessions)
			if mean < 5.2 || mean > 5.8 {
				t.Errorf("mean views per session %.2f, want about 5.5", mean)
			}

			// time order; views of one session minutes apart; sessions of a visitor ≥ 30 min apart
			type sess struct {
				profile     string
				first, last time.Time
				views       int
			}
			bySession := map[string]*sess{}
			var order []string
			for i, v := range views {
				if i > 0 && v.at.Before(views[i-1].at) {
					t.Fatalf("request %d goes back in time", i)
				}
				if !v.at.Before(now) {
					t.Fatalf("request %d is in the future: %v", i, v.at)
				}
				s := bySession[v.session]
				if s == nil {
					s = &sess{profile: v.profile, first: v.at}
					bySession[v.session] = s
					order = append(order, v.session)
				} else {
					if s.profile != v.profile {
						t.Fatalf("session %s used by two profiles", v.session)
					}
					gap := v.at.Sub(s.last)
					if gap < sh.ViewGapMin || gap > sh.ViewGapMax {
						t.Fatalf("session %s: views %v apart", v.session, gap)
					}
				}
				s.last = v.at
				s.views++
			}
			if len(bySession) != st.Sessions {
				t.Fatalf("%d distinct session ids, %d sessions", len(bySession), st.Sessions)
			}
			lastEnd := map[string]time.Time{}
			returns := 0
			var returnGap time.Duration
			for _, id := range order {
				s := bySession[id]
				if prev, ok := lastEnd[s.profile]; ok {
					if s.first.Sub(prev) < 30*time.Minute {
						t.Fatalf("profile %s: a new session %v after the last", s.profile, s.first.Sub(prev))
					}
					returns++
					returnGap += s.first.Sub(prev)
				}
				lastEnd[s.profile] = s.last
			}
			if returns == 0 {
				t.Fatal("no visitor came back")
			}
			t.Logf("%d sessions of %d visitors, %d returns, mean return gap %.1f h, top 1%% of visitors %.1f%% of sessions",
				st.Sessions, st.Visitors, returns, returnGap.Hours()/float64(returns), 100*st.TopShare)
			if span := views[len(views)-1].at.Sub(views[0].at); span < time.Duration(0.95*sh.SpanDays*24)*time.Hour {
				t.Errorf("the pool spans %v, want about %v days", span, sh.SpanDays)
			}

			// skewed popularity: the top 1% of visitors have far more than 1% of sessions
			if st.TopShare < 0.1 {
				t.Errorf("top 1%% of visitors have %.1f%% of sessions, want a Zipf-like skew (≥ 10%%, ten times uniform)", 100*st.TopShare)
			}
			if st.Visitors >= tc.pairs && tc.pairs > st.Sessions/2 {
				t.Errorf("every visitor came: no skew")
			}

			// sign-ins: about SignInShare of sessions, never the landing view
			signIns := 0
			for _, v := range views {
				if v.kind == "sign-in" {
					signIns++
					if bySession[v.session].first.Equal(v.at) {
						t.Fatalf("a sign-in as the first view of session %s", v.session)
					}
				}
			}
			if signIns != st.SignIns {
				t.Fatalf("%d sign-ins in the requests, %d counted", signIns, st.SignIns)
			}
			share := float64(signIns) / float64(st.Sessions)
			if share < 0.07 || share > 0.13 {
				t.Errorf("sign-ins in %.1f%% of sessions, want about 10%%", 100*share)
			}
			if st.FirstSession+st.NewSessionIDs != st.Sessions || st.NewSessionIDs == 0 {
				t.Errorf("session ids: %d warm-up, %d new, %d sessions", st.FirstSession, st.NewSessionIDs, st.Sessions)
			}
		})
	}
}

func TestSessionPoolDeterministicAndChecked(t *testing.T) {
	sh := DefaultSessionShape(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	m := DefaultMix("bench", "h")
	a, _, err := BuildSessionPool(m, sh, testPairs(50), 500)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := BuildSessionPool(m, sh, testPairs(50), 500)
	for i := range a {
		if string(a[i].Raw) != string(b[i].Raw) {
			t.Fatalf("request %d differs between two builds with the same seed", i)
		}
	}
	bad := []struct {
		name  string
		pairs int
		n     int
		edit  func(*SessionShape)
	}{
		{"no pairs", 1, 10, nil},
		{"zero pool", 10, 0, nil},
		{"zipf exponent 1", 10, 10, func(s *SessionShape) { s.ZipfS = 1 }},
		{"no span", 10, 10, func(s *SessionShape) { s.SpanDays = 0 }},
		{"max below min", 10, 10, func(s *SessionShape) { s.MaxViews = 2 }},
	}
	for _, tc := range bad {
		s := sh
		if tc.edit != nil {
			tc.edit(&s)
		}
		if _, _, err := BuildSessionPool(m, s, testPairs(tc.pairs), tc.n); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}
