package collector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/thamesthrive/thamesthrive/internal/domain"
)

// The fields of a /track body, as a tree the slow decode path walks to name unknown
// fields (answered as warnings) and to word type errors with the exact field and index
// (events[2].time.create), which encoding/json's errors do not carry. The fast decoder
// (fastdecode.go) refuses any body with a key it does not know, so bodies without
// unknown fields never come here unless they hold event times or nulls.

type fieldKind uint8

const (
	kObject  fieldKind = iota // an object of known fields
	kMap                      // any JSON object (free-form data)
	kString                   // a string
	kBool                     // a boolean
	kArray                    // an array of elem
	kStrings                  // an array of strings
	kTime                     // an RFC 3339 time (domain.Time)
)

type fieldSpec struct {
	kind   fieldKind
	fields map[string]*fieldSpec
	elem   *fieldSpec
}

var (
	idRefSpec = &fieldSpec{kind: kObject, fields: map[string]*fieldSpec{"id": {kind: kString}}}
	mapSpec   = &fieldSpec{kind: kMap}
	boolSpec  = &fieldSpec{kind: kBool}
	eventSpec = &fieldSpec{kind: kObject, fields: map[string]*fieldSpec{
		"id": {kind: kString}, "type": {kind: kString}, "name": {kind: kString},
		"properties": mapSpec, "context": mapSpec, "traits": mapSpec,
		"options": {kind: kObject, fields: map[string]*fieldSpec{"save": boolSpec}},
		"tags":    {kind: kStrings},
		"time":    {kind: kObject, fields: map[string]*fieldSpec{"create": {kind: kTime}}},
	}}
	trackSpec = &fieldSpec{kind: kObject, fields: map[string]*fieldSpec{
		"source": idRefSpec, "session": idRefSpec, "profile": idRefSpec,
		"context": mapSpec, "properties": mapSpec,
		"options":      {kind: kObject, fields: map[string]*fieldSpec{"saveSession": boolSpec, "saveEvents": boolSpec}},
		"events":       {kind: kArray, elem: eventSpec},
		"profile_less": boolSpec,
	}}
)

// lookup finds the field named key as encoding/json does: the exact name, else a
// case-insensitive match.
func (s *fieldSpec) lookup(key string) *fieldSpec {
	if f, ok := s.fields[key]; ok {
		return f
	}
	for name, f := range s.fields {
		if strings.EqualFold(name, key) {
			return f
		}
	}
	return nil
}

// checkFields walks body (valid JSON, already shape-checked) against spec. It answers
// the unknown fields by path, in body order, and the first value of a wrong type as a
// 400 naming its path. A body it cannot walk (not JSON) is left to encoding/json.
func checkFields(body []byte, spec *fieldSpec) (unknown []string, err error) {
	w := fieldWalker{}
	if err := w.walk(json.RawMessage(bytes.TrimSpace(body)), spec, ""); err != nil {
		return nil, err
	}
	return w.unknown, nil
}

type fieldWalker struct{ unknown []string }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindOf(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func (w *fieldWalker) walk(raw json.RawMessage, s *fieldSpec, path string) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] == 'n' { // null: every field may be null (it stays unset)
		return nil
	}
	field := path
	if field == "" {
		field = "body"
	}
	want := func(what string) error {
		return badRequest(field, fmt.Sprintf("must be %s, not %s", what, kindOf(raw)))
	}
	switch s.kind {
	case kString:
		if raw[0] != '"' {
			return want("a string")
		}
	case kBool:
		if raw[0] != 't' && raw[0] != 'f' {
			return want("a boolean")
		}
	case kMap:
		if raw[0] != '{' {
			return want("an object")
		}
	case kTime:
		if raw[0] != '"' {
			return want("an RFC 3339 time string")
		}
		var t domain.Time
		if err := t.UnmarshalJSON(raw); err != nil {
			return badRequest(field, err.Error())
		}
	case kStrings:
		if raw[0] != '[' {
			return want("an array of strings")
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil // left to encoding/json
		}
		for i, it := range items {
			if it = bytes.TrimSpace(it); len(it) > 0 && it[0] != '"' && it[0] != 'n' {
				return badRequest(fmt.Sprintf("%s[%d]", field, i), "must be a string, not "+kindOf(it))
			}
		}
	case kArray:
		if raw[0] != '[' {
			return want("an array")
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil
		}
		for i, it := range items {
			if err := w.walk(it, s.elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case kObject:
		if raw[0] != '{' {
			return want("an object")
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		if _, err := dec.Token(); err != nil { // {
			return nil
		}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil
			}
			key, _ := tok.(string)
			var val json.RawMessage
			if err := dec.Decode(&val); err != nil {
				return nil
			}
			f := s.lookup(key)
			if f == nil {
				w.unknown = append(w.unknown, join(path, key))
				continue
			}
			if err := w.walk(val, f, join(path, key)); err != nil {
				return err
			}
		}
	}
	return nil
}

// unknownWarning words the answer's warning for an unknown field.
func unknownWarning(path string) string {
	return fmt.Sprintf("field %s is not known to the collector and was ignored", path)
}
