package domain

import "testing"

func TestEntityKindsAreDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range EntityKinds() {
		if k == "" || seen[k] {
			t.Fatalf("entity kind %q is empty or listed twice", k)
		}
		seen[k] = true
		if !ValidEntityKind(k) {
			t.Errorf("ValidEntityKind(%q) = false", k)
		}
	}
	if ValidEntityKind("profile") || ValidEntityKind("") {
		t.Error("ValidEntityKind accepts a kind that is not an entity kind")
	}
}

func TestValidKeyPath(t *testing.T) {
	for path, want := range map[string]bool{
		"data.contact.email.main": true, "traits.customer_id": true, "a": true, "ids2": true,
		"": false, ".a": false, "a.": false, "a..b": false, "Data.x": false, "a-b": false,
		"a b": false, "a.é": false,
	} {
		if got := ValidKeyPath(path); got != want {
			t.Errorf("ValidKeyPath(%q) = %v, want %v", path, got, want)
		}
	}
}
