package domain

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Hand-written JSON decoders for the stored profile, session and event documents (the
// shape AppendJSON writes), used by the stores instead of encoding/json's reflection.
// Like the /track body decoder in the collector, they decode only what they can decode
// exactly as encoding/json would and otherwise answer "not handled": unknown,
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
	d := docDecoder{b: data}
	switch x := any(v).(type) {
	case *Profile:
		if d.profile(x) && d.end() {
			return v, nil
		}
	case *Session:
		if d.session(x) && d.end() {
			return v, nil
		}
	case *Event:
		if d.event(x) && d.end() {
			return v, nil
		}
	default:
		return v, json.Unmarshal(data, v)
	}
	var zero T
	*v = zero // what the fast decoder had filled in
	return v, json.Unmarshal(data, v)
}

// maxDocDepth bounds the nesting of free-form values the fast decoder follows.
const maxDocDepth = 64

type docDecoder struct {
	b       []byte
	i       int
	depth   int
	scratch []byte // unescaped string bytes, reused
}

func (d *docDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// next skips whitespace and returns the next byte (0 at the end).
func (d *docDecoder) next() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *docDecoder) eat(c byte) bool {
	if d.next() == c {
		d.i++
		return true
	}
	return false
}

func (d *docDecoder) end() bool {
	d.ws()
	return d.i == len(d.b)
}

func (d *docDecoder) literal(s string) bool {
	if len(d.b)-d.i >= len(s) && string(d.b[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return true
	}
	return false
}

// null consumes a null if one comes next.
func (d *docDecoder) null() bool {
	return d.next() == 'n' && d.literal("null")
}

// strBytes reads a string and returns its unescaped bytes: a slice of the input, or of
// d.scratch when it has escapes (valid until the next string is read).
func (d *docDecoder) strBytes() ([]byte, bool) {
	if !d.eat('"') {
		return nil, false
	}
	start := d.i
	high := false
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			if high && !utf8.Valid(s) {
				return nil, false
			}
			return s, true
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			high = true
		}
		d.i++
	}
	return nil, false
}

// escaped finishes reading a string with escapes from d.i (at a backslash); start is
// where its contents began.
func (d *docDecoder) escaped(start int) ([]byte, bool) {
	buf := d.scratch[:0]
	seg := start // start of the current run of unescaped bytes
	flush := func() bool {
		raw := d.b[seg:d.i]
		buf = append(buf, raw...)
		return utf8.Valid(raw)
	}
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			if !flush() {
				return nil, false
			}
			d.i++
			d.scratch = buf
			return buf, true
		case c == '\\':
			if !flush() || d.i+1 >= len(d.b) {
				return nil, false
			}
			e := d.b[d.i+1]
			d.i += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				if d.i+4 > len(d.b) {
					return nil, false
				}
				var r rune
				for _, h := range d.b[d.i : d.i+4] {
					switch {
					case '0' <= h && h <= '9':
						h -= '0'
					case 'a' <= h && h <= 'f':
						h -= 'a' - 10
					case 'A' <= h && h <= 'F':
						h -= 'A' - 10
					default:
						return nil, false
					}
					r = r<<4 | rune(h)
				}
				if utf16.IsSurrogate(r) {
					return nil, false
				}
				buf = utf8.AppendRune(buf, r)
				d.i += 4
			default:
				return nil, false
			}
			seg = d.i
			continue
		case c < 0x20:
			return nil, false
		}
		d.i++
	}
	return nil, false
}

func (d *docDecoder) str() (string, bool) {
	b, ok := d.strBytes()
	if !ok {
		return "", false
	}
	return string(b), true
}

// strField decodes a string field; null would leave it as it is, which the fast
// decoder does not bother with.
func (d *docDecoder) strField(s *string) bool {
	var ok bool
	*s, ok = d.str()
	return ok
}

func (d *docDecoder) boolField(v *bool) bool {
	switch d.next() {
	case 't':
		*v = true
		return d.literal("true")
	case 'f':
		*v = false
		return d.literal("false")
	}
	return false
}

// number reads a JSON number and returns its text.
func (d *docDecoder) number() ([]byte, bool) {
	d.ws()
	b, i := d.b, d.i
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	d.i = i
	return b[start:i], true
}

