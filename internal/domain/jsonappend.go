package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Hand-written JSON encoders for the documents the /track pipeline stores on every
// request (profile, session, event). They produce exactly the bytes encoding/json's
// Marshal produces for the same value (TestAppendJSONMatchesEncodingJSON checks this on
// varied documents), at a fraction of the cost: no reflection, no per-field allocation,
// and no re-validation of each Time's MarshalJSON output. Values of the free-form maps
// whose type is not one JSON decoding produces fall back to encoding/json.

// AppendJSON appends the profile as encoding/json would marshal it.
func (p *Profile) AppendJSON(b []byte) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = appendString(b, p.ID)
	b = append(b, `,"ids":`...)
	b = appendStrings(b, p.IDs)
	b = append(b, `,"metadata":{"time":{"insert":`...)
	t := &p.Metadata.Time
	b = appendTime(b, t.Insert)
	b = append(b, `,"create":`...)
	b = appendTime(b, t.Create)
	b = append(b, `,"update":`...)
	b = appendTime(b, t.Update)
	b = append(b, `,"visit":{"last":`...)
	b = appendTime(b, t.Visit.Last)
	b = append(b, `,"current":`...)
	b = appendTime(b, t.Visit.Current)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, t.Visit.Count, 10)
	b = append(b, `}}`...)
	if p.Metadata.MergedInto != "" {
		b = append(b, `,"merged_into":`...)
		b = appendString(b, p.Metadata.MergedInto)
	}
	if len(p.Metadata.Merges) > 0 {
		b = append(b, `,"merges":[`...)
		for i := range p.Metadata.Merges {
			m := &p.Metadata.Merges[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"profile_id":`...)
			b = appendString(b, m.ProfileID)
			b = append(b, `,"key":`...)
			b = appendString(b, m.Key)
			b = append(b, `,"value":`...)
			b = appendString(b, m.Value)
			b = append(b, `,"time":`...)
			b = appendTime(b, m.Time)
			b = append(b, `,"by":`...)
			b = appendString(b, m.By)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(p.Metadata.Applied) > 0 {
		b = append(b, `,"applied":[`...)
		for i := range p.Metadata.Applied {
			a := &p.Metadata.Applied[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":`...)
			b = appendString(b, a.ID)
			b = append(b, `,"t":`...)
			b = strconv.AppendInt(b, a.Time, 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `},"stats":{"visits":`...)
	b = strconv.AppendInt(b, p.Stats.Visits, 10)
	b = append(b, `,"views":`...)
	b = strconv.AppendInt(b, p.Stats.Views, 10)
	b = append(b, `,"counters":`...)
	if b, err = appendFloatMap(b, p.Stats.Counters); err != nil {
		return nil, err
	}
	b = append(b, `},"traits":`...)
	if b, err = appendMap(b, p.Traits); err != nil {
		return nil, err
	}
	b = append(b, `,"data":`...)
	if b, err = appendMap(b, p.Data); err != nil {
		return nil, err
	}
	b = append(b, `,"segments":`...)
	b = appendStrings(b, p.Segments)
	b = append(b, `,"interests":`...)
	if b, err = appendFloatMap(b, p.Interests); err != nil {
		return nil, err
	}
	b = append(b, `,"consents":`...)
	if p.Consents == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		for i, k := range sortedKeys(p.Consents) {
			if i > 0 {
				b = append(b, ',')
			}
			c := p.Consents[k]
			b = appendString(b, k)
			b = append(b, `:{"granted":`...)
			b = strconv.AppendBool(b, c.Granted)
			if c.Revoke != nil {
				b = append(b, `,"revoke":`...)
				b = appendTime(b, *c.Revoke)
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	b = append(b, `,"active":`...)
	b = strconv.AppendBool(b, p.Active)
	b = append(b, `,"aux":`...)
	if b, err = appendMap(b, p.Aux); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// AppendJSON appends the session as encoding/json would marshal it.
func (s *Session) AppendJSON(b []byte) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = appendString(b, s.ID)
	b = append(b, `,"profile":{"id":`...)
	b = appendString(b, s.Profile.ID)
	b = append(b, `},"metadata":{"time":{"insert":`...)
	b = appendTime(b, s.Metadata.Time.Insert)
	b = append(b, `,"timestamp":`...)
	b = appendTime(b, s.Metadata.Time.Timestamp)
	b = append(b, `,"duration":`...)
	if b, err = appendFloat(b, s.Metadata.Time.Duration); err != nil {
		return nil, err
	}
	b = append(b, `},"status":`...)
	b = appendString(b, s.Metadata.Status)
	if s.Metadata.Channel != "" {
		b = append(b, `,"channel":`...)
		b = appendString(b, s.Metadata.Channel)
	}
	b = append(b, `},"device":`...)
	if b, err = appendDevice(b, &s.Device); err != nil {
		return nil, err
	}
	b = append(b, `,"os":`...)
	b = appendOS(b, &s.OS)
	b = append(b, `,"app":`...)
	b = appendApp(b, &s.App)
	b = append(b, `,"utm":`...)
	b = appendUTM(b, &s.UTM)
	b = append(b, `,"context":`...)
	if b, err = appendMap(b, s.Context); err != nil {
		return nil, err
	}
	b = append(b, `,"properties":`...)
	if b, err = appendMap(b, s.Properties); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// AppendJSON appends the event as encoding/json would marshal it.
func (e *Event) AppendJSON(b []byte) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = appendString(b, e.ID)
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	if e.Name != "" {
		b = append(b, `,"name":`...)
		b = appendString(b, e.Name)
	}
	m := &e.Metadata
	b = append(b, `,"metadata":{"time":{"insert":`...)
	b = appendTime(b, m.Time.Insert)
	b = append(b, `,"create":`...)
	b = appendTime(b, m.Time.Create)
	b = append(b, `,"process_time":`...)
	if b, err = appendFloat(b, m.Time.ProcessTime); err != nil {
		return nil, err
	}
	b = append(b, '}')
	if m.IP != "" {
		b = append(b, `,"ip":`...)
		b = appendString(b, m.IP)
	}
	b = append(b, `,"status":`...)
	b = appendString(b, m.Status)
	if m.Channel != "" {
		b = append(b, `,"channel":`...)
		b = appendString(b, m.Channel)
	}
	b = append(b, `,"processed_by":{"rules":`...)
	b = appendStrings(b, m.ProcessedBy.Rules)
	b = append(b, `,"flows":`...)
	b = appendStrings(b, m.ProcessedBy.Flows)
	b = append(b, `}},"source":{"id":`...)
	b = appendString(b, e.Source.ID)
	b = append(b, `},"session":{"id":`...)
	b = appendString(b, e.Session.ID)
	b = append(b, `,"start":`...)
	b = appendTime(b, e.Session.Start)
	b = append(b, `,"duration":`...)
	if b, err = appendFloat(b, e.Session.Duration); err != nil {
		return nil, err
	}
	b = append(b, `},"profile":{"id":`...)
	b = appendString(b, e.Profile.ID)
	b = append(b, `},"properties":`...)
	if b, err = appendMap(b, e.Properties); err != nil {
		return nil, err
	}
	b = append(b, `,"traits":`...)
	if b, err = appendMap(b, e.Traits); err != nil {
		return nil, err
	}
	b = append(b, `,"context":`...)
	if b, err = appendMap(b, e.Context); err != nil {
		return nil, err
	}
	b = append(b, `,"data":`...)
	if b, err = appendMap(b, e.Data); err != nil {
		return nil, err
	}
	b = append(b, `,"hit":{`...)
	first := true
	for _, f := range [...]struct{ k, v string }{{"name", e.Hit.Name}, {"url", e.Hit.URL}, {"referer", e.Hit.Referer}, {"query", e.Hit.Query}} {
		b = appendOptString(b, &first, f.k, f.v)
	}
	b = append(b, `},"utm":`...)
	b = appendUTM(b, &e.UTM)
	b = append(b, `,"tags":{"values":`...)
	b = appendStrings(b, e.Tags.Values)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, int64(e.Tags.Count), 10)
	b = append(b, `},"device":`...)
	if b, err = appendDevice(b, &e.Device); err != nil {
		return nil, err
	}
	b = append(b, `,"os":`...)
	b = appendOS(b, &e.OS)
	b = append(b, `,"app":`...)
	b = appendApp(b, &e.App)
	b = append(b, `,"journey":{`...)
	if e.Journey.State != "" {
		b = append(b, `"state":`...)
		b = appendString(b, e.Journey.State)
	}
	return append(b, `}}`...), nil
}

// appendOptString appends "k":v when v is not empty (an omitempty string field), with a
// comma unless it is the first field written.
func appendOptString(b []byte, first *bool, k, v string) []byte {
	if v == "" {
		return b
	}
	if !*first {
		b = append(b, ',')
	}
	*first = false
	b = append(b, '"')
	b = append(b, k...)
	b = append(b, `":`...)
	return appendString(b, v)
}

func appendDevice(b []byte, d *Device) ([]byte, error) {
	b = append(b, '{')
	first := true
	for _, f := range [...]struct{ k, v string }{{"name", d.Name}, {"brand", d.Brand}, {"model", d.Model}, {"type", d.Type}, {"ip", d.IP}, {"resolution", d.Resolution}} {
		b = appendOptString(b, &first, f.k, f.v)
	}
	if g := d.Geo; g != nil {
		if !first {
			b = append(b, ',')
		}
		b = append(b, `"geo":{`...)
		gf := true
		b = appendOptString(b, &gf, "country", g.Country)
		b = appendOptString(b, &gf, "city", g.City)
		for _, f := range [...]struct {
			k string
			v float64
		}{{"latitude", g.Latitude}, {"longitude", g.Longitude}} {
			if f.v == 0 {
				continue
			}
			if !gf {
				b = append(b, ',')
			}
			gf = false
			b = append(b, '"')
			b = append(b, f.k...)
			b = append(b, `":`...)
			var err error
			if b, err = appendFloat(b, f.v); err != nil {
				return nil, err
			}
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

func appendOS(b []byte, o *OS) []byte {
	b = append(b, '{')
	first := true
	b = appendOptString(b, &first, "name", o.Name)
	b = appendOptString(b, &first, "version", o.Version)
	return append(b, '}')
}

func appendApp(b []byte, a *App) []byte {
	b = append(b, '{')
	first := true
	for _, f := range [...]struct{ k, v string }{{"type", a.Type}, {"name", a.Name}, {"version", a.Version}, {"language", a.Language}} {
		b = appendOptString(b, &first, f.k, f.v)
	}
	if !first {
		b = append(b, ',')
	}
	b = append(b, `"bot":`...)
	b = strconv.AppendBool(b, a.Bot)
	return append(b, '}')
}

func appendUTM(b []byte, u *UTM) []byte {
	b = append(b, '{')
	first := true
	for _, f := range [...]struct{ k, v string }{{"source", u.Source}, {"medium", u.Medium}, {"campaign", u.Campaign}, {"term", u.Term}, {"content", u.Content}} {
		b = appendOptString(b, &first, f.k, f.v)
	}
	return append(b, '}')
}

// appendTime appends t as Time.MarshalJSON does.
func appendTime(b []byte, t Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.appendText(b)
	return append(b, '"')
}

// appendText appends t in TimeLayout; it formats the fixed layout directly, which is
// several times faster than time.Time.AppendFormat.
func (t Time) appendText(b []byte) []byte {
	u := t.UTC()
	year, month, day := u.Date()
	if year < 0 || year > 9999 {
		return u.AppendFormat(b, TimeLayout)
	}
	hour, min, sec := u.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, min, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, u.Nanosecond()/1000, 6)
	return append(b, 'Z')
}

func appendDigits(b []byte, v, width int) []byte {
	var buf [8]byte
	for i := width - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, buf[:width]...)
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func appendFloatMap(b []byte, m map[string]float64) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '{')
	var err error
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		if b, err = appendFloat(b, m[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func appendMap(b []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '{')
	var err error
	switch len(m) {
	case 0:
	case 1:
		for k, v := range m {
			b = appendString(b, k)
			b = append(b, ':')
			if b, err = appendValue(b, v); err != nil {
				return nil, err
			}
		}
	default:
		for i, k := range sortedKeys(m) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			if b, err = appendValue(b, m[k]); err != nil {
				return nil, err
			}
		}
	}
	return append(b, '}'), nil
}

// appendValue appends a free-form value: the types JSON decoding produces are written
// here, anything else by encoding/json.
func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, x), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case float64:
		return appendFloat(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case map[string]any:
		return appendMap(b, x)
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		var err error
		for i, y := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendValue(b, y); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case []string:
		return appendStrings(b, x), nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// ErrNotFinite is returned when a document holds a number JSON cannot carry (an
// infinity or NaN, such as a sum that overflowed): such a document is never stored.
var ErrNotFinite = errors.New("number is not finite")

// appendFloat formats f as encoding/json does for float64.
func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("%w: %s", ErrNotFinite, strconv.FormatFloat(f, 'g', -1, 64))
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does with HTML escaping (its default).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
