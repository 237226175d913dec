package secrets

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func testBox(t *testing.T) *Box {
	t.Helper()
	b, err := New(GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpenRoundTrip(t *testing.T) {
	b := testBox(t)
	for _, plain := range []string{"", "x", "p@ss wörd", strings.Repeat("k", 5000), Mask, prefix + "looks sealed"} {
		sealed, err := b.Seal(plain)
		if err != nil {
			t.Fatal(err)
		}
		// A short plaintext can occur in random base64 by chance; only long ones are
		// checked for leaking.
		if plain != "" && (!IsSealed(sealed) || len(plain) >= 8 && strings.Contains(sealed, plain)) {
			t.Fatalf("Seal(%q) = %q", plain, sealed)
		}
		got, err := b.Open(sealed)
		if err != nil || got != plain {
			t.Fatalf("Open(Seal(%q)) = %q, %v", plain, got, err)
		}
	}
	a, _ := b.Seal("same")
	c, _ := b.Seal("same")
	if a == c {
		t.Fatal("two seals of one value are equal: the nonce is not random")
	}
}

func TestOpenRefusesTamperingAndOtherKeys(t *testing.T) {
	b, other := testBox(t), testBox(t)
	sealed, _ := b.Seal("api-key")
	raw := []byte(sealed)
	raw[len(raw)-2] ^= 1
	for name, s := range map[string]string{
		"tampered":  string(raw),
		"other key": func() string { s, _ := other.Seal("api-key"); return s }(),
		"plain":     "api-key",
		"truncated": sealed[:len(prefix)+10],
	} {
		if _, err := b.Open(s); !errors.Is(err, ErrSealed) {
			t.Errorf("%s: Open = %v, want ErrSealed", name, err)
		}
	}
}

func TestParseKey(t *testing.T) {
	key := GenerateKey()
	for _, s := range []string{hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key),
		base64.RawURLEncoding.EncodeToString(key), " " + hex.EncodeToString(key) + "\n"} {
		got, err := ParseKey(s)
		if err != nil || string(got) != string(key) {
			t.Errorf("ParseKey(%q) = %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "short", hex.EncodeToString(key[:16]), base64.StdEncoding.EncodeToString(append(key, 1))} {
		if _, err := ParseKey(s); !errors.Is(err, ErrKey) {
			t.Errorf("ParseKey(%q) = %v, want ErrKey", s, err)
		}
	}
	if _, err := New(key[:31]); !errors.Is(err, ErrKey) {
		t.Errorf("New(31 bytes) = %v", err)
	}
}

func TestKeyFileIsCreatedOnceAndPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "secrets.key")
	k1, created, err := LoadOrCreateKeyFile(path)
	if err != nil || !created || len(k1) != KeySize {
		t.Fatalf("create: %x %v %v", k1, created, err)
	}
	k2, created, err := LoadOrCreateKeyFile(path)
	if err != nil || created || string(k1) != string(k2) {
		t.Fatalf("reload: %x %v %v", k2, created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v %v", fi.Mode(), err)
	}
	os.WriteFile(path, []byte("garbage"), 0o600)
	if _, _, err := LoadOrCreateKeyFile(path); !errors.Is(err, ErrKey) {
		t.Fatalf("corrupt key file: %v", err)
	}
}

type header struct {
	Name  string `json:"name"`
	Value string `json:"value" secret:"true"`
}

type smtp struct {
	Host     string  `json:"host"`
	Password string  `json:"password" secret:"true"`
	Token    *string `json:"token,omitempty" secret:"true"`
}

type base struct {
	ID string `json:"id"`
}

type destination struct {
	base
	Name    string            `json:"name"`
	APIKey  string            `json:"api_key" secret:"true"`
	SMTP    *smtp             `json:"smtp"`
	Headers []header          `json:"headers"`
	Env     map[string]string `json:"env" secret:"true"`
	Keys    []string          `json:"keys" secret:"true"`
	ByName  map[string]smtp   `json:"by_name"`
	Plain   map[string]string `json:"plain"`
}

func TestHasSecrets(t *testing.T) {
	if !HasSecrets(reflectTypeOf(&destination{})) || !HasSecrets(reflectTypeOf([]header{})) {
		t.Fatal("secret fields not found")
	}
	if HasSecrets(reflectTypeOf(&base{})) || HasSecrets(reflectTypeOf("")) {
		t.Fatal("secret fields found where there are none")
	}
}

func TestFieldsSealMaskOpen(t *testing.T) {
	b := testBox(t)
	tok := "smtp-token"
	d := &destination{
		base: base{ID: "d"}, Name: "n", APIKey: "key-1",
		SMTP:    &smtp{Host: "mail", Password: "pw", Token: &tok},
		Headers: []header{{Name: "Authorization", Value: "Bearer abc"}, {Name: "X-Empty"}},
		Env:     map[string]string{"A": "1", "B": ""},
		Keys:    []string{"k1", "k2"},
		ByName:  map[string]smtp{"x": {Host: "h", Password: "pw-x"}},
		Plain:   map[string]string{"visible": "yes"},
	}
	if err := b.SealFields(d, nil); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{"api_key": d.APIKey, "smtp.password": d.SMTP.Password, "smtp.token": *d.SMTP.Token,
		"headers[0].value": d.Headers[0].Value, "env.A": d.Env["A"], "keys[1]": d.Keys[1], "by_name.x.password": d.ByName["x"].Password} {
		if !IsSealed(s) {
			t.Errorf("%s not sealed: %q", name, s)
		}
	}
	if d.Name != "n" || d.SMTP.Host != "mail" || d.Headers[1].Value != "" || d.Env["B"] != "" || d.Plain["visible"] != "yes" || d.ID != "d" {
		t.Fatalf("non-secret or empty fields changed: %+v", d)
	}
	stored := *d
	storedKey := d.APIKey

	// Sealing the stored value again changes nothing.
	if err := b.SealFields(d, &stored); err != nil || d.APIKey != storedKey {
		t.Fatalf("resealed: %q %v", d.APIKey, err)
	}

	// An update that sends the mask back keeps the stored secret; a new value is sealed.
	upd := &destination{APIKey: Mask, SMTP: &smtp{Password: "new-pw"}, Headers: []header{{Value: Mask}}}
	if err := b.SealFields(upd, &stored); err != nil {
		t.Fatal(err)
	}
	if upd.APIKey != storedKey || upd.Headers[0].Value != stored.Headers[0].Value {
		t.Fatalf("mask did not keep the stored secret: %+v", upd)
	}
	if plain, _ := b.Open(upd.SMTP.Password); plain != "new-pw" {
		t.Fatalf("new secret: %q", plain)
	}

	// A mask with nothing stored is an error naming the field.
	var fe *FieldError
	if err := b.SealFields(&destination{Headers: []header{{}, {Value: Mask}}}, &stored); !errors.As(err, &fe) || fe.Field != "headers[1].value" {
		t.Fatalf("mask without a stored secret: %v", err)
	}

	// Opening gives the plain values back.
	open := stored
	open.Headers = append([]header(nil), stored.Headers...)
	open.SMTP = &smtp{Host: stored.SMTP.Host, Password: stored.SMTP.Password, Token: stored.SMTP.Token}
	if err := b.OpenFields(&open); err != nil {
		t.Fatal(err)
	}
	if open.APIKey != "key-1" || open.SMTP.Password != "pw" || open.Headers[0].Value != "Bearer abc" {
		t.Fatalf("opened: %+v", open)
	}

	// Masking hides every set secret and leaves unset ones empty.
	MaskFields(d)
	if d.APIKey != Mask || d.SMTP.Password != Mask || *d.SMTP.Token != Mask || d.Headers[0].Value != Mask || d.Headers[1].Value != "" ||
		d.Env["A"] != Mask || d.Env["B"] != "" || d.Keys[0] != Mask || d.ByName["x"].Password != Mask || d.Plain["visible"] != "yes" {
		t.Fatalf("masked: %+v", d)
	}
}

func TestNilBoxRefusesToStoreSecrets(t *testing.T) {
	var b *Box
	if err := b.SealFields(&destination{}, nil); err != nil {
		t.Fatalf("nothing to seal: %v", err)
	}
	if err := b.SealFields(&destination{APIKey: "x"}, nil); err == nil {
		t.Fatal("a nil box stored a secret in plain text")
	}
	if err := b.SealFields(&base{ID: "x"}, nil); err != nil {
		t.Fatalf("type without secrets: %v", err)
	}
}

func TestBadTagPanics(t *testing.T) {
	type bad struct {
		N int `secret:"true"`
	}
	defer func() {
		if recover() == nil {
			t.Fatal("an int tagged secret was accepted")
		}
	}()
	HasSecrets(reflectTypeOf(bad{}))
}

func reflectTypeOf(v any) reflect.Type { return reflect.TypeOf(v) }