func (d *docDecoder) float() (float64, bool) {
	n, ok := d.number()
	if !ok {
		return 0, false
	}
	if len(n) <= 15 { // small integers, the usual case: exact in a float64
		var v int64
		i := 0
		if n[0] == '-' {
			i = 1
		}
		for ; i < len(n); i++ {
			c := n[i]
			if c < '0' || c > '9' {
				break
			}
			v = v*10 + int64(c-'0')
		}
		if i == len(n) {
			if n[0] == '-' {
				return -float64(v), true // -0 too
			}
			return float64(v), true
		}
	}
	f, err := strconv.ParseFloat(string(n), 64)
	return f, err == nil
}

func (d *docDecoder) floatField(f *float64) bool {
	var ok bool
	*f, ok = d.float()
	return ok
}

func (d *docDecoder) int64Field(v *int64) bool {
	n, ok := d.number()
	if !ok {
		return false
	}
	var err error
	*v, err = strconv.ParseInt(string(n), 10, 64)
	return err == nil
}

func (d *docDecoder) intField(v *int) bool {
	var n int64
	if !d.int64Field(&n) || int64(int(n)) != n {
		return false
	}
	*v = int(n)
	return true
}

// timeField decodes a Time as Time.UnmarshalJSON does, for null and TimeLayout strings.
func (d *docDecoder) timeField(t *Time) bool {
	if d.null() {
		*t = Time{}
		return true
	}
	s, ok := d.strBytes()
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

// object calls field for each key of an object (the key bytes are valid until the next
// string is read); field decodes the value.
func (d *docDecoder) object(field func(key []byte) bool) bool {
	if !d.eat('{') {
		return false
	}
	if d.eat('}') {
		return true
	}
	for {
		k, ok := d.strBytes()
		if !ok || !d.eat(':') || !field(k) {
			return false
		}
		if d.eat(',') {
			continue
		}
		return d.eat('}')
	}
}

// array calls elem for each element of an array.
func (d *docDecoder) array(elem func() bool) bool {
	if !d.eat('[') {
		return false
	}
	if d.eat(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.eat(',') {
			continue
		}
		return d.eat(']')
	}
}

// once records that the key with bit was seen and reports whether it was the first time.
func once(seen *uint32, bit uint32) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

func (d *docDecoder) strings(ss *[]string) bool {
	if d.null() {
		*ss = nil
		return true
	}
	out := []string{}
	ok := d.array(func() bool {
		s, ok := d.str()
		out = append(out, s)
		return ok
	})
	*ss = out
	return ok
}

// anyMap decodes a map[string]any field (null leaves it nil).
func (d *docDecoder) anyMap(m *map[string]any) bool {
	if d.null() {
		*m = nil
		return true
	}
	v, ok := d.objectValue()
	*m = v
	return ok
}

func (d *docDecoder) objectValue() (map[string]any, bool) {
	if d.depth >= maxDocDepth {
		return nil, false
	}
	d.depth++
	m := map[string]any{}
	ok := d.object(func(k []byte) bool {
		key := string(k)
		v, ok := d.value()
		m[key] = v
		return ok
	})
	d.depth--
	return m, ok
}

// value decodes a free-form value as encoding/json does into an interface{}.
func (d *docDecoder) value() (any, bool) {
	switch d.next() {
	case '{':
		return d.objectValue()
	case '[':
		if d.depth >= maxDocDepth {
			return nil, false
		}
		d.depth++
		a := []any{}
		ok := d.array(func() bool {
			v, ok := d.value()
			a = append(a, v)
			return ok
		})
		d.depth--
		return a, ok
	case '"':
		return d.str()
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	}
	return d.float()
}

func (d *docDecoder) floatMap(m *map[string]float64) bool {
	if d.null() {
		*m = nil
		return true
	}
	out := map[string]float64{}
	*m = out
	return d.object(func(k []byte) bool {
		key := string(k)
		f, ok := d.float()
		out[key] = f
		return ok
	})
}

func (d *docDecoder) ref(r *Ref) bool {
	var seen uint32
	return d.object(func(k []byte) bool {
		return string(k) == "id" && once(&seen, 1) && d.strField(&r.ID)
	})
}

func (d *docDecoder) profile(p *Profile) bool {
	var seen uint32
	return d.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return once(&seen, 1<<0) && d.strField(&p.ID)
		case "ids":
			return once(&seen, 1<<1) && d.strings(&p.IDs)
		case "metadata":
			return once(&seen, 1<<2) && d.profileMetadata(&p.Metadata)
		case "stats":
			return once(&seen, 1<<3) && d.profileStats(&p.Stats)
		case "traits":
			return once(&seen, 1<<4) && d.anyMap(&p.Traits)
		case "data":
			return once(&seen, 1<<5) && d.anyMap(&p.Data)
		case "segments":
			return once(&seen, 1<<6) && d.strings(&p.Segments)
		case "interests":
			return once(&seen, 1<<7) && d.floatMap(&p.Interests)
		case "consents":
			return once(&seen, 1<<8) && d.consents(&p.Consents)
		case "active":
			return once(&seen, 1<<9) && d.boolField(&p.Active)
		case "aux":
			return once(&seen, 1<<10) && d.anyMap(&p.Aux)
		}
		return false
	})
}

