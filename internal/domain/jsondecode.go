package domain

import (
	"encoding/json"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/jsonfast"
)

// Hand-written JSON decoders for the stored profile, session and event documents (the
// shape AppendJSON writes), used by the stores instead of encoding/json's reflection.
// Built on internal/jsonfast, like the /track body decoder in the collector, they
// decode only what they can decode exactly as encoding/json would and otherwise answer
// "not handled": unknown,
// differently-cased or repeated keys (encoding/json matches keys case-insensitively and
// merges a repeated object into the first), null where encoding/json would keep a value,
// invalid UTF-8, surrogate escapes, numbers out of range, times not in TimeLayout, and
// any syntax error. DecodeDoc then decodes the document with encoding/json, so the
// value and the error are the same either way (TestDecodeDocMatchesEncodingJSON and
// FuzzDecodeDoc compare them).

// DecodeDoc decodes data into a new T as json.Unmarshal(data, new(T)) does, and returns
// it with json.Unmarshal's error. For a Profile, Session or Event it tries the
// hand-written decoder first.
func DecodeDoc[T any](data []byte) (*T, error) {
	v := new(T)
	d := docDecoder{jsonfast.New(data)}
	switch x := any(v).(type) {
	case *Profile:
		if d.profile(x) && d.End() {
			return v, nil
		}
	case *Session:
		if d.session(x) && d.End() {
			return v, nil
		}
	case *Event:
		if d.event(x) && d.End() {
			return v, nil
		}
	default:
		return v, json.Unmarshal(data, v)
	}
	var zero T
	*v = zero // what the fast decoder had filled in
	return v, json.Unmarshal(data, v)
}

// docDecoder adds the document types to the shared scanner.
type docDecoder struct{ jsonfast.Decoder }

// timeField decodes a Time as Time.UnmarshalJSON does, for null and TimeLayout strings.
func (d *docDecoder) timeField(t *Time) bool {
	if d.Null() {
		*t = Time{}
		return true
	}
	s, ok := d.StrBytes()
	if !ok {
		return false
	}
	return parseLayoutTime(s, t)
}

// parseLayoutTime parses s when it is in TimeLayout, giving what ParseTime gives.
func parseLayoutTime(s []byte, t *Time) bool {
	if len(s) != len(TimeLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
		s[16] != ':' || s[19] != '.' || s[26] != 'Z' {
		return false
	}
	num := func(b []byte) int {
		v := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(s[0:4]), num(s[5:7]), num(s[8:10])
	hour, min, sec, us := num(s[11:13]), num(s[14:16]), num(s[17:19]), num(s[20:26])
	if year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) ||
		hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 59 || us < 0 {
		return false
	}
	*t = NewTime(time.Date(year, time.Month(month), day, hour, min, sec, us*1000, time.UTC))
	return true
}

func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 31 - int((m-1)%7%2)
}

func (d *docDecoder) ref(r *Ref) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		return string(k) == "id" && jsonfast.Once(&seen, 1) && d.StrField(&r.ID)
	})
}

func (d *docDecoder) profile(p *Profile) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return jsonfast.Once(&seen, 1<<0) && d.StrField(&p.ID)
		case "ids":
			return jsonfast.Once(&seen, 1<<1) && d.Strings(&p.IDs)
		case "metadata":
			return jsonfast.Once(&seen, 1<<2) && d.profileMetadata(&p.Metadata)
		case "stats":
			return jsonfast.Once(&seen, 1<<3) && d.profileStats(&p.Stats)
		case "traits":
			return jsonfast.Once(&seen, 1<<4) && d.AnyMap(&p.Traits)
		case "data":
			return jsonfast.Once(&seen, 1<<5) && d.AnyMap(&p.Data)
		case "segments":
			return jsonfast.Once(&seen, 1<<6) && d.Strings(&p.Segments)
		case "interests":
			return jsonfast.Once(&seen, 1<<7) && d.FloatMap(&p.Interests)
		case "consents":
			return jsonfast.Once(&seen, 1<<8) && d.consents(&p.Consents)
		case "active":
			return jsonfast.Once(&seen, 1<<9) && d.BoolField(&p.Active)
		case "aux":
			return jsonfast.Once(&seen, 1<<10) && d.AnyMap(&p.Aux)
		}
		return false
	})
}

