package loadtest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"
)

// Kind is the kind of visit a request stands for.
type Kind int

const (
	Returning  Kind = iota // known profile and session, one page-view
	NewVisitor             // no ids: the server creates profile and session
	SignIn                 // known profile and session, a sign-in with an e-mail
	numKinds
)

var kindNames = [numKinds]string{"returning", "new", "sign-in"}

func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return "kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// Pair is a profile and one of its sessions, as the server returned them during warm-up.
type Pair struct {
	Profile string
	Session string
}

// Request is one precomputed HTTP/1.1 request, ready to write to a connection.
type Request struct {
	Kind   Kind
	Events int    // events in the body: what a 200 acknowledges
	Raw    []byte // request line, headers and body
}

// Mix describes the traffic to generate.
type Mix struct {
	Source string // event source id
	Host   string // Host header
	Path   string // default /track
	// Shares of the three kinds, in any unit (80/15/5 by default).
	Returning, New, SignIn float64
	// MergeShare is the share of sign-ins that reuse the e-mail of an earlier sign-in by
	// another profile, so the server has merges to do; the others bring a new e-mail.
	MergeShare float64
	Seed       uint64
}

// DefaultMix is the realistic mix.
func DefaultMix(source, host string) Mix {
	return Mix{Source: source, Host: host, Path: "/track", Returning: 80, New: 15, SignIn: 5,
		MergeShare: 0.2, Seed: 1}
}

func (m Mix) path() string {
	if m.Path == "" {
		return "/track"
	}
	return m.Path
}

// counts splits n requests over the kinds in proportion to the shares, exactly (largest
// remainder), so a pool's mix does not drift with its size.
func (m Mix) counts(n int) ([numKinds]int, error) {
	shares := [numKinds]float64{m.Returning, m.New, m.SignIn}
	total := 0.0
	for _, s := range shares {
		if s < 0 || math.IsNaN(s) {
			return [numKinds]int{}, errors.New("mix shares must not be negative")
		}
		total += s
	}
	if total == 0 {
		return [numKinds]int{}, errors.New("mix shares are all zero")
	}
	var out [numKinds]int
	var rems [numKinds]float64
	used := 0
	for k, s := range shares {
		exact := float64(n) * s / total
		out[k] = int(exact)
		rems[k] = exact - float64(out[k])
		used += out[k]
	}
	for used < n {
		best := 0
		for k := range rems {
			if rems[k] > rems[best] {
				best = k
			}
		}
		out[best]++
		rems[best] = -1
		used++
	}
	return out, nil
}

// BuildPool precomputes n requests in the mix's proportions, in a shuffled order. Returning
// visitors and sign-ins walk through pairs in a random order, so the pool touches as many
// distinct warm profiles as it can. The same Mix (and seed) and pairs give the same pool.
func BuildPool(m Mix, pairs []Pair, n int) ([]Request, error) {
	if n < 1 {
		return nil, errors.New("pool size must be at least 1")
	}
	cnt, err := m.counts(n)
	if err != nil {
		return nil, err
	}
	if len(pairs) == 0 && cnt[Returning]+cnt[SignIn] > 0 {
		return nil, errors.New("returning visitors and sign-ins need warm-up pairs")
	}
	rng := rand.New(rand.NewPCG(m.Seed, 0x7468616d6573))
	kinds := make([]Kind, 0, n)
	for k, c := range cnt {
		for range c {
			kinds = append(kinds, Kind(k))
		}
	}
	rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })

	var emails []string
	var order []int
	if len(pairs) > 0 {
		order = rng.Perm(len(pairs))
	}
	out := make([]Request, n)
	next := 0
	for i, k := range kinds {
		v := visit{kind: k, variant: rng.Uint64()}
		if k != NewVisitor {
			v.pair = pairs[order[next%len(order)]]
			next++
		}
		if k == SignIn {
			if len(emails) > 0 && rng.Float64() < m.MergeShare {
				v.email = emails[rng.IntN(len(emails))]
			} else {
				v.email = fmt.Sprintf("user%d@example.com", len(emails))
				emails = append(emails, v.email)
			}
		}
		body, err := m.body(v)
		if err != nil {
			return nil, err
		}
		out[i] = Request{Kind: k, Events: 1, Raw: m.frame(body, v.variant)}
	}
	return out, nil
}

