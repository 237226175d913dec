package segmentio

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/thamesthrive/thamesthrive/internal/collector"
	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// idSpace is the UUIDv5 namespace of the ids derived here. Never change it: stored
// profiles and sessions are found again through these ids.
var idSpace = uuid.MustParse("5b0d7c1e-4a51-4a2b-9d6e-2f1c8e7a9b30")

// DeriveID turns an id an SDK chose (an anonymousId, a userId) into the server-made id
// of a profile or session: the same input always gives the same id, and no client can
// pick the id of a profile it does not know the Segment id of.
func DeriveID(kind, value string) string {
	return uuid.NewSHA1(idSpace, []byte(kind+"\x00"+value)).String()
}

// ProfileFor is the profile a message lands on: its anonymousId's, else its userId's.
func (m *Message) ProfileFor() string {
	if a, _ := idString(m.AnonymousID, ""); a != "" {
		return DeriveID("anonymous", a)
	}
	u, _ := idString(m.UserID, "")
	return DeriveID("user", u)
}

// UserProfile is the profile a userId alone lands on.
func UserProfile(userID string) string { return DeriveID("user", userID) }

// Request translates m into a collector request of one event for the source src,
// received at received. ip is the end user's address from context.ip (only sources
// marked trusted may give it; the caller decides).
func (m *Message) Request(src *domain.Source, received time.Time) (req *collector.TrackRequest, ip string) {
	user, _ := idString(m.UserID, "")
	pid := m.ProfileFor()
	when := m.eventTime(received)
	ctx := translateContext(m.Context)
	ip, _ = m.Context["ip"].(string)

	ev := collector.TrackEvent{ID: eventID(m.MessageID), Properties: m.Properties, Traits: m.Traits}
	if ev.Properties == nil {
		ev.Properties = map[string]any{}
	}
	t := domain.NewTime(when)
	ev.Time.Create = &t
	var apply []func(p *domain.Profile)
	switch m.Type {
	case Track:
		ev.Type, ev.Name = m.Event, m.Event
	case Page, Screen:
		ev.Type, ev.Name = "page-view", m.Name
		if m.Type == Screen {
			ev.Type = "screen-view"
		}
		props := clone(ev.Properties)
		if m.Name != "" {
			props["name"] = m.Name
		}
		if m.Category != "" {
			props["category"] = m.Category
		}
		ev.Properties = props
		if _, ok := ctx["page"]; !ok && m.Type == Page { // server SDKs put the page in properties
			ctx["page"] = pageFrom(props)
		}
	case Identify:
		ev.Type, ev.Name = "profile-update", "identify"
		ev.Properties = identifyProperties(m.Traits, user)
	case Group:
		gid, _ := idString(m.GroupID, "")
		ev.Type, ev.Name = "group", "group"
		ev.Properties = map[string]any{"group_id": gid, "traits": orEmpty(m.Traits)}
		apply = append(apply, func(p *domain.Profile) { joinGroup(p, gid) })
	case Alias:
		prev, _ := idString(m.PreviousID, "")
		ev.Type, ev.Name = "alias", "alias"
		ev.Properties = map[string]any{"previous_id": prev, "user_id": user}
	}
	if ev.Name == "" {
		ev.Name = m.Type
	}
	if user != "" {
		// userId is a merge key: the profile holding it is the identified person, and
		// any other profile that gets the same userId is merged with it.
		// Not on a profile that already holds this userId's profile (reached through a
		// merge): its identifier may be another of the person's ids, and overwriting it
		// would split them again.
		own := UserProfile(user)
		apply = append(apply, func(p *domain.Profile) {
			if p.ID != own && slices.Contains(p.IDs, own) {
				return
			}
			if p.Data == nil {
				p.Data = map[string]any{}
			}
			domain.SetPath(p.Data, "identifier.id", user)
		})
	}
	req = &collector.TrackRequest{
		Source:  collector.IDRef{ID: src.ID},
		Profile: &collector.IDRef{ID: pid},
		Session: &collector.IDRef{ID: m.sessionFor(pid, when)},
		Context: ctx,
		Events:  []collector.TrackEvent{ev},
		// Derived from the SDK's ids, never taken from them.
		ServerIDs: true,
	}
	if len(apply) > 0 {
		req.Apply = func(p *domain.Profile) {
			for _, f := range apply {
				f(p)
			}
		}
	}
	return req, ip
}

// eventTime corrects the client's clock: the time the message was made, moved by the
// difference between the client's sentAt and the time it was received (Segment's own
// rule). Without sentAt the given time is taken as is; without any, the received time.
func (m *Message) eventTime(received time.Time) time.Time {
	ts := m.OriginalTimestamp
	if ts == "" {
		ts = m.Timestamp
	}
	t, err := parseTime(ts)
	if ts == "" || err != nil {
		return received
	}
	if sent, err := parseTime(m.SentAt); m.SentAt != "" && err == nil {
		return received.Add(t.Sub(sent))
	}
	return t
}