func (d *docDecoder) profileMetadata(m *ProfileMetadata) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		switch string(k) {
		case "time":
			return jsonfast.Once(&seen, 1<<0) && d.profileTime(&m.Time)
		case "merged_into":
			return jsonfast.Once(&seen, 1<<1) && d.StrField(&m.MergedInto)
		case "merges":
			if !jsonfast.Once(&seen, 1<<2) {
				return false
			}
			if d.Null() {
				return true
			}
			out := []MergeRecord{}
			ok := d.Array(func() bool {
				out = append(out, MergeRecord{})
				return d.mergeRecord(&out[len(out)-1])
			})
			m.Merges = out
			return ok
		case "applied":
			if !jsonfast.Once(&seen, 1<<3) {
				return false
			}
			if d.Null() {
				return true
			}
			out := []AppliedEvent{}
			ok := d.Array(func() bool {
				out = append(out, AppliedEvent{})
				return d.appliedEvent(&out[len(out)-1])
			})
			m.Applied = out
			return ok
		}
		return false
	})
}

func (d *docDecoder) appliedEvent(a *AppliedEvent) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return jsonfast.Once(&seen, 1<<0) && d.StrField(&a.ID)
		case "t":
			return jsonfast.Once(&seen, 1<<1) && d.Int64Field(&a.Time)
		}
		return false
	})
}

func (d *docDecoder) mergeRecord(r *MergeRecord) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		switch string(k) {
		case "profile_id":
			return jsonfast.Once(&seen, 1<<0) && d.StrField(&r.ProfileID)
		case "key":
			return jsonfast.Once(&seen, 1<<1) && d.StrField(&r.Key)
		case "value":
			return jsonfast.Once(&seen, 1<<2) && d.StrField(&r.Value)
		case "time":
			return jsonfast.Once(&seen, 1<<3) && d.timeField(&r.Time)
		case "by":
			return jsonfast.Once(&seen, 1<<4) && d.StrField(&r.By)
		}
		return false
	})
}

func (d *docDecoder) profileTime(t *ProfileTime) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		switch string(k) {
		case "insert":
			return jsonfast.Once(&seen, 1<<0) && d.timeField(&t.Insert)
		case "create":
			return jsonfast.Once(&seen, 1<<1) && d.timeField(&t.Create)
		case "update":
			return jsonfast.Once(&seen, 1<<2) && d.timeField(&t.Update)
		case "visit":
			return jsonfast.Once(&seen, 1<<3) && d.visitTime(&t.Visit)
		}
		return false
	})
}

func (d *docDecoder) visitTime(v *VisitTime) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		switch string(k) {
		case "last":
			return jsonfast.Once(&seen, 1<<0) && d.timeField(&v.Last)
		case "current":
			return jsonfast.Once(&seen, 1<<1) && d.timeField(&v.Current)
		case "count":
			return jsonfast.Once(&seen, 1<<2) && d.Int64Field(&v.Count)
		}
		return false
	})
}

func (d *docDecoder) profileStats(s *ProfileStats) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		switch string(k) {
		case "visits":
			return jsonfast.Once(&seen, 1<<0) && d.Int64Field(&s.Visits)
		case "views":
			return jsonfast.Once(&seen, 1<<1) && d.Int64Field(&s.Views)
		case "counters":
			return jsonfast.Once(&seen, 1<<2) && d.FloatMap(&s.Counters)
		}
		return false
	})
}

func (d *docDecoder) consents(m *map[string]Consent) bool {
	if d.Null() {
		*m = nil
		return true
	}
	out := map[string]Consent{}
	*m = out
	return d.Object(func(k []byte) bool {
		key := string(k)
		var c Consent
		var seen uint32
		ok := d.Object(func(k []byte) bool {
			switch string(k) {
			case "granted":
				return jsonfast.Once(&seen, 1<<0) && d.BoolField(&c.Granted)
			case "revoke":
				if !jsonfast.Once(&seen, 1<<1) {
					return false
				}
				if d.Null() {
					return true
				}
				c.Revoke = new(Time)
				return d.timeField(c.Revoke)
			}
			return false
		})
		out[key] = c
		return ok
	})
}

func (d *docDecoder) session(s *Session) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return jsonfast.Once(&seen, 1<<0) && d.StrField(&s.ID)
		case "profile":
			return jsonfast.Once(&seen, 1<<1) && d.ref(&s.Profile)
		case "metadata":
			return jsonfast.Once(&seen, 1<<2) && d.sessionMetadata(&s.Metadata)
		case "device":
			return jsonfast.Once(&seen, 1<<3) && d.device(&s.Device)
		case "os":
			return jsonfast.Once(&seen, 1<<4) && d.os(&s.OS)
		case "app":
			return jsonfast.Once(&seen, 1<<5) && d.app(&s.App)
		case "utm":
			return jsonfast.Once(&seen, 1<<6) && d.utm(&s.UTM)
		case "context":
			return jsonfast.Once(&seen, 1<<7) && d.AnyMap(&s.Context)
		case "properties":
			return jsonfast.Once(&seen, 1<<8) && d.AnyMap(&s.Properties)
		}
		return false
	})
}

