package elastic

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/storage"
)

// client is the thin HTTP layer over the handful of REST APIs the store uses (index,
// _bulk, get, _mget, _search, _count, delete, index templates, aliases, _refresh).
// Those APIs are the same on Elasticsearch 8/9 and OpenSearch 2/3, so one small client
// serves all four without a product check and without a dependency.
type client struct {
	hosts []string // base URLs without a trailing slash
	next  atomic.Uint32
	hc    *http.Client
	auth  func(*http.Request)
}

func newClient(cfg Config) (*client, error) {
	if len(cfg.Hosts) == 0 {
		return nil, fmt.Errorf("ELASTIC_HOST: no host given")
	}
	c := &client{hc: cfg.HTTPClient, auth: func(*http.Request) {}}
	for _, h := range cfg.Hosts {
		h = strings.TrimRight(strings.TrimSpace(h), "/")
		if h == "" {
			continue
		}
		if !strings.Contains(h, "://") {
			h = "http://" + h
		}
		c.hosts = append(c.hosts, h)
	}
	if len(c.hosts) == 0 {
		return nil, fmt.Errorf("ELASTIC_HOST: no host given")
	}
	if c.hc == nil {
		tr := &http.Transport{
			Proxy:               nil, // the cluster is reached directly, never through HTTP_PROXY
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
			ForceAttemptHTTP2:   false, // the clusters speak HTTP/1.1
			// Gzipped answers cost more CPU to inflate than they save on a LAN.
			DisableCompression: true,
			// A request body larger than the connection's write buffer (4 KiB by default)
			// is copied past it through a fresh buffer of up to 32 KiB per request: for
			// the _bulk bodies (about 20 KiB at load) that was a sixteenth of serve's
			// allocated bytes, and two writes where one does.
			WriteBufferSize: 64 << 10,
		}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("ELASTIC_CA_FILE: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("ELASTIC_CA_FILE: %s holds no PEM certificate", cfg.CAFile)
			}
			tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		c.hc = &http.Client{Transport: tr}
	}
	switch {
	case cfg.APIKey != "":
		key := cfg.APIKey
		c.auth = func(r *http.Request) { r.Header.Set("Authorization", "ApiKey "+key) }
	case cfg.Username != "":
		user, pass := cfg.Username, cfg.Password
		c.auth = func(r *http.Request) { r.SetBasicAuth(user, pass) }
	}
	return c, nil
}

// apiError is an error answer of the cluster.
type apiError struct {
	Status int
	Type   string
	Reason string
}

func (e *apiError) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("HTTP %d: %s: %s", e.Status, e.Type, e.Reason)
}

// retriable reports whether a status means "the cluster is busy or recovering".
func retriable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable ||
		status == http.StatusBadGateway || status == http.StatusGatewayTimeout
}

func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// classify wraps err in the storage error class it belongs to.
func classify(what string, err error) error {
	switch st := statusOf(err); {
	case st == http.StatusNotFound:
		return fmt.Errorf("%s: %w", what, storage.ErrNotFound)
	case st == http.StatusConflict:
		return fmt.Errorf("%s: %w: %w", what, storage.ErrConflict, err)
	case st == http.StatusBadRequest:
		return fmt.Errorf("%s: %w: %w", what, storage.ErrInvalid, err)
	default:
		return fmt.Errorf("%s: %w: %w", what, storage.ErrUnavailable, err)
	}
}

// do sends one request to the next host (round robin) and returns the answer's body.
// A transport error is tried once more on the next host when there are several. Answers
// of 300 and more are *apiError (with the body's error type and reason when it has one);
// out, when not nil, receives the decoded body of a 2xx answer.
func (c *client) do(ctx context.Context, method, path string, body []byte, out any) ([]byte, error) {
	attempts := 1
	if len(c.hosts) > 1 {
		attempts = 2
	}
	var lastErr error
	for i := 0; i < attempts; i++ {
		host := c.hosts[int(c.next.Add(1))%len(c.hosts)]
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, host+path, rd)
		if err != nil {
			return nil, err
		}
		if body != nil {
			ct := "application/json"
			if strings.Contains(path, "_bulk") {
				ct = "application/x-ndjson"
			}
			req.Header.Set("Content-Type", ct)
		}
		c.auth(req)
		resp, err := c.hc.Do(req)
		if err != nil {
			lastErr = err
			if ctx.Err() != nil {
				break
			}
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			lastErr = err
			continue
		}
		if resp.StatusCode >= 300 {
			return b, decodeError(resp.StatusCode, b)
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				return b, fmt.Errorf("decoding answer of %s %s: %w", method, path, err)
			}
		}
		return b, nil
	}
	return nil, lastErr
}

func decodeError(status int, b []byte) error {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	ae := &apiError{Status: status}
	if json.Unmarshal(b, &e) == nil && len(e.Error) > 0 {
		var detail struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(e.Error, &detail) == nil && detail.Type != "" {
			ae.Type, ae.Reason = detail.Type, detail.Reason
		} else {
			ae.Reason = strings.Trim(string(e.Error), `"`)
		}
	}
	return ae
}

// doJSON marshals in (when not nil) as the body.
func (c *client) doJSON(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	_, err := c.do(ctx, method, path, body, out)
	return err
}
