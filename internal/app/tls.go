package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// certReloader serves the certificate of TLS_CERT_FILE and TLS_KEY_FILE and reads the
// files again when they change (checked every interval) or on SIGHUP, so renewed
// certificates take effect without a restart. A pair that fails to load is logged and
// the previous certificate stays in use.
type certReloader struct {
	certFile, keyFile string
	log               *slog.Logger
	cert              atomic.Pointer[tls.Certificate]

	mu     sync.Mutex
	loaded fileStamp // of the files behind cert
	failed fileStamp // of the last pair that failed, so it is reported once
}

// fileStamp identifies a version of the two files.
type fileStamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

func stampOf(certFile, keyFile string) (fileStamp, error) {
	c, err := os.Stat(certFile)
	if err != nil {
		return fileStamp{}, err
	}
	k, err := os.Stat(keyFile)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{certMod: c.ModTime(), keyMod: k.ModTime(), certSize: c.Size(), keySize: k.Size()}, nil
}

func newCertReloader(certFile, keyFile string, log *slog.Logger) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := c.reload(true); err != nil {
		return nil, fmt.Errorf("TLS_CERT_FILE and TLS_KEY_FILE: %w", err)
	}
	return c, nil
}

// reload loads the pair if it changed since the last load (always when force).
func (c *certReloader) reload(force bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := stampOf(c.certFile, c.keyFile)
	if err != nil {
		return err
	}
	if !force && (st == c.loaded || st == c.failed) {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		c.failed = st
		return fmt.Errorf("loading certificate: %w", err)
	}
	c.cert.Store(&cert)
	c.loaded, c.failed = st, fileStamp{}
	return nil
}

// GetCertificate implements tls.Config.GetCertificate.
func (c *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cert.Load(), nil
}

// watch reloads on SIGHUP and, when interval > 0, when the files change, until ctx ends.
func (c *certReloader) watch(ctx context.Context, interval time.Duration) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		force := false
		select {
		case <-ctx.Done():
			return
		case <-hup:
			force = true
		case <-tick:
		}
		before := c.cert.Load()
		if err := c.reload(force); err != nil {
			// A half-written pair (certificate renewed, key not yet) fails until both
			// files are written; each failing version is reported once.
			c.log.Warn("tls_reload_failed", "error", err.Error())
		} else if c.cert.Load() != before {
			c.log.Info("tls_certificate_reloaded", "cert_file", c.certFile)
		}
	}
}

// newTLSConfig returns the server's TLS configuration: TLS 1.2 at least, HTTP/2 and
// HTTP/1.1 offered, the certificate from the reloader, which watches its files until
// ctx ends.
func newTLSConfig(ctx context.Context, certFile, keyFile string, interval time.Duration, log *slog.Logger) (*tls.Config, error) {
	c, err := newCertReloader(certFile, keyFile, log)
	if err != nil {
		return nil, err
	}
	go c.watch(ctx, interval)
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"h2", "http/1.1"},
		GetCertificate: c.GetCertificate,
	}, nil
}
