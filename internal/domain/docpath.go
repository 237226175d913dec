package domain

import "strings"

// GetPath returns the value at a dotted path in a JSON-like document.
func GetPath(doc map[string]any, path string) (any, bool) {
	var cur any = doc
	for path != "" {
		key, rest, _ := strings.Cut(path, ".")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[key]; !ok {
			return nil, false
		}
		path = rest
	}
	return cur, true
}

// SetPath stores v at a dotted path, creating (or replacing non-object) intermediate
// objects on the way.
func SetPath(doc map[string]any, path string, v any) {
	for {
		key, rest, more := strings.Cut(path, ".")
		if !more {
			doc[key] = v
			return
		}
		next, ok := doc[key].(map[string]any)
		if !ok {
			next = map[string]any{}
			doc[key] = next
		}
		doc, path = next, rest
	}
}

// DeletePath removes the value at a dotted path, if present.
func DeletePath(doc map[string]any, path string) {
	for {
		key, rest, more := strings.Cut(path, ".")
		if !more {
			delete(doc, key)
			return
		}
		next, ok := doc[key].(map[string]any)
		if !ok {
			return
		}
		doc, path = next, rest
	}
}

// IsEmpty reports whether v carries no information: nil, "", an empty array or object.
func IsEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// MergeNonEmpty sets dst[key] = v, descending into objects so that a partial update
// keeps sibling values, and skipping empty values so that they never erase data.
func MergeNonEmpty(dst map[string]any, key string, v any) {
	if IsEmpty(v) {
		return
	}
	src, ok := v.(map[string]any)
	if !ok {
		dst[key] = v
		return
	}
	sub, ok := dst[key].(map[string]any)
	if !ok {
		sub = map[string]any{}
		dst[key] = sub
	}
	for k, x := range src {
		MergeNonEmpty(sub, k, x)
	}
}
