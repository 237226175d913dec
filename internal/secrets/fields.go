package secrets

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
)

// Tag is the struct tag that marks a field as a secret: `secret:"true"`. It applies to
// fields of type string, *string, []string and map[string]string (every value of the
// map is then a secret), at any depth of structs, pointers, slices and maps.
const Tag = "secret"

// FieldError is a secret field that cannot be stored as sent.
type FieldError struct {
	Field string // JSON path, e.g. "smtp.password" or "headers[1].value"
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

var errNoBox = errors.New("secrets: no SECRETS_KEY configured to seal secrets with")

var hasCache sync.Map // reflect.Type → bool

// HasSecrets reports whether values of t hold any field tagged secret.
func HasSecrets(t reflect.Type) bool {
	return hasSecrets(t, map[reflect.Type]bool{})
}

func hasSecrets(t reflect.Type, seen map[reflect.Type]bool) bool {
	if v, ok := hasCache.Load(t); ok {
		return v.(bool)
	}
	if seen[t] {
		return false // recursive type: decided by the outer call
	}
	seen[t] = true
	found := false
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		found = hasSecrets(t.Elem(), seen)
	case reflect.Map:
		found = t.Key().Kind() == reflect.String && hasSecrets(t.Elem(), seen)
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if isSecret(f) || hasSecrets(f.Type, seen) {
				found = true
				break
			}
		}
	}
	hasCache.Store(t, found)
	return found
}

func isSecret(f reflect.StructField) bool {
	if f.Tag.Get(Tag) != "true" {
		return false
	}
	t := f.Type
	switch {
	case t.Kind() == reflect.String:
	case t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.String:
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.String:
	default:
		panic(fmt.Sprintf("secrets: field %s of type %s is tagged secret; only string, *string, []string and map[string]string can be", f.Name, t))
	}
	return true
}

// visitor is called for every secret string: cur is settable, old is the value at the
// same place in the previous version (invalid when there is none).
type visitor func(path string, cur, old reflect.Value) error

func walk(v, old any, fn visitor) error {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() || !HasSecrets(rv.Type()) {
		return nil
	}
	ov := reflect.ValueOf(old)
	if ov.IsValid() && (ov.Kind() != reflect.Pointer || ov.IsNil() || ov.Type() != rv.Type()) {
		ov = reflect.Value{}
	}
	return walkValue("", rv, ov, false, fn)
}

func child(v reflect.Value, f func(reflect.Value) reflect.Value) reflect.Value {
	if !v.IsValid() {
		return v
	}
	return f(v)
}

func walkValue(path string, v, old reflect.Value, secret bool, fn visitor) error {
	if !secret && !HasSecrets(v.Type()) {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		if old.IsValid() && old.IsNil() {
			old = reflect.Value{}
		}
		return walkValue(path, v.Elem(), child(old, reflect.Value.Elem), secret, fn)
	case reflect.String:
		if secret {
			return fn(path, v, old)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			sub := path
			if name := jsonName(f); name != "" {
				sub = join(path, name)
			}
			of := child(old, func(o reflect.Value) reflect.Value { return o.Field(i) })
			if err := walkValue(sub, v.Field(i), of, isSecret(f), fn); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			var oi reflect.Value
			if old.IsValid() && i < old.Len() {
				oi = old.Index(i)
			}
			if err := walkValue(fmt.Sprintf("%s[%d]", path, i), v.Index(i), oi, secret, fn); err != nil {
				return err
			}
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return nil
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			// Map values are not addressable: work on a copy and put it back.
			cp := reflect.New(v.Type().Elem()).Elem()
			cp.Set(v.MapIndex(k))
			var ok reflect.Value
			if old.IsValid() && !old.IsNil() {
				if o := old.MapIndex(k); o.IsValid() {
					ok = o
				}
			}
			if err := walkValue(join(path, k.String()), cp, ok, secret, fn); err != nil {
				return err
			}
			v.SetMapIndex(k, cp)
		}
	}
	return nil
}

func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" && tag == "-" {
		return f.Name
	}
	if name != "" {
		return name
	}
	if f.Anonymous && f.Type.Kind() == reflect.Struct {
		return "" // embedded: its fields are flattened into the parent
	}
	return f.Name
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// SealFields encrypts, in place, every secret field of v (a pointer to a struct) that
// holds a plain value. A field that holds Mask keeps what old (the stored version, or
// nil on create) holds at the same place; a field equal to the stored sealed value is
// left alone, so loading, changing other fields and storing again seals nothing twice.
// Anything else is treated as plain text and sealed, whatever it looks like.
func (b *Box) SealFields(v, old any) error {
	return walk(v, old, func(path string, cur, prev reflect.Value) error {
		s := cur.String()
		var stored string
		if prev.IsValid() {
			stored = prev.String()
		}
		switch {
		case s == "":
			return nil
		case s == Mask:
			if stored == "" {
				return &FieldError{Field: path, Msg: "holds the placeholder " + Mask + " but no secret is stored; send the secret itself"}
			}
			s = stored
			if IsSealed(s) {
				cur.SetString(s)
				return nil
			}
		case s == stored && IsSealed(s):
			return nil
		}
		if b == nil {
			return errNoBox
		}
		sealed, err := b.Seal(s)
		if err != nil {
			return err
		}
		cur.SetString(sealed)
		return nil
	})
}

// MaskFields replaces, in place, every secret field of v that is set with Mask, for
// answers. Secrets are never sent back to API clients.
func MaskFields(v any) {
	walk(v, nil, func(_ string, cur, _ reflect.Value) error {
		if cur.String() != "" {
			cur.SetString(Mask)
		}
		return nil
	})
}

// OpenFields decrypts, in place, every sealed secret field of v, for the code that uses
// the secrets (sending an e-mail, calling a destination). Never answer the result.
func (b *Box) OpenFields(v any) error {
	return walk(v, nil, func(path string, cur, _ reflect.Value) error {
		s := cur.String()
		if !IsSealed(s) {
			return nil
		}
		if b == nil {
			return errNoBox
		}
		plain, err := b.Open(s)
		if err != nil {
			return fmt.Errorf("opening %s: %w", path, err)
		}
		cur.SetString(plain)
		return nil
	})
}
