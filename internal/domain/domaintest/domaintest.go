// Package domaintest makes varied profiles, sessions and events for tests that compare
// hand-written JSON code with encoding/json (the encoders and decoder in internal/domain,
// the workflow's field codecs): awkward strings (escapes, HTML, U+2028, invalid UTF-8),
// awkward floats, nil and empty collections, nested free-form values.
package domaintest

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// Gen makes documents from R.
type Gen struct {
	R *rand.Rand
	// Extreme adds values the stored form cannot hold or holds differently: NaN and
	// -Inf, floats at and past 2^53, years outside 0-9999 and times not in UTC.
	Extreme bool
}

var awkwardStrings = []string{"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnl\ncr\rbs\bff\f",
	"\x00\x01\x1f\x7f", "héllo wörld ✓ 🎉", "line\u2028sep\u2029", "bad \xff utf8 \xc3", "/path?q=1#frag"}

var awkwardFloats = []float64{0, 1, -1, 0.5, 1e-7, -1e-7, 1e-6, 123456789.125, 1e20, 1e21, 1.5e300, math.SmallestNonzeroFloat64, 3.14159, -0.0}

// extremeFloats are what AppendJSON refuses (NaN, ±Inf) or what a float64 holds but an
// int64 may not (2^53, 9.3e18).
var extremeFloats = []float64{1 << 53, 9.3e18, math.NaN(), math.Inf(-1)}

func (g Gen) value(depth int) any {
	r := g.R
	switch r.IntN(9) {
	case 0:
		return nil
	case 1:
		return awkwardStrings[r.IntN(len(awkwardStrings))]
	case 2:
		return r.IntN(2) == 0
	case 3:
		return g.float()
	case 4:
		return r.IntN(1000)
	case 5:
		if depth > 3 {
			return "leaf"
		}
		return g.object(depth + 1)
	case 6:
		if depth > 3 {
			return []any{}
		}
		a := make([]any, r.IntN(4))
		for i := range a {
			a[i] = g.value(depth + 1)
		}
		return a
	case 7:
		return []string{"a", "<b>"}
	default:
		return json.Number("12.5")
	}
}

func (g Gen) object(depth int) map[string]any {
	r := g.R
	switch r.IntN(6) {
	case 0:
		return nil
	case 1:
		return map[string]any{}
	}
	m := map[string]any{}
	for range r.IntN(6) {
		m[awkwardStrings[r.IntN(len(awkwardStrings))]+strings.Repeat("k", r.IntN(3))] = g.value(depth)
	}
	return m
}

func (g Gen) time() domain.Time {
	r := g.R
	if !g.Extreme {
		if r.IntN(4) == 0 {
			return domain.Time{}
		}
		return domain.NewTime(time.Unix(r.Int64N(4e9), r.Int64N(1e9)))
	}
	switch r.IntN(12) {
	case 0, 1, 2:
		return domain.Time{}
	case 3:
		return domain.NewTime(time.Date(10000, 1, 2, 3, 4, 5, 6000, time.UTC))
	case 4:
		return domain.NewTime(time.Date(-1, 1, 2, 3, 4, 5, 0, time.UTC))
	case 5:
		return domain.Time{Time: time.Date(2024, 2, 29, 23, 59, 59, 999999999, zoneX)}
	}
	return domain.NewTime(time.Unix(r.Int64N(4e9), r.Int64N(1e9)))
}

var zoneX = time.FixedZone("x", 3600)

func (g Gen) str() string { return awkwardStrings[g.R.IntN(len(awkwardStrings))] }

// float is one of the awkward floats, or with Extreme also one of the extreme ones.
func (g Gen) float() float64 {
	if !g.Extreme {
		return awkwardFloats[g.R.IntN(len(awkwardFloats))]
	}
	i := g.R.IntN(len(awkwardFloats) + len(extremeFloats))
	if i < len(awkwardFloats) {
		return awkwardFloats[i]
	}
	return extremeFloats[i-len(awkwardFloats)]
}

func (g Gen) strings() []string {
	r := g.R
	switch r.IntN(3) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	return []string{g.str(), g.str()}
}