// WarmupPool precomputes n new-visitor requests with events page-views each: every one of
// them, sent, creates a profile and a session.
func WarmupPool(m Mix, n, events int) ([]Request, error) {
	if n < 1 || events < 1 {
		return nil, errors.New("warm-up pool size and events per request must be at least 1")
	}
	rng := rand.New(rand.NewPCG(m.Seed, 0x7761726d7570))
	out := make([]Request, n)
	for i := range out {
		v := visit{kind: NewVisitor, variant: rng.Uint64(), events: events}
		body, err := m.body(v)
		if err != nil {
			return nil, err
		}
		out[i] = Request{Kind: NewVisitor, Events: events, Raw: m.frame(body, v.variant)}
	}
	return out, nil
}

type visit struct {
	kind    Kind
	pair    Pair
	email   string
	variant uint64    // picks page, browser, screen… deterministically
	events  int       // page-views for a new visitor; 0 means 1
	at      time.Time // the event's time.create (the session mix's simulated clock); zero: none
}

// The JSON shapes of docs/tracking.md, only as far as the harness fills them.
type (
	idRef struct {
		ID string `json:"id"`
	}
	trackBody struct {
		Source     idRef          `json:"source"`
		Session    *idRef         `json:"session,omitempty"`
		Profile    *idRef         `json:"profile,omitempty"`
		Context    trackContext   `json:"context"`
		Properties map[string]any `json:"properties"`
		Options    trackOptions   `json:"options"`
		Events     []trackEvent   `json:"events"`
	}
	trackOptions struct {
		SaveSession bool `json:"saveSession"`
		SaveEvents  bool `json:"saveEvents"`
	}
	trackContext struct {
		Page    page              `json:"page"`
		Browser browserCtx        `json:"browser"`
		Screen  screenCtx         `json:"screen"`
		UTM     map[string]string `json:"utm"`
	}
	page struct {
		URL     string `json:"url"`
		Title   string `json:"title"`
		Referer struct {
			Host string `json:"host"`
		} `json:"referer"`
	}
	browserCtx struct {
		Local struct {
			Browser struct {
				UserAgent string `json:"userAgent"`
				Language  string `json:"language"`
			} `json:"browser"`
		} `json:"local"`
	}
	screenCtx struct {
		Local struct {
			Width  int `json:"width"`
			Height int `json:"height"`
		} `json:"local"`
	}
	trackEvent struct {
		Type       string         `json:"type"`
		Properties map[string]any `json:"properties"`
		Options    struct {
			Save bool `json:"save"`
		} `json:"options"`
		Time *eventTimes `json:"time,omitempty"`
	}
	eventTimes struct {
		Create string `json:"create"`
	}
)

// Realistic variety; each request takes one of each by its variant number.
var (
	userAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
	}
	screens   = [][2]int{{1920, 1080}, {1366, 768}, {1536, 864}, {1440, 900}, {390, 844}, {412, 915}}
	languages = []string{"en-GB", "en-US", "de-DE", "fr-FR", "pl-PL"}
	pages     = []struct{ url, title string }{
		{"https://shop.example.com/", "Example Shop — Home"},
		{"https://shop.example.com/c/shoes", "Shoes | Example Shop"},
		{"https://shop.example.com/c/jackets", "Jackets | Example Shop"},
		{"https://shop.example.com/p/trail-runner-2?colour=blue", "Trail Runner 2 | Example Shop"},
		{"https://shop.example.com/p/rain-shell?size=m", "Rain Shell | Example Shop"},
		{"https://shop.example.com/basket", "Your basket | Example Shop"},
		{"https://shop.example.com/checkout/delivery", "Delivery | Example Shop"},
		{"https://shop.example.com/blog/how-to-choose-running-shoes", "How to choose running shoes | Example Shop"},
		{"https://shop.example.com/search?q=waterproof+jacket", "Search: waterproof jacket | Example Shop"},
		{"https://shop.example.com/account/orders", "Your orders | Example Shop"},
	}
	refererHosts = []string{"www.google.com", "", "shop.example.com", "t.co", "www.bing.com", "newsletter.example.com"}
	firstnames   = []string{"Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Freya", "Arthur"}
	lastnames    = []string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Khan"}
)

