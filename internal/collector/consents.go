package collector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/pipeline"
	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// readConsents reads the consents of a consent-update event, checked against the
// consent types, before anything changes. Two shapes are accepted:
//
//	{"consents": {"marketing": true, "analytics": {"granted": false}}}
//	{"marketing": true, "analytics": {"granted": false}}   (the consents at the top)
//
// Each answer is a boolean, or an object with granted (boolean; omitted or null: the
// type's default_value) and revoke (RFC 3339). A granted consent of a type with
// auto_revoke gets now+auto_revoke as its revoke time when it names none (the
// revocation itself is the worker's job). Unknown consent types, other values and an
// event without any consent are a 400 naming the field: never a 200 that stores nothing.
func (c *Collector) readConsents(ctx context.Context, field string, ev *domain.Event, now domain.Time) (map[string]domain.Consent, error) {
	base := field + ".properties"
	raw := ev.Properties
	if cs, ok := ev.Properties["consents"]; ok {
		base += ".consents"
		m, ok := cs.(map[string]any)
		if !ok {
			return nil, pipeline.Invalidf(base, "must be an object of consent type ids to answers")
		}
		raw = m
	}
	if len(raw) == 0 {
		return nil, pipeline.Invalidf(base, `holds no consents; send {"consents": {"<consent type id>": true|false}}`)
	}
	ids := make([]string, 0, len(raw))
	for id := range raw {
		ids = append(ids, id)
	}
	sort.Strings(ids) // the first error is always the same one
	out := make(map[string]domain.Consent, len(raw))
	for _, id := range ids {
		f := base + "." + id
		if err := checkID(f, id, c.lim); err != nil {
			return nil, pipeline.Invalidf(f, "names no consent type")
		}
		ct, err := c.consentType(ctx, id)
		if err != nil {
			return nil, err
		}
		if ct == nil {
			return nil, pipeline.Invalidf(f, "names no consent type (create it under /api/v1/consent-types first)")
		}
		var cs domain.Consent
		granted := (*bool)(nil)
		switch x := raw[id].(type) {
		case bool:
			granted = &x
		case nil:
		case map[string]any:
			for k := range x {
				if k != "granted" && k != "revoke" {
					return nil, pipeline.Invalidf(f+"."+k, "is not a consent field (granted, revoke)")
				}
			}
			switch g := x["granted"].(type) {
			case bool:
				granted = &g
			case nil:
			default:
				return nil, pipeline.Invalidf(f+".granted", "must be a boolean")
			}
			switch r := x["revoke"].(type) {
			case nil:
			case string:
				t, err := domain.ParseTime(r)
				if err != nil {
					return nil, pipeline.Invalidf(f+".revoke", "%s", err.Error())
				}
				if !t.IsZero() {
					cs.Revoke = &t
				}
			default:
				return nil, pipeline.Invalidf(f+".revoke", "must be an RFC 3339 time")
			}
		default:
			return nil, pipeline.Invalidf(f, "must be true, false or {\"granted\": …, \"revoke\": …}")
		}
		if granted == nil {
			cs.Granted = ct.DefaultValue == domain.ConsentGrant
		} else {
			cs.Granted = *granted
		}
		if cs.Granted && cs.Revoke == nil && ct.Revokable {
			if d := ct.AutoRevokeAfter(); d > 0 {
				t := domain.NewTime(now.Add(d))
				cs.Revoke = &t
			}
		}
		out[id] = cs
	}
	return out, nil
}

// consentType reads one consent type (nil when there is none). consent-update events
// are rare: no cache.
func (c *Collector) consentType(ctx context.Context, id string) (*domain.ConsentType, error) {
	ent, err := c.store.Entities().Get(ctx, domain.EntityConsentType, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, unavailable(err)
	}
	var ct domain.ConsentType
	if err := json.Unmarshal(ent.Doc, &ct); err != nil {
		return nil, unavailable(fmt.Errorf("decoding consent type %q: %w", id, err))
	}
	return &ct, nil
}
