package collector

import (
	"math"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
)

// Copy moves one value from an event's properties into the event's data. Profile
// mapping then copies event data onto the profile.
type Copy struct {
	From string // path under event.properties
	To   string // path under event.data
}

// EventType is how events of one type are processed. Built-in types ship with the
// product; configurable types (event-types API) extend the same shape.
type EventType struct {
	Type string
	// ToData copies properties into event.data.
	ToData []Copy
	// ProfileData lists event.data subtrees copied onto profile.data (newer non-empty
	// values win).
	ProfileData []string
	// Traits copies event.properties.traits onto profile.traits.
	Traits bool
	// Consents applies the event's consents to profile.consents (consents.go); the
	// collector does it, as it needs the consent types.
	Consents bool
	// CountsView adds one to profile.stats.views.
	CountsView bool
	// LTV adds the number at this properties path to profile.data.metrics.ltv.
	LTV string
}

func copies(pairs ...string) []Copy {
	out := make([]Copy, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Copy{From: pairs[i], To: pairs[i+1]})
	}
	return out
}

var signIn = copies(
	"email.main", "contact.email.main", "email.private", "contact.email.private", "email.business", "contact.email.business",
	"firstname", "pii.firstname", "lastname", "pii.lastname", "login", "identifier.token",
	"pk", "identifier.pk", // Tracardi's sign-in primary key
)

// BuiltinEventTypes are the event types every installation knows (docs/tracking.md).
var BuiltinEventTypes = map[string]*EventType{
	"page-view": {Type: "page-view", CountsView: true, ToData: copies("id", "page.id", "category", "page.category")},
	"sign-in":   {Type: "sign-in", ToData: signIn, ProfileData: []string{"contact", "pii", "identifier"}},
	"sign-up":   {Type: "sign-up", ToData: signIn, ProfileData: []string{"contact", "pii", "identifier"}},
	"identification": {Type: "identification", ProfileData: []string{"contact", "pii", "identifier"},
		ToData: append(copies("phone.main", "contact.phone.main", "phone.mobile", "contact.phone.mobile",
			"phone.business", "contact.phone.business", "phone.whatsapp", "contact.phone.whatsapp", "id", "identifier.id"), signIn...)},
	"profile-update": {Type: "profile-update", Traits: true, ProfileData: []string{"pii", "contact", "identifier"},
		ToData: copies("pii", "pii", "contact", "contact", "identifier", "identifier")},
	"product-added-to-basket": {Type: "product-added-to-basket", ToData: copies("product", "ec.product", "basket", "ec.basket")},
	"checkout-completed":      {Type: "checkout-completed", ToData: copies("checkout", "ec.checkout", "product", "ec.product", "order", "ec.order")},
	"order-completed":         {Type: "order-completed", ToData: copies("order", "ec.order", "product", "ec.product", "checkout", "ec.checkout"), LTV: "order.total"},
	"consent-update":          {Type: "consent-update", Consents: true},
}

// apply fills ev.Data from the event's properties and changes the profile accordingly.
// field names the event (events[i]) in errors. It checks what can fail before it
// changes anything.
func (t *EventType) apply(field string, ev *domain.Event, p *domain.Profile) error {
	var ltv float64
	var addLTV bool
	if t.LTV != "" {
		if v, ok := domain.GetPath(ev.Properties, t.LTV); ok {
			if n, ok := v.(float64); ok {
				cur, _ := domain.GetPath(p.Data, "metrics.ltv")
				f, _ := cur.(float64)
				if ltv = f + n; math.IsInf(ltv, 0) || math.IsNaN(ltv) {
					return pipeline.Invalidf(field+".properties."+t.LTV, "%v would make the profile's lifetime value (data.metrics.ltv, now %v) overflow", n, f)
				}
				addLTV = true
			}
		}
	}
	for _, c := range t.ToData {
		if v, ok := domain.GetPath(ev.Properties, c.From); ok && !domain.IsEmpty(v) {
			if ev.Data == nil {
				ev.Data = map[string]any{}
			}
			domain.SetPath(ev.Data, c.To, normalizeValue(c.To, v))
		}
	}
	for _, root := range t.ProfileData {
		if v, ok := ev.Data[root]; ok {
			domain.MergeNonEmpty(p.Data, root, v)
		}
	}
	if t.CountsView {
		p.Stats.Views++
	}
	if t.Traits {
		if tr, ok := ev.Properties["traits"].(map[string]any); ok {
			for k, v := range tr {
				domain.MergeNonEmpty(p.Traits, k, v)
			}
		}
	}
	if addLTV {
		domain.SetPath(p.Data, "metrics.ltv", ltv)
	}
	return nil
}

// normalizeValue trims strings and lower-cases e-mail addresses, so that identity keys
// compare equal however a client typed them.
func normalizeValue(path string, v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	s = strings.TrimSpace(s)
	if strings.Contains(path, "email") {
		s = strings.ToLower(s)
	}
	return s
}

// changesProfile says whether events of this type write to the profile beyond its
// counters (data, traits, consents, lifetime value).
func (t *EventType) changesProfile() bool {
	return len(t.ProfileData) > 0 || t.Traits || t.Consents || t.LTV != ""
}