func (g Gen) device() domain.Device {
	r := g.R
	d := domain.Device{Name: g.str(), Brand: g.str(), Model: g.str(), Type: g.str(), IP: g.str(), Resolution: g.str()}
	if r.IntN(2) == 0 {
		d.Geo = &domain.Geo{Country: g.str(), City: g.str(), Latitude: g.float(), Longitude: g.float()}
	}
	return d
}

// Profile returns a varied profile.
func (g Gen) Profile() *domain.Profile {
	r := g.R
	p := domain.NewProfile(g.str(), g.time())
	if r.IntN(3) == 0 {
		p.Normalize()
		p.IDs, p.Segments = g.strings(), g.strings()
		p.Traits, p.Data, p.Aux = g.object(0), g.object(0), g.object(0)
		p.Stats.Counters = nil
		p.Interests = map[string]float64{"b": 1e-9, "a": 2.5}
		p.Consents = nil
	}
	p.Metadata.Time.Visit = domain.VisitTime{Last: g.time(), Current: g.time(), Count: r.Int64N(100)}
	p.Metadata.MergedInto = g.str()
	if r.IntN(2) == 0 {
		p.Metadata.Merges = []domain.MergeRecord{{ProfileID: g.str(), Key: "k", Value: g.str(), Time: g.time(), By: "identity"}, {}}
	}
	p.Stats.Visits, p.Stats.Views = r.Int64N(1000), -r.Int64N(5)
	if p.Stats.Counters != nil {
		p.Stats.Counters["ltv"] = g.float()
	}
	if p.Consents != nil {
		rt := g.time()
		p.Consents["marketing"] = domain.Consent{Granted: true, Revoke: &rt}
		p.Consents["<x>"] = domain.Consent{}
	}
	p.Active = r.IntN(2) == 0
	return p
}

// Session returns a varied session.
func (g Gen) Session() *domain.Session {
	r := g.R
	return &domain.Session{ID: g.str(), Profile: domain.Ref{ID: g.str()},
		Metadata: domain.SessionMetadata{Time: domain.SessionTime{Insert: g.time(), Timestamp: g.time(), Duration: g.float()}, Status: g.str(), Channel: g.str()},
		Device:   g.device(), OS: domain.OS{Name: g.str(), Version: g.str()},
		App:     domain.App{Type: g.str(), Name: g.str(), Version: g.str(), Language: g.str(), Bot: r.IntN(2) == 0},
		UTM:     domain.UTM{Source: g.str(), Medium: g.str(), Campaign: g.str(), Term: g.str(), Content: g.str()},
		Context: g.object(0), Properties: g.object(0)}
}

// Event returns a varied event.
func (g Gen) Event() *domain.Event {
	r := g.R
	return &domain.Event{ID: g.str(), Type: g.str(), Name: g.str(),
		Metadata: domain.EventMetadata{Time: domain.EventTime{Insert: g.time(), Create: g.time(), ProcessTime: g.float()},
			IP: g.str(), Status: g.str(), Channel: g.str(), ProcessedBy: domain.ProcessedBy{Rules: g.strings(), Flows: g.strings()}},
		Source: domain.Ref{ID: g.str()}, Session: domain.EventSession{ID: g.str(), Start: g.time(), Duration: 1.25}, Profile: domain.Ref{ID: g.str()},
		Properties: g.object(0), Traits: g.object(0), Context: g.object(0), Data: g.object(0),
		Hit:  domain.Hit{Name: g.str(), URL: g.str(), Referer: g.str(), Query: g.str(), Extra: map[string]any{"x": 1}},
		UTM:  domain.UTM{Source: g.str(), Campaign: g.str()},
		Tags: domain.Tags{Values: g.strings(), Count: r.IntN(3)}, Device: g.device(), OS: domain.OS{Name: g.str()},
		App: domain.App{Name: g.str(), Bot: r.IntN(2) == 0}, Journey: domain.Journey{State: g.str()}}
}

// TestAppendJSONMatchesEncodingJSON checks the hand-written encoders byte for byte
// against encoding/json on varied documents (awkward strings, floats, nil and empty
// collections, nested free-form values), and that they decode back to the same value.
