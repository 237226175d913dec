// Package jsonfast is the scanner under the hand-written JSON decoders of the hot paths
// (the /track body in internal/collector, stored documents in internal/domain). Its
// methods decode one JSON value each, exactly as encoding/json would into the matching Go
// type, and answer false for anything they cannot decode that way (invalid UTF-8,
// surrogate escapes, numbers out of range, nesting deeper than 64, any syntax error); the
// decoders built on it then leave the whole input to encoding/json, so their results never
// differ from encoding/json's (each decoder's equivalence tests and fuzz target check it).
package jsonfast

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Decoder reads JSON from a byte slice.
type Decoder struct {
	b       []byte
	i       int
	depth   int
	scratch []byte // unescaped string bytes, reused
}

// New returns a Decoder reading b.
func New(b []byte) Decoder { return Decoder{b: b} }

// maxDepth bounds the nesting of free-form values a Decoder follows.
const maxDepth = 64

func (d *Decoder) skipSpace() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// Next skips whitespace and returns the next byte (0 at the end).
func (d *Decoder) Next() byte {
	d.skipSpace()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// Eat consumes c if it comes next (after whitespace).
func (d *Decoder) Eat(c byte) bool {
	if d.Next() == c {
		d.i++
		return true
	}
	return false
}

// End reports whether only whitespace is left.
func (d *Decoder) End() bool {
	d.skipSpace()
	return d.i == len(d.b)
}

// Literal consumes s if the input continues with it.
func (d *Decoder) Literal(s string) bool {
	if len(d.b)-d.i >= len(s) && string(d.b[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return true
	}
	return false
}

// Null consumes a null if one comes next.
func (d *Decoder) Null() bool {
	return d.Next() == 'n' && d.Literal("null")
}

// StrBytes reads a string and returns its unescaped bytes: a slice of the input, or of
// d.scratch when it has escapes (valid until the next string is read).
func (d *Decoder) StrBytes() ([]byte, bool) {
	if !d.Eat('"') {
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
func (d *Decoder) escaped(start int) ([]byte, bool) {
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

// Str reads a string.
func (d *Decoder) Str() (string, bool) {
	b, ok := d.StrBytes()
	if !ok {
		return "", false
	}
	return string(b), true
}

// StrField decodes a string field; null would leave it as it is, which the fast
// decoder does not bother with.
func (d *Decoder) StrField(s *string) bool {
	var ok bool
	*s, ok = d.Str()
	return ok
}

// BoolField decodes a bool field.
func (d *Decoder) BoolField(v *bool) bool {
	switch d.Next() {
	case 't':
		*v = true
		return d.Literal("true")
	case 'f':
		*v = false
		return d.Literal("false")
	}
	return false
}

// Number reads a JSON number and returns its text.
func (d *Decoder) Number() ([]byte, bool) {
	d.skipSpace()
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

// Float reads a number as encoding/json reads it into a float64.
func (d *Decoder) Float() (float64, bool) {
	n, ok := d.Number()
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

// FloatField decodes a float64 field.
func (d *Decoder) FloatField(f *float64) bool {
	var ok bool
	*f, ok = d.Float()
	return ok
}

// Int64Field decodes an int64 field; a fraction or exponent declines.
func (d *Decoder) Int64Field(v *int64) bool {
	n, ok := d.Number()
	if !ok {
		return false
	}
	var err error
	*v, err = strconv.ParseInt(string(n), 10, 64)
	return err == nil
}

// IntField decodes an int field.
func (d *Decoder) IntField(v *int) bool {
	var n int64
	if !d.Int64Field(&n) || int64(int(n)) != n {
		return false
	}
	*v = int(n)
	return true
}

// Object calls field for each key of an object (the key bytes are valid until the next
// string is read); field decodes the value.
func (d *Decoder) Object(field func(key []byte) bool) bool {
	if !d.Eat('{') {
		return false
	}
	if d.Eat('}') {
		return true
	}
	for {
		k, ok := d.StrBytes()
		if !ok || !d.Eat(':') || !field(k) {
			return false
		}
		if d.Eat(',') {
			continue
		}
		return d.Eat('}')
	}
}

// Array calls elem for each element of an array.
func (d *Decoder) Array(elem func() bool) bool {
	if !d.Eat('[') {
		return false
	}
	if d.Eat(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.Eat(',') {
			continue
		}
		return d.Eat(']')
	}
}

// Once records that the key with bit was seen and reports whether it was the first time.
func Once(seen *uint32, bit uint32) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// Strings decodes a []string field (null leaves it nil).
func (d *Decoder) Strings(ss *[]string) bool {
	if d.Null() {
		*ss = nil
		return true
	}
	out := []string{}
	ok := d.Array(func() bool {
		s, ok := d.Str()
		out = append(out, s)
		return ok
	})
	*ss = out
	return ok
}

// AnyMap decodes a map[string]any field (null leaves it nil).
func (d *Decoder) AnyMap(m *map[string]any) bool {
	if d.Null() {
		*m = nil
		return true
	}
	v, ok := d.ObjectValue()
	*m = v
	return ok
}

// ObjectValue decodes an object into a new map[string]any.
func (d *Decoder) ObjectValue() (map[string]any, bool) {
	if d.depth >= maxDepth {
		return nil, false
	}
	d.depth++
	m := map[string]any{}
	ok := d.Object(func(k []byte) bool {
		key := string(k)
		v, ok := d.Value()
		m[key] = v
		return ok
	})
	d.depth--
	return m, ok
}

// Value decodes a free-form value as encoding/json does into an interface{}.
func (d *Decoder) Value() (any, bool) {
	switch d.Next() {
	case '{':
		return d.ObjectValue()
	case '[':
		if d.depth >= maxDepth {
			return nil, false
		}
		d.depth++
		a := []any{}
		ok := d.Array(func() bool {
			v, ok := d.Value()
			a = append(a, v)
			return ok
		})
		d.depth--
		return a, ok
	case '"':
		return d.Str()
	case 't':
		return true, d.Literal("true")
	case 'f':
		return false, d.Literal("false")
	case 'n':
		return nil, d.Literal("null")
	}
	return d.Float()
}

// FloatMap decodes a map[string]float64 field (null leaves it nil).
func (d *Decoder) FloatMap(m *map[string]float64) bool {
	if d.Null() {
		*m = nil
		return true
	}
	out := map[string]float64{}
	*m = out
	return d.Object(func(k []byte) bool {
		key := string(k)
		f, ok := d.Float()
		out[key] = f
		return ok
	})
}
