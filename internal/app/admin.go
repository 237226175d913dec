package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/thamesthrive/thamesthrive/internal/auth"
	"github.com/thamesthrive/thamesthrive/internal/config"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
)

// HealthcheckURL is the address `thamesthrive healthcheck` asks: path on the
// configured HTTP_ADDR, reached over loopback when it listens on every address, over
// HTTPS when TLS_CERT_FILE is set.
func HealthcheckURL(cfg config.Config, path string) (string, error) {
	host, port, err := net.SplitHostPort(cfg.HTTPAddr)
	if err != nil {
		return "", fmt.Errorf("HTTP_ADDR: %q is not host:port", cfg.HTTPAddr)
	}
	if port == "0" {
		return "", errors.New("HTTP_ADDR: port 0 picks a free port at start-up, so there is no known address to check")
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::", "[::]":
		host = "::1"
	}
	scheme := "http"
	if cfg.TLSCertFile != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + path, nil
}

// Healthcheck asks the local process for path (/healthz or /readyz) and returns nil
// when it answers 200. It is the container's health check: the image has no shell and
// no curl.
func Healthcheck(ctx context.Context, cfg config.Config, path string, timeout time.Duration) error {
	u, err := HealthcheckURL(cfg, path)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{
		Proxy: nil, // never through HTTP_PROXY: the check is about this very process
		// The check talks to its own process and sends nothing secret; the certificate
		// names the public host, not the loopback address, so a name check would always
		// fail here.
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback self-check
		DisableKeepAlives: true,
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return nil
}

// adminStore opens the configured store for an admin command, announcing the changes
// it makes to running replicas (through Redis when REDIS_HOST is set) so that none
// keeps a stale copy. close releases everything.
func adminStore(ctx context.Context, cfg config.Config, log *slog.Logger) (store storage.Store, closeAll func(), err error) {
	coord, err := openCoordination(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	if len(cfg.ElasticHosts) > 0 {
		store, err = openElastic(cfg, newStoreMetrics(prometheus.NewRegistry()), log, coord)
	} else {
		// Shared: beside a running serve, which holds DATA_DIR/LOCK.
		store, err = sqlite.Open(sqlite.Config{Dir: cfg.DataDir, Sync: cfg.SQLiteSync, IndexedPaths: cfg.IndexedPaths, Shared: true})
	}
	if err != nil {
		coord.Close()
		return nil, nil, err
	}
	return coord.wrap(store), func() { store.Close(); coord.Close() }, nil
}

// adminAuth is the user service an admin command works with. Its installation token is
// a fresh random one: admin commands never install through the API.
func adminAuth(cfg config.Config, store storage.Store) (*auth.Service, string, error) {
	token := auth.GenerateSecret(18)
	svc, err := auth.New(auth.Config{InstallationToken: token, TokenTTL: cfg.TokenTTL}, store.Entities())
	return svc, token, err
}

// CreateUser adds a user (`thamesthrive create-user`). On an installation without an
// admin yet, the first user must be an admin, and creating it completes the
// installation (POST /api/v1/install then answers that it is done).
func CreateUser(ctx context.Context, cfg config.Config, log *slog.Logger, nu auth.NewUser) (*domain.User, error) {
	store, closeAll, err := adminStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	svc, token, err := adminAuth(cfg, store)
	if err != nil {
		return nil, err
	}
	installed, err := svc.Installed(ctx)
	if err != nil {
		return nil, fmt.Errorf("checking installation: %w", err)
	}
	if installed {
		return svc.CreateUser(ctx, nu)
	}
	// Roles are checked before Install, which would otherwise leave a plain admin
	// behind when a later role turns out to be unknown.
	for i, r := range nu.Roles {
		if !slices.Contains(auth.Roles, r) {
			return nil, fmt.Errorf("roles[%d]: %q is not one of %v: %w", i, r, auth.Roles, storage.ErrInvalid)
		}
	}
	if !slices.Contains(nu.Roles, domain.RoleAdmin) {
		return nil, fmt.Errorf("roles: no admin exists yet, so the first user must have the admin role: %w", storage.ErrInvalid)
	}
	u, err := svc.Install(ctx, nu.Username, nu.Password, token)
	if err != nil {
		return nil, err
	}
	// Install makes a plain admin; apply the name and any further roles asked for.
	if nu.Name != "" || len(nu.Roles) > 1 {
		name := nu.Name
		return svc.UpdateUser(ctx, u.ID, auth.UserChange{Name: &name, Roles: nu.Roles})
	}
	return u, nil
}

// ResetPassword sets a new password for username (`thamesthrive reset-password`), for
// an admin who is locked out. Every token of the user ends. With enable, a disabled
// user is enabled again.
func ResetPassword(ctx context.Context, cfg config.Config, log *slog.Logger, username, password string, enable bool) (*domain.User, error) {
	store, closeAll, err := adminStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	svc, _, err := adminAuth(cfg, store)
	if err != nil {
		return nil, err
	}
	ch := auth.UserChange{Password: &password}
	if enable {
		ch.Enabled = &enable
	}
	u, err := svc.UpdateUser(ctx, auth.UserID(username), ch)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("user %q does not exist: %w", username, err)
	}
	return u, err
}
