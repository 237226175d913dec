package domain

import (
	"reflect"
	"testing"
)

func TestPaths(t *testing.T) {
	doc := map[string]any{"a": "scalar"}
	SetPath(doc, "contact.email.main", "x@example.com")
	SetPath(doc, "a.b", 1) // replaces the scalar with an object
	if v, ok := GetPath(doc, "contact.email.main"); !ok || v != "x@example.com" {
		t.Fatalf("get = %v %v", v, ok)
	}
	if _, ok := GetPath(doc, "contact.email.main.deeper"); ok {
		t.Fatal("found a path through a string")
	}
	if _, ok := GetPath(doc, "nope"); ok {
		t.Fatal("found a missing key")
	}
	DeletePath(doc, "contact.email.main")
	DeletePath(doc, "missing.path")
	want := map[string]any{"a": map[string]any{"b": 1}, "contact": map[string]any{"email": map[string]any{}}}
	if !reflect.DeepEqual(doc, want) {
		t.Fatalf("doc = %v", doc)
	}
	for v, empty := range map[any]bool{"": true, " ": true, "x": false, 0: false, false: false} {
		if IsEmpty(v) != empty {
			t.Errorf("IsEmpty(%v) != %v", v, empty)
		}
	}
	if !IsEmpty(nil) || !IsEmpty([]any{}) || !IsEmpty(map[string]any{}) {
		t.Error("empty collections are not empty")
	}
}

func TestNormalizeEventType(t *testing.T) {
	for in, want := range map[string]string{"Page View": "page-view", " sign-in ": "sign-in", "ORDER   completed": "order-completed"} {
		if got := NormalizeEventType(in); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}
