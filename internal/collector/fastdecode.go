package collector

import "strconv"

// decodeTrackFast decodes the usual shape of a /track body without reflection. It
// answers false for anything it does not decode exactly as encoding/json would: escapes
// or control characters in strings, null for a typed field, unknown or repeated keys
// (encoding/json matches keys case-insensitively and merges repeated objects), event
// times, numbers out of range, and any syntax error. DecodeTrack then decodes the body
// with encoding/json, which also words the errors, so the answer is the same either way
// (TestDecodeTrackFastMatchesEncodingJSON compares them on many bodies).
func decodeTrackFast(body []byte, req *TrackRequest) bool {
	d := fastDecoder{b: body}
	if !d.trackRequest(req) {
		return false
	}
	d.ws()
	return d.i == len(d.b)
}

type fastDecoder struct {
	b []byte
	i int
}

func (d *fastDecoder) ws() {
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
func (d *fastDecoder) next() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *fastDecoder) eat(c byte) bool {
	if d.next() == c {
		d.i++
		return true
	}
	return false
}

func (d *fastDecoder) str() (string, bool) {
	if !d.eat('"') {
		return "", false
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := string(d.b[start:d.i])
			d.i++
			return s, true
		case c == '\\' || c < 0x20:
			return "", false
		}
		d.i++
	}
	return "", false
}

// object calls field for each key of an object; field decodes the value.
func (d *fastDecoder) object(field func(key string) bool) bool {
	if !d.eat('{') {
		return false
	}
	if d.eat('}') {
		return true
	}
	for {
		k, ok := d.str()
		if !ok || !d.eat(':') || !field(k) {
			return false
		}
		if d.eat(',') {
			continue
		}
		return d.eat('}')
	}
}

func (d *fastDecoder) idRef(r *IDRef) bool {
	seen := false
	return d.object(func(k string) bool {
		if k != "id" || seen {
			return false
		}
		seen = true
		var ok bool
		r.ID, ok = d.str()
		return ok
	})
}

func (d *fastDecoder) boolPtr() (*bool, bool) {
	switch d.next() {
	case 't':
		if d.literal("true") {
			v := true
			return &v, true
		}
	case 'f':
		if d.literal("false") {
			v := false
			return &v, true
		}
	}
	return nil, false
}

func (d *fastDecoder) literal(s string) bool {
	if len(d.b)-d.i >= len(s) && string(d.b[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return true
	}
	return false
}

// once returns a key filter that refuses a key it has seen (repeated keys are left to
// encoding/json).
func once() func(k string) bool {
	seen := map[string]bool{}
	return func(k string) bool {
		if seen[k] {
			return false
		}
		seen[k] = true
		return true
	}
}

func (d *fastDecoder) trackRequest(r *TrackRequest) bool {
	first := once()
	return d.object(func(k string) bool {
		if !first(k) {
			return false
		}
		var ok bool
		switch k {
		case "source":
			return d.idRef(&r.Source)
		case "session":
			r.Session = new(IDRef)
			return d.idRef(r.Session)
		case "profile":
			r.Profile = new(IDRef)
			return d.idRef(r.Profile)
		case "context":
			r.Context, ok = d.mapValue()
			return ok
		case "properties":
			r.Properties, ok = d.mapValue()
			return ok
		case "options":
			opt := once()
			return d.object(func(k string) bool {
				if !opt(k) {
					return false
				}
				switch k {
				case "saveSession":
					r.Options.SaveSession, ok = d.boolPtr()
				case "saveEvents":
					r.Options.SaveEvents, ok = d.boolPtr()
				default:
					return false
				}
				return ok
			})
		case "events":
			if !d.eat('[') {
				return false
			}
			r.Events = []TrackEvent{}
			if d.eat(']') {
				return true
			}
			for {
				r.Events = append(r.Events, TrackEvent{})
				if !d.event(&r.Events[len(r.Events)-1]) {
					return false
				}
				if d.eat(',') {
					continue
				}
				return d.eat(']')
			}
		}
		return false
	})
}

func (d *fastDecoder) event(e *TrackEvent) bool {
	first := once()
	return d.object(func(k string) bool {
		if !first(k) {
			return false
		}
		var ok bool
		switch k {
		case "id":
			e.ID, ok = d.str()
		case "type":
			e.Type, ok = d.str()
		case "name":
			e.Name, ok = d.str()
		case "properties":
			e.Properties, ok = d.mapValue()
		case "context":
			e.Context, ok = d.mapValue()
		case "traits":
			e.Traits, ok = d.mapValue()
		case "options":
			seen := false
			ok = d.object(func(k string) bool {
				if k != "save" || seen {
					return false
				}
				seen = true
				var ok bool
				e.Options.Save, ok = d.boolPtr()
				return ok
			})
		case "tags":
			if !d.eat('[') {
				return false
			}
			e.Tags = []string{}
			if d.eat(']') {
				return true
			}
			for {
				s, ok := d.str()
				if !ok {
					return false
				}
				e.Tags = append(e.Tags, s)
				if d.eat(',') {
					continue
				}
				return d.eat(']')
			}
		}
		return ok
	})
}

// mapValue decodes an object into a new map, as encoding/json does into a nil
// map[string]any field.
func (d *fastDecoder) mapValue() (map[string]any, bool) {
	if d.next() != '{' {
		return nil, false
	}
	m := map[string]any{}
	ok := d.object(func(k string) bool {
		v, ok := d.value()
		m[k] = v // a repeated key: the last wins, as with encoding/json into a map
		return ok
	})
	return m, ok
}

// value decodes any JSON value as encoding/json does into an interface{}.
func (d *fastDecoder) value() (any, bool) {
	switch c := d.next(); {
	case c == '{':
		return d.mapValue()
	case c == '[':
		d.i++
		a := []any{}
		if d.eat(']') {
			return a, true
		}
		for {
			v, ok := d.value()
			if !ok {
				return nil, false
			}
			a = append(a, v)
			if d.eat(',') {
				continue
			}
			return a, d.eat(']')
		}
	case c == '"':
		return d.str()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return nil, false
}

// number scans a number by the JSON grammar and converts it as encoding/json does
// (float64; out of range is left to encoding/json's error).
func (d *fastDecoder) number() (any, bool) {
	start := d.i
	b := d.b
	digits := func() bool {
		n := d.i
		for d.i < len(b) && b[d.i] >= '0' && b[d.i] <= '9' {
			d.i++
		}
		return d.i > n
	}
	if d.i < len(b) && b[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(b) && b[d.i] == '0':
		d.i++
	case !digits():
		return nil, false
	}
	if d.i < len(b) && b[d.i] == '.' {
		d.i++
		if !digits() {
			return nil, false
		}
	}
	if d.i < len(b) && (b[d.i] == 'e' || b[d.i] == 'E') {
		d.i++
		if d.i < len(b) && (b[d.i] == '+' || b[d.i] == '-') {
			d.i++
		}
		if !digits() {
			return nil, false
		}
	}
	f, err := strconv.ParseFloat(string(b[start:d.i]), 64)
	if err != nil {
		return nil, false
	}
	return f, true
}