// sessionFor is the session id: RudderStack's context.sessionId when given, else one
// session per profile and UTC day (Segment has no sessions).
func (m *Message) sessionFor(pid string, when time.Time) string {
	switch v := m.Context["sessionId"].(type) {
	case string:
		if v != "" {
			return DeriveID("session", pid+"\x00"+v)
		}
	case float64:
		s, _ := idString(v, "")
		return DeriveID("session", pid+"\x00"+s)
	}
	return DeriveID("session", pid+"\x00"+when.UTC().Format("2006-01-02"))
}

// eventID keeps a messageId usable as an event id as it is (so that retries store one
// event and the event is found under its messageId), and derives one otherwise.
func eventID(mid string) string {
	if mid == "" {
		return ""
	}
	if len(mid) <= 128 {
		ok := true
		for i := 0; i < len(mid); i++ {
			if c := mid[i]; c <= ' ' || c >= 0x7f || c == '/' || c == '?' || c == '#' || c == '%' {
				ok = false
				break
			}
		}
		if ok {
			return mid
		}
	}
	return DeriveID("message", mid)
}

// translateContext keeps the Segment context and adds the fields the collector's
// session enrichment reads: page (with referer), browser, screen and utm.
func translateContext(in map[string]any) map[string]any {
	ctx := clone(in)
	if page, ok := in["page"].(map[string]any); ok {
		ctx["page"] = pageFrom(page)
	}
	browser := map[string]any{}
	if ua, ok := in["userAgent"].(string); ok {
		browser["userAgent"] = ua
	}
	if l, ok := in["locale"].(string); ok {
		browser["language"] = l
	}
	if len(browser) > 0 {
		ctx["browser"] = map[string]any{"local": map[string]any{"browser": browser}}
	}
	if sc, ok := in["screen"].(map[string]any); ok {
		ctx["screen"] = map[string]any{"local": sc}
	}
	if c, ok := in["campaign"].(map[string]any); ok {
		utm := map[string]any{}
		for from, to := range map[string]string{"name": "campaign", "source": "source", "medium": "medium", "term": "term", "content": "content"} {
			if v, ok := c[from].(string); ok && v != "" {
				utm[to] = v
			}
		}
		ctx["utm"] = utm
	}
	return ctx
}

// pageFrom makes the collector's page context from Segment's (url, title, path,
// search, referrer).
func pageFrom(p map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range []string{"url", "title", "path", "search"} {
		if v, ok := p[k].(string); ok {
			out[k] = v
		}
	}
	if r, ok := p["referrer"].(string); ok && r != "" {
		ref := map[string]any{"url": r}
		if u, err := url.Parse(r); err == nil {
			ref["host"] = u.Host
		}
		out["referer"] = ref
	}
	return out
}

// identifyProperties shapes an identify as the built-in profile-update event: Segment's
// reserved traits go to the profile's data (where merge keys look), every trait to
// its traits, and the userId to data.identifier.id.
func identifyProperties(traits map[string]any, user string) map[string]any {
	props := map[string]any{"traits": orEmpty(traits)}
	set := func(path string, v any) {
		if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
			domain.SetPath(props, path, s)
		}
	}
	for k, v := range traits {
		if path, ok := reservedTraits[k]; ok {
			set(path, v)
		}
	}
	if addr, ok := traits["address"].(map[string]any); ok {
		for k, path := range addressTraits {
			set(path, addr[k])
		}
	}
	if user != "" {
		set("identifier.id", user)
	}
	return props
}

var reservedTraits = map[string]string{
	"email": "contact.email.main", "phone": "contact.phone.main",
	"firstName": "pii.firstname", "first_name": "pii.firstname", "firstname": "pii.firstname",
	"lastName": "pii.lastname", "last_name": "pii.lastname", "lastname": "pii.lastname",
	"name": "pii.display_name", "birthday": "pii.birthday", "gender": "pii.gender",
}

var addressTraits = map[string]string{
	"city": "contact.address.town", "country": "contact.address.country", "postalCode": "contact.address.postcode",
	"state": "contact.address.county", "street": "contact.address.street",
}

// joinGroup records the membership: profile.traits.groups lists the group ids, so a
// segment can say `profile@traits.groups CONTAINS "acme"`.
func joinGroup(p *domain.Profile, gid string) {
	if p.Traits == nil {
		p.Traits = map[string]any{}
	}
	var groups []any
	switch g := p.Traits["groups"].(type) {
	case []any:
		groups = g
	case []string:
		for _, s := range g {
			groups = append(groups, s)
		}
	}
	if !slices.Contains(groups, any(gid)) {
		groups = append(groups, gid)
	}
	p.Traits["groups"] = groups
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+4)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
