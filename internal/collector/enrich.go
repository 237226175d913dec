package collector

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/useragent"
)

// RequestMeta is what the HTTP layer knows about a request beyond its body.
type RequestMeta struct {
	IP             string
	UserAgent      string
	AcceptLanguage string
	Origin         string
}

func str(m map[string]any, path string) string {
	v, _ := domain.GetPath(m, path)
	s, _ := v.(string)
	return s
}

// enrichSession fills a new session from the request: device, OS and browser from the
// user agent (internal/useragent), IP, language, screen, UTM.
func enrichSession(s *domain.Session, ctx map[string]any, meta RequestMeta, channel string) {
	ua := str(ctx, "browser.local.browser.userAgent")
	if ua == "" {
		ua = meta.UserAgent
	}
	if ua != "" {
		a := useragent.Parse(ua)
		s.App.Name = a.Browser
		s.App.Version = a.BrowserVersion
		s.App.Bot = a.Bot
		s.OS.Name = a.OS
		s.Device.Type = a.Device
		if s.App.Name != "" {
			s.App.Type = "browser"
		}
		s.Context = withValue(s.Context, "user_agent", ua)
	}
	s.Device.IP = meta.IP
	lang := str(ctx, "browser.local.browser.language")
	if lang == "" && meta.AcceptLanguage != "" {
		lang, _, _ = strings.Cut(meta.AcceptLanguage, ",")
		lang, _, _ = strings.Cut(lang, ";")
		lang = strings.TrimSpace(lang)
	}
	s.App.Language = lang
	if w, h := num(ctx, "screen.local.width"), num(ctx, "screen.local.height"); w > 0 && h > 0 {
		s.Device.Resolution = strconv.Itoa(w) + "x" + strconv.Itoa(h)
	}
	s.UTM = utmFrom(ctx)
	s.Metadata.Channel = channel
}

func num(m map[string]any, path string) int {
	v, _ := domain.GetPath(m, path)
	f, _ := v.(float64)
	if f < 0 || f > 1e6 {
		return 0
	}
	return int(f)
}

func withValue(m map[string]any, k string, v any) map[string]any {
	if m == nil {
		m = map[string]any{}
	}
	m[k] = v
	return m
}

// utmFrom reads campaign parameters from context.utm, falling back to the utm_* query
// parameters of the page URL.
func utmFrom(ctx map[string]any) domain.UTM {
	u := domain.UTM{
		Source: str(ctx, "utm.source"), Medium: str(ctx, "utm.medium"), Campaign: str(ctx, "utm.campaign"),
		Term: str(ctx, "utm.term"), Content: str(ctx, "utm.content"),
	}
	if u != (domain.UTM{}) {
		return u
	}
	raw := str(ctx, "page.url")
	if !strings.Contains(raw, "utm_") {
		return u
	}
	pu, err := url.Parse(raw)
	if err != nil {
		return u
	}
	q := pu.Query()
	return domain.UTM{Source: q.Get("utm_source"), Medium: q.Get("utm_medium"), Campaign: q.Get("utm_campaign"),
		Term: q.Get("utm_term"), Content: q.Get("utm_content")}
}

// hitFrom describes the page an event happened on, from the event's or the request's
// context.
func hitFrom(ctx map[string]any) domain.Hit {
	h := domain.Hit{Name: str(ctx, "page.title"), URL: str(ctx, "page.url")}
	h.Referer = str(ctx, "page.referer.host")
	if h.Referer == "" {
		h.Referer = str(ctx, "page.referer")
	}
	if i := strings.IndexByte(h.URL, '?'); i >= 0 {
		h.Query = h.URL[i+1:]
	}
	return h
}
