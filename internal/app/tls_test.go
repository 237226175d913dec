package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writePair(t *testing.T, serial int64, certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
}

func serial(t *testing.T, cfg *tls.Config) int64 {
	t.Helper()
	c, err := cfg.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	x, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return x.SerialNumber.Int64()
}

func TestTLSConfigReloadsChangedFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	writePair(t, 1, certFile, keyFile)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg, err := newTLSConfig(ctx, certFile, keyFile, 20*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 || cfg.NextProtos[0] != "h2" || serial(t, cfg) != 1 {
		t.Fatalf("config %+v serial %d", cfg, serial(t, cfg))
	}
	writePair(t, 2, certFile, keyFile)
	deadline := time.Now().Add(5 * time.Second)
	for serial(t, cfg) != 2 {
		if time.Now().After(deadline) {
			t.Fatal("changed files not reloaded")
		}
		time.Sleep(10 * time.Millisecond)
	}
	os.WriteFile(keyFile, []byte("half-written"), 0o600)
	time.Sleep(100 * time.Millisecond)
	if serial(t, cfg) != 2 {
		t.Fatal("a broken pair replaced the working certificate")
	}
}

func TestTLSConfigRefusesBadPair(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(certFile, []byte("x"), 0o600)
	os.WriteFile(keyFile, []byte("y"), 0o600)
	_, err := newTLSConfig(context.Background(), certFile, keyFile, 0, slog.Default())
	if err == nil || !strings.Contains(err.Error(), "TLS_CERT_FILE") {
		t.Fatalf("err = %v", err)
	}
	if _, err := newTLSConfig(context.Background(), filepath.Join(dir, "missing"), keyFile, 0, slog.Default()); err == nil {
		t.Fatal("missing file accepted")
	}
}