func (d *docDecoder) sessionMetadata(m *SessionMetadata) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		switch string(k) {
		case "time":
			var ts uint32
			return jsonfast.Once(&seen, 1<<0) && d.Object(func(k []byte) bool {
				switch string(k) {
				case "insert":
					return jsonfast.Once(&ts, 1<<0) && d.timeField(&m.Time.Insert)
				case "timestamp":
					return jsonfast.Once(&ts, 1<<1) && d.timeField(&m.Time.Timestamp)
				case "duration":
					return jsonfast.Once(&ts, 1<<2) && d.FloatField(&m.Time.Duration)
				}
				return false
			})
		case "status":
			return jsonfast.Once(&seen, 1<<1) && d.StrField(&m.Status)
		case "channel":
			return jsonfast.Once(&seen, 1<<2) && d.StrField(&m.Channel)
		}
		return false
	})
}

func (d *docDecoder) device(v *Device) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		switch string(k) {
		case "name":
			return jsonfast.Once(&seen, 1<<0) && d.StrField(&v.Name)
		case "brand":
			return jsonfast.Once(&seen, 1<<1) && d.StrField(&v.Brand)
		case "model":
			return jsonfast.Once(&seen, 1<<2) && d.StrField(&v.Model)
		case "type":
			return jsonfast.Once(&seen, 1<<3) && d.StrField(&v.Type)
		case "ip":
			return jsonfast.Once(&seen, 1<<4) && d.StrField(&v.IP)
		case "resolution":
			return jsonfast.Once(&seen, 1<<5) && d.StrField(&v.Resolution)
		case "geo":
			if !jsonfast.Once(&seen, 1<<6) {
				return false
			}
			if d.Null() {
				return true
			}
			g := new(Geo)
			v.Geo = g
			var gs uint32
			return d.Object(func(k []byte) bool {
				switch string(k) {
				case "country":
					return jsonfast.Once(&gs, 1<<0) && d.StrField(&g.Country)
				case "city":
					return jsonfast.Once(&gs, 1<<1) && d.StrField(&g.City)
				case "latitude":
					return jsonfast.Once(&gs, 1<<2) && d.FloatField(&g.Latitude)
				case "longitude":
					return jsonfast.Once(&gs, 1<<3) && d.FloatField(&g.Longitude)
				}
				return false
			})
		}
		return false
	})
}

func (d *docDecoder) os(v *OS) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		switch string(k) {
		case "name":
			return jsonfast.Once(&seen, 1<<0) && d.StrField(&v.Name)
		case "version":
			return jsonfast.Once(&seen, 1<<1) && d.StrField(&v.Version)
		}
		return false
	})
}

func (d *docDecoder) app(v *App) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		switch string(k) {
		case "type":
			return jsonfast.Once(&seen, 1<<0) && d.StrField(&v.Type)
		case "name":
			return jsonfast.Once(&seen, 1<<1) && d.StrField(&v.Name)
		case "version":
			return jsonfast.Once(&seen, 1<<2) && d.StrField(&v.Version)
		case "language":
			return jsonfast.Once(&seen, 1<<3) && d.StrField(&v.Language)
		case "bot":
			return jsonfast.Once(&seen, 1<<4) && d.BoolField(&v.Bot)
		}
		return false
	})
}

func (d *docDecoder) utm(v *UTM) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		switch string(k) {
		case "source":
			return jsonfast.Once(&seen, 1<<0) && d.StrField(&v.Source)
		case "medium":
			return jsonfast.Once(&seen, 1<<1) && d.StrField(&v.Medium)
		case "campaign":
			return jsonfast.Once(&seen, 1<<2) && d.StrField(&v.Campaign)
		case "term":
			return jsonfast.Once(&seen, 1<<3) && d.StrField(&v.Term)
		case "content":
			return jsonfast.Once(&seen, 1<<4) && d.StrField(&v.Content)
		}
		return false
	})
}