func (d *docDecoder) profileMetadata(m *ProfileMetadata) bool {
	var seen uint32
	return d.object(func(k []byte) bool {
		switch string(k) {
		case "time":
			return once(&seen, 1<<0) && d.profileTime(&m.Time)
		case "merged_into":
			return once(&seen, 1<<1) && d.strField(&m.MergedInto)
		case "merges":
			if !once(&seen, 1<<2) {
				return false
			}
			if d.null() {
				return true
			}
			out := []MergeRecord{}
			ok := d.array(func() bool {
				out = append(out, MergeRecord{})
				return d.mergeRecord(&out[len(out)-1])
			})
			m.Merges = out
			return ok
		}
		return false
	})
}

func (d *docDecoder) mergeRecord(r *MergeRecord) bool {
	var seen uint32
	return d.object(func(k []byte) bool {
		switch string(k) {
		case "profile_id":
			return once(&seen, 1<<0) && d.strField(&r.ProfileID)
		case "key":
			return once(&seen, 1<<1) && d.strField(&r.Key)
		case "value":
			return once(&seen, 1<<2) && d.strField(&r.Value)
		case "time":
			return once(&seen, 1<<3) && d.timeField(&r.Time)
		case "by":
			return once(&seen, 1<<4) && d.strField(&r.By)
		}
		return false
	})
}

func (d *docDecoder) profileTime(t *ProfileTime) bool {
	var seen uint32
	return d.object(func(k []byte) bool {
		switch string(k) {
		case "insert":
			return once(&seen, 1<<0) && d.timeField(&t.Insert)
		case "create":
			return once(&seen, 1<<1) && d.timeField(&t.Create)
		case "update":
			return once(&seen, 1<<2) && d.timeField(&t.Update)
		case "visit":
			return once(&seen, 1<<3) && d.visitTime(&t.Visit)
		}
		return false
	})
}

func (d *docDecoder) visitTime(v *VisitTime) bool {
	var seen uint32
	return d.object(func(k []byte) bool {
		switch string(k) {
		case "last":
			return once(&seen, 1<<0) && d.timeField(&v.Last)
		case "current":
			return once(&seen, 1<<1) && d.timeField(&v.Current)
		case "count":
			return once(&seen, 1<<2) && d.int64Field(&v.Count)
		}
		return false
	})
}

func (d *docDecoder) profileStats(s *ProfileStats) bool {
	var seen uint32
	return d.object(func(k []byte) bool {
		switch string(k) {
		case "visits":
			return once(&seen, 1<<0) && d.int64Field(&s.Visits)
		case "views":
			return once(&seen, 1<<1) && d.int64Field(&s.Views)
		case "counters":
			return once(&seen, 1<<2) && d.floatMap(&s.Counters)
		}
		return false
	})
}