func pick[T any](list []T, v uint64, salt uint64) T {
	return list[(v/salt)%uint64(len(list))]
}

func (m Mix) body(v visit) ([]byte, error) {
	b := trackBody{
		Source:     idRef{ID: m.Source},
		Properties: map[string]any{},
		Options:    trackOptions{SaveSession: true, SaveEvents: true},
	}
	if v.kind != NewVisitor {
		b.Profile = &idRef{ID: v.pair.Profile}
		b.Session = &idRef{ID: v.pair.Session}
	}
	pg := pick(pages, v.variant, 1)
	b.Context.Page.URL, b.Context.Page.Title = pg.url, pg.title
	b.Context.Page.Referer.Host = pick(refererHosts, v.variant, 11)
	b.Context.Browser.Local.Browser.UserAgent = pick(userAgents, v.variant, 101)
	b.Context.Browser.Local.Browser.Language = pick(languages, v.variant, 1009)
	sc := pick(screens, v.variant, 10007)
	b.Context.Screen.Local.Width, b.Context.Screen.Local.Height = sc[0], sc[1]
	b.Context.UTM = map[string]string{}
	if v.kind == NewVisitor && v.variant%3 == 0 {
		b.Context.UTM = map[string]string{"source": "google", "medium": "cpc", "campaign": "spring-sale"}
	}
	switch v.kind {
	case SignIn:
		e := trackEvent{Type: "sign-in", Properties: map[string]any{
			"email":     map[string]string{"main": v.email},
			"firstname": pick(firstnames, v.variant, 100003),
			"lastname":  pick(lastnames, v.variant, 1000003),
		}}
		e.Options.Save = true
		b.Events = []trackEvent{e}
	default:
		n := max(v.events, 1)
		for range n {
			e := trackEvent{Type: "page-view", Properties: map[string]any{}}
			e.Options.Save = true
			b.Events = append(b.Events, e)
		}
	}
	if !v.at.IsZero() {
		for i := range b.Events {
			b.Events[i].Time = &eventTimes{Create: v.at.UTC().Format(time.RFC3339Nano)}
		}
	}
	return json.Marshal(b)
}

// frame wraps a body in a keep-alive HTTP/1.1 POST with the headers a browser's tracker sends.
func (m Mix) frame(body []byte, variant uint64) []byte {
	var sb strings.Builder
	sb.Grow(len(body) + 400)
	sb.WriteString("POST " + m.path() + " HTTP/1.1\r\n")
	sb.WriteString("Host: " + m.Host + "\r\n")
	sb.WriteString("User-Agent: " + pick(userAgents, variant, 101) + "\r\n")
	sb.WriteString("Accept: */*\r\n")
	sb.WriteString("Content-Type: application/json\r\n")
	sb.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	sb.Write(body)
	return []byte(sb.String())
}

// WritePairs saves pairs one a line, tab-separated.
func WritePairs(w io.Writer, pairs []Pair) error {
	bw := bufio.NewWriter(w)
	for _, p := range pairs {
		if _, err := fmt.Fprintf(bw, "%s\t%s\n", p.Profile, p.Session); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadPairs loads what WritePairs saved.
func ReadPairs(r io.Reader) ([]Pair, error) {
	var out []Pair
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		t := sc.Text()
		if t == "" {
			continue
		}
		p, s, ok := strings.Cut(t, "\t")
		if !ok || p == "" || s == "" {
			return nil, fmt.Errorf("pairs line %d: want profile<TAB>session", line)
		}
		out = append(out, Pair{Profile: p, Session: s})
	}
	return out, sc.Err()
}

// ReadPairsFile is ReadPairs on a file.
func ReadPairsFile(path string) ([]Pair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadPairs(f)
}