func (d *docDecoder) event(e *Event) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return jsonfast.Once(&seen, 1<<0) && d.StrField(&e.ID)
		case "type":
			return jsonfast.Once(&seen, 1<<1) && d.StrField(&e.Type)
		case "name":
			return jsonfast.Once(&seen, 1<<2) && d.StrField(&e.Name)
		case "metadata":
			return jsonfast.Once(&seen, 1<<3) && d.eventMetadata(&e.Metadata)
		case "source":
			return jsonfast.Once(&seen, 1<<4) && d.ref(&e.Source)
		case "session":
			var ss uint32
			return jsonfast.Once(&seen, 1<<5) && d.Object(func(k []byte) bool {
				switch string(k) {
				case "id":
					return jsonfast.Once(&ss, 1<<0) && d.StrField(&e.Session.ID)
				case "start":
					return jsonfast.Once(&ss, 1<<1) && d.timeField(&e.Session.Start)
				case "duration":
					return jsonfast.Once(&ss, 1<<2) && d.FloatField(&e.Session.Duration)
				}
				return false
			})
		case "profile":
			return jsonfast.Once(&seen, 1<<6) && d.ref(&e.Profile)
		case "properties":
			return jsonfast.Once(&seen, 1<<7) && d.AnyMap(&e.Properties)
		case "traits":
			return jsonfast.Once(&seen, 1<<8) && d.AnyMap(&e.Traits)
		case "context":
			return jsonfast.Once(&seen, 1<<9) && d.AnyMap(&e.Context)
		case "data":
			return jsonfast.Once(&seen, 1<<10) && d.AnyMap(&e.Data)
		case "hit":
			var hs uint32
			h := &e.Hit
			return jsonfast.Once(&seen, 1<<11) && d.Object(func(k []byte) bool {
				switch string(k) {
				case "name":
					return jsonfast.Once(&hs, 1<<0) && d.StrField(&h.Name)
				case "url":
					return jsonfast.Once(&hs, 1<<1) && d.StrField(&h.URL)
				case "referer":
					return jsonfast.Once(&hs, 1<<2) && d.StrField(&h.Referer)
				case "query":
					return jsonfast.Once(&hs, 1<<3) && d.StrField(&h.Query)
				}
				return false
			})
		case "utm":
			return jsonfast.Once(&seen, 1<<12) && d.utm(&e.UTM)
		case "tags":
			var ts uint32
			return jsonfast.Once(&seen, 1<<13) && d.Object(func(k []byte) bool {
				switch string(k) {
				case "values":
					return jsonfast.Once(&ts, 1<<0) && d.Strings(&e.Tags.Values)
				case "count":
					return jsonfast.Once(&ts, 1<<1) && d.IntField(&e.Tags.Count)
				}
				return false
			})
		case "device":
			return jsonfast.Once(&seen, 1<<14) && d.device(&e.Device)
		case "os":
			return jsonfast.Once(&seen, 1<<15) && d.os(&e.OS)
		case "app":
			return jsonfast.Once(&seen, 1<<16) && d.app(&e.App)
		case "journey":
			var js uint32
			return jsonfast.Once(&seen, 1<<17) && d.Object(func(k []byte) bool {
				return string(k) == "state" && jsonfast.Once(&js, 1) && d.StrField(&e.Journey.State)
			})
		}
		return false
	})
}

func (d *docDecoder) eventMetadata(m *EventMetadata) bool {
	var seen uint32
	return d.Object(func(k []byte) bool {
		switch string(k) {
		case "time":
			var ts uint32
			return jsonfast.Once(&seen, 1<<0) && d.Object(func(k []byte) bool {
				switch string(k) {
				case "insert":
					return jsonfast.Once(&ts, 1<<0) && d.timeField(&m.Time.Insert)
				case "create":
					return jsonfast.Once(&ts, 1<<1) && d.timeField(&m.Time.Create)
				case "process_time":
					return jsonfast.Once(&ts, 1<<2) && d.FloatField(&m.Time.ProcessTime)
				}
				return false
			})
		case "ip":
			return jsonfast.Once(&seen, 1<<1) && d.StrField(&m.IP)
		case "status":
			return jsonfast.Once(&seen, 1<<2) && d.StrField(&m.Status)
		case "channel":
			return jsonfast.Once(&seen, 1<<3) && d.StrField(&m.Channel)
		case "processed_by":
			var ps uint32
			return jsonfast.Once(&seen, 1<<4) && d.Object(func(k []byte) bool {
				switch string(k) {
				case "rules":
					return jsonfast.Once(&ps, 1<<0) && d.Strings(&m.ProcessedBy.Rules)
				case "flows":
					return jsonfast.Once(&ps, 1<<1) && d.Strings(&m.ProcessedBy.Flows)
				}
				return false
			})
		}
		return false
	})
}