func (d *docDecoder) consents(m *map[string]Consent) bool {
	if d.null() {
		*m = nil
		return true
	}
	out := map[string]Consent{}
	*m = out
	return d.object(func(k []byte) bool {
		key := string(k)
		var c Consent
		var seen uint32
		ok := d.object(func(k []byte) bool {
			switch string(k) {
			case "granted":
				return once(&seen, 1<<0) && d.boolField(&c.Granted)
			case "revoke":
				if !once(&seen, 1<<1) {
					return false
				}
				if d.null() {
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
	return d.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return once(&seen, 1<<0) && d.strField(&s.ID)
		case "profile":
			return once(&seen, 1<<1) && d.ref(&s.Profile)
		case "metadata":
			return once(&seen, 1<<2) && d.sessionMetadata(&s.Metadata)
		case "device":
			return once(&seen, 1<<3) && d.device(&s.Device)
		case "os":
			return once(&seen, 1<<4) && d.os(&s.OS)
		case "app":
			return once(&seen, 1<<5) && d.app(&s.App)
		case "utm":
			return once(&seen, 1<<6) && d.utm(&s.UTM)
		case "context":
			return once(&seen, 1<<7) && d.anyMap(&s.Context)
		case "properties":
			return once(&seen, 1<<8) && d.anyMap(&s.Properties)
		}
		return false
	})
}

func (d *docDecoder) sessionMetadata(m *SessionMetadata) bool {
	var seen uint32
	return d.object(func(k []byte) bool {
		switch string(k) {
		case "time":
			var ts uint32
			return once(&seen, 1<<0) && d.object(func(k []byte) bool {
				switch string(k) {
				case "insert":
					return once(&ts, 1<<0) && d.timeField(&m.Time.Insert)
				case "timestamp":
					return once(&ts, 1<<1) && d.timeField(&m.Time.Timestamp)
				case "duration":
					return once(&ts, 1<<2) && d.floatField(&m.Time.Duration)
				}
				return false
			})
		case "status":
			return once(&seen, 1<<1) && d.strField(&m.Status)
		case "channel":
			return once(&seen, 1<<2) && d.strField(&m.Channel)
		}
		return false
	})
}

func (d *docDecoder) device(v *Device) bool {
	var seen uint32
	return d.object(func(k []byte) bool {
		switch string(k) {
		case "name":
			return once(&seen, 1<<0) && d.strField(&v.Name)
		case "brand":
			return once(&seen, 1<<1) && d.strField(&v.Brand)
		case "model":
			return once(&seen, 1<<2) && d.strField(&v.Model)
		case "type":
			return once(&seen, 1<<3) && d.strField(&v.Type)
		case "ip":
			return once(&seen, 1<<4) && d.strField(&v.IP)
		case "resolution":
			return once(&seen, 1<<5) && d.strField(&v.Resolution)
		case "geo":
			if !once(&seen, 1<<6) {
				return false
			}
			if d.null() {
				return true
			}
			g := new(Geo)
			v.Geo = g
			var gs uint32
			return d.object(func(k []byte) bool {
				switch string(k) {
				case "country":
					return once(&gs, 1<<0) && d.strField(&g.Country)
				case "city":
					return once(&gs, 1<<1) && d.strField(&g.City)
				case "latitude":
					return once(&gs, 1<<2) && d.floatField(&g.Latitude)
				case "longitude":
					return once(&gs, 1<<3) && d.floatField(&g.Longitude)
				}
				return false
			})
		}
		return false
	})
}

func (d *docDecoder) os(v *OS) bool {
	var seen uint32
	return d.object(func(k []byte) bool {
		switch string(k) {
		case "name":
			return once(&seen, 1<<0) && d.strField(&v.Name)
		case "version":
			return once(&seen, 1<<1) && d.strField(&v.Version)
		}
		return false
	})
}

func (d *docDecoder) app(v *App) bool {
	var seen uint32
	return d.object(func(k []byte) bool {
		switch string(k) {
		case "type":
			return once(&seen, 1<<0) && d.strField(&v.Type)
		case "name":
			return once(&seen, 1<<1) && d.strField(&v.Name)
		case "version":
			return once(&seen, 1<<2) && d.strField(&v.Version)
		case "language":
			return once(&seen, 1<<3) && d.strField(&v.Language)
		case "bot":
			return once(&seen, 1<<4) && d.boolField(&v.Bot)
		}
		return false
	})
}

func (d *docDecoder) utm(v *UTM) bool {
	var seen uint32
	return d.object(func(k []byte) bool {
		switch string(k) {
		case "source":
			return once(&seen, 1<<0) && d.strField(&v.Source)
		case "medium":
			return once(&seen, 1<<1) && d.strField(&v.Medium)
		case "campaign":
			return once(&seen, 1<<2) && d.strField(&v.Campaign)
		case "term":
			return once(&seen, 1<<3) && d.strField(&v.Term)
		case "content":
			return once(&seen, 1<<4) && d.strField(&v.Content)
		}
		return false
	})
}

func (d *docDecoder) event(e *Event) bool {
	var seen uint32
	return d.object(func(k []byte) bool {
		switch string(k) {
		case "id":
			return once(&seen, 1<<0) && d.strField(&e.ID)
		case "type":
			return once(&seen, 1<<1) && d.strField(&e.Type)
		case "name":
			return once(&seen, 1<<2) && d.strField(&e.Name)
		case "metadata":
			return once(&seen, 1<<3) && d.eventMetadata(&e.Metadata)
		case "source":
			return once(&seen, 1<<4) && d.ref(&e.Source)
		case "session":
			var ss uint32
			return once(&seen, 1<<5) && d.object(func(k []byte) bool {
				switch string(k) {
				case "id":
					return once(&ss, 1<<0) && d.strField(&e.Session.ID)
				case "start":
					return once(&ss, 1<<1) && d.timeField(&e.Session.Start)
				case "duration":
					return once(&ss, 1<<2) && d.floatField(&e.Session.Duration)
				}
				return false
			})
		case "profile":
			return once(&seen, 1<<6) && d.ref(&e.Profile)
		case "properties":
			return once(&seen, 1<<7) && d.anyMap(&e.Properties)
		case "traits":
			return once(&seen, 1<<8) && d.anyMap(&e.Traits)
		case "context":
			return once(&seen, 1<<9) && d.anyMap(&e.Context)
		case "data":
			return once(&seen, 1<<10) && d.anyMap(&e.Data)
		case "hit":
			var hs uint32
			h := &e.Hit
			return once(&seen, 1<<11) && d.object(func(k []byte) bool {
				switch string(k) {
				case "name":
					return once(&hs, 1<<0) && d.strField(&h.Name)
				case "url":
					return once(&hs, 1<<1) && d.strField(&h.URL)
				case "referer":
					return once(&hs, 1<<2) && d.strField(&h.Referer)
				case "query":
					return once(&hs, 1<<3) && d.strField(&h.Query)
				}
				return false
			})
		case "utm":
			return once(&seen, 1<<12) && d.utm(&e.UTM)
		case "tags":
			var ts uint32
			return once(&seen, 1<<13) && d.object(func(k []byte) bool {
				switch string(k) {
				case "values":
					return once(&ts, 1<<0) && d.strings(&e.Tags.Values)
				case "count":
					return once(&ts, 1<<1) && d.intField(&e.Tags.Count)
				}
				return false
			})
		case "device":
			return once(&seen, 1<<14) && d.device(&e.Device)
		case "os":
			return once(&seen, 1<<15) && d.os(&e.OS)
		case "app":
			return once(&seen, 1<<16) && d.app(&e.App)
		case "journey":
			var js uint32
			return once(&seen, 1<<17) && d.object(func(k []byte) bool {
				return string(k) == "state" && once(&js, 1) && d.strField(&e.Journey.State)
			})
		}
		return false
	})
}

func (d *docDecoder) eventMetadata(m *EventMetadata) bool {
	var seen uint32
	return d.object(func(k []byte) bool {
		switch string(k) {
		case "time":
			var ts uint32
			return once(&seen, 1<<0) && d.object(func(k []byte) bool {
				switch string(k) {
				case "insert":
					return once(&ts, 1<<0) && d.timeField(&m.Time.Insert)
				case "create":
					return once(&ts, 1<<1) && d.timeField(&m.Time.Create)
				case "process_time":
					return once(&ts, 1<<2) && d.floatField(&m.Time.ProcessTime)
				}
				return false
			})
		case "ip":
			return once(&seen, 1<<1) && d.strField(&m.IP)
		case "status":
			return once(&seen, 1<<2) && d.strField(&m.Status)
		case "channel":
			return once(&seen, 1<<3) && d.strField(&m.Channel)
		case "processed_by":
			var ps uint32
			return once(&seen, 1<<4) && d.object(func(k []byte) bool {
				switch string(k) {
				case "rules":
					return once(&ps, 1<<0) && d.strings(&m.ProcessedBy.Rules)
				case "flows":
					return once(&ps, 1<<1) && d.strings(&m.ProcessedBy.Flows)
				}
				return false
			})
		}
		return false
	})
}
