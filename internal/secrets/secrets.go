// Package secrets keeps the secrets that users give to configuration resources (SMTP
// passwords, API keys of destinations) encrypted at rest and out of API answers.
//
// A Box seals strings with AES-256-GCM under a 32-byte key (SECRETS_KEY). Struct
// fields tagged `secret:"true"` are handled generically: SealFields encrypts them
// before an entity is stored, MaskFields replaces them with Mask before an entity is
// answered, OpenFields decrypts them for the code that actually uses the secret.
// Standard library only.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// Mask is what API answers show in place of a secret that is set. Sending it back
// unchanged in an update keeps the stored secret.
const Mask = "********"

// prefix marks a sealed value: "ttsec:v1:<key id>:<base64(nonce|ciphertext)>". The
// key id lets a later key rotation tell which key sealed a value.
const prefix = "ttsec:v1:"

// Errors of this package.
var (
	ErrKey    = errors.New("secrets key must be 32 bytes, written as 64 hex digits or in base64")
	ErrSealed = errors.New("sealed secret cannot be opened")
)

// Box seals and opens secrets with one key.
type Box struct {
	kid  string
	aead cipher.AEAD
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w (got %d bytes)", ErrKey, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(key)
	return &Box{kid: hex.EncodeToString(sum[:4]), aead: aead}, nil
}

// ParseKey reads a key written as 64 hex digits or as base64 (standard or URL
// alphabet, padded or not) of 32 bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("%w (got %d bytes)", ErrKey, len(b))
			}
			return b, nil
		}
	}
	return nil, ErrKey
}

// GenerateKey returns a new random key.
func GenerateKey() []byte {
	k := make([]byte, KeySize)
	rand.Read(k)
	return k
}

// LoadOrCreateKeyFile reads the key kept in path (hex), creating the file with a new
// random key, readable by the owner only, when it does not exist. created reports
// whether it did.
func LoadOrCreateKeyFile(path string) (key []byte, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := ParseKey(string(b))
		if err != nil {
			return nil, false, fmt.Errorf("reading key file %s: %w", path, err)
		}
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("reading key file: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("creating key file: %w", err)
	}
	key = GenerateKey()
	// O_EXCL: when two processes race on a new data directory, one key wins and the
	// other process reads it.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateKeyFile(path)
	}
	if err != nil {
		return nil, false, fmt.Errorf("creating key file: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("writing key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("writing key file: %w", err)
	}
	return key, true, f.Close()
}

// IsSealed reports whether s looks like a value made by Seal.
func IsSealed(s string) bool { return strings.HasPrefix(s, prefix) }

// Seal encrypts plain. The empty string stays empty (an unset secret).
func (b *Box) Seal(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("sealing secret: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, []byte(plain), []byte(b.kid))
	return prefix + b.kid + ":" + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a value made by Seal. The empty string opens to itself.
func (b *Box) Open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	rest, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return "", fmt.Errorf("%w: not a sealed value", ErrSealed)
	}
	kid, data, ok := strings.Cut(rest, ":")
	if !ok {
		return "", fmt.Errorf("%w: malformed", ErrSealed)
	}
	if kid != b.kid {
		return "", fmt.Errorf("%w: sealed with another key (id %s; this key is %s)", ErrSealed, kid, b.kid)
	}
	raw, err := base64.RawStdEncoding.DecodeString(data)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return "", fmt.Errorf("%w: malformed", ErrSealed)
	}
	ns := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:ns], raw[ns:], []byte(kid))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrSealed, err)
	}
	return string(plain), nil
}
