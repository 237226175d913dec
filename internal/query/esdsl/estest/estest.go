// Package estest runs the shared corpus of the query language
// (query/querytest) against a real Elasticsearch or OpenSearch cluster,
// for the esdsl back end. It creates indices with esdsl.Mapping, indexes a
// case's documents with refresh, runs the generated query and returns the
// matching ids.
package estest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/query/esdsl"
	"github.com/thamesthrive/thamesthrive/internal/query/querytest"
)

// Backend is a querytest.Backend over a cluster. Cases with the same
// documents share an index; Close deletes the indices.
type Backend struct {
	Client  *http.Client
	BaseURL string // such as http://localhost:9200
	// Username and Password, when set, are sent as basic auth; APIKey as
	// an ApiKey authorization.
	Username, Password, APIKey string
	// IndexPrefix names the indices made ("tt-querytest" when empty).
	IndexPrefix string

	mu      sync.Mutex
	indices map[string]string // documents' hash → index
	kinds   map[string]esdsl.Kinds
}

// FromEnv returns a Backend for the cluster named by ELASTIC_HOST (the
// first of a comma-separated list; http:// is assumed without a scheme),
// with ELASTIC_HTTP_AUTH_USERNAME, ELASTIC_HTTP_AUTH_PASSWORD and
// ELASTIC_API_KEY. It skips the test when ELASTIC_HOST is unset, and
// closes the backend when the test ends.
func FromEnv(t testing.TB) *Backend {
	t.Helper()
	host := strings.TrimSpace(strings.Split(os.Getenv("ELASTIC_HOST"), ",")[0])
	if host == "" {
		t.Skip("ELASTIC_HOST is not set")
	}
	if !strings.Contains(host, "://") {
		host = "http://" + host
	}
	b := &Backend{
		Client:   &http.Client{Timeout: 30 * time.Second},
		BaseURL:  strings.TrimRight(host, "/"),
		Username: os.Getenv("ELASTIC_HTTP_AUTH_USERNAME"),
		Password: os.Getenv("ELASTIC_HTTP_AUTH_PASSWORD"),
		APIKey:   os.Getenv("ELASTIC_API_KEY"),
	}
	t.Cleanup(func() {
		if err := b.Close(context.Background()); err != nil {
			t.Errorf("deleting test indices: %v", err)
		}
	})
	return b
}

// Match implements querytest.Backend.
func (b *Backend) Match(t *testing.T, c querytest.Case) ([]string, error) {
	ctx := t.Context()
	index, kinds, err := b.index(ctx, c.Docs)
	if err != nil {
		return nil, err
	}
	e, err := c.Parse()
	if err != nil {
		return nil, err
	}
	q, err := esdsl.Query(e, esdsl.Options{Prefix: map[string]string{c.DocScope(): ""}, Kinds: kinds, Now: querytest.Now})
	if err != nil {
		return nil, err
	}
	return b.Search(ctx, index, q)
}

// Search runs q on index and returns the ids of the hits (at most 10000).
func (b *Backend) Search(ctx context.Context, index string, q map[string]any) ([]string, error) {
	body := map[string]any{"query": q, "size": 10000, "_source": false}
	var res struct {
		Hits struct {
			Hits []struct {
				ID string `json:"_id"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := b.do(ctx, http.MethodPost, "/"+index+"/_search", "application/json", jsonBody(body), &res); err != nil {
		raw, _ := json.Marshal(q)
		return nil, fmt.Errorf("searching with %s: %w", raw, err)
	}
	ids := make([]string, 0, len(res.Hits.Hits))
	for _, h := range res.Hits.Hits {
		ids = append(ids, h.ID)
	}
	return ids, nil
}

// index returns an index holding docs, creating it on first use, and
// the kinds of its fields.
func (b *Backend) index(ctx context.Context, docs []map[string]any) (string, esdsl.Kinds, error) {
	raw, err := json.Marshal(docs)
	if err != nil {
		return "", nil, fmt.Errorf("encoding documents: %w", err)
	}
	sum := sha256.Sum256(raw)
	key := hex.EncodeToString(sum[:8])
	b.mu.Lock()
	defer b.mu.Unlock()
	if name, ok := b.indices[key]; ok {
		return name, b.kinds[key], nil
	}
	prefix := b.IndexPrefix
	if prefix == "" {
		prefix = "tt-querytest"
	}
	name := fmt.Sprintf("%s-%d-%s", prefix, os.Getpid(), key)
	_ = b.do(ctx, http.MethodDelete, "/"+name, "", nil, nil) // left over from an earlier run
	create := map[string]any{
		"settings": map[string]any{"number_of_shards": 1, "number_of_replicas": 0},
		"mappings": esdsl.Mapping(),
	}
	if err := b.do(ctx, http.MethodPut, "/"+name, "application/json", jsonBody(create), nil); err != nil {
		return "", nil, fmt.Errorf("creating index %s: %w", name, err)
	}
	if b.indices == nil {
		b.indices, b.kinds = map[string]string{}, map[string]esdsl.Kinds{}
	}
	b.indices[key] = name
	var bulk bytes.Buffer
	for _, d := range docs {
		id, _ := d["id"].(string)
		meta, _ := json.Marshal(map[string]any{"index": map[string]any{"_id": id}})
		doc, err := json.Marshal(d)
		if err != nil {
			return "", nil, fmt.Errorf("encoding document %s: %w", id, err)
		}
		bulk.Write(meta)
		bulk.WriteByte('\n')
		bulk.Write(doc)
		bulk.WriteByte('\n')
	}
	var res struct {
		Errors bool              `json:"errors"`
		Items  []json.RawMessage `json:"items"`
	}
	if len(docs) > 0 {
		if err := b.do(ctx, http.MethodPost, "/"+name+"/_bulk?refresh=true", "application/x-ndjson", &bulk, &res); err != nil {
			return "", nil, fmt.Errorf("indexing documents into %s: %w", name, err)
		}
		if res.Errors {
			return "", nil, fmt.Errorf("indexing documents into %s: %s", name, res.Items)
		}
	}
	var mapping json.RawMessage
	if err := b.do(ctx, http.MethodGet, "/"+name+"/_mapping", "", nil, &mapping); err != nil {
		return "", nil, fmt.Errorf("reading mapping of %s: %w", name, err)
	}
	kinds, err := esdsl.KindsFromMapping(mapping)
	if err != nil {
		return "", nil, err
	}
	b.kinds[key] = kinds
	return name, kinds, nil
}

// Close deletes the indices the backend made.
func (b *Backend) Close(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var errs []error
	for key, name := range b.indices {
		if err := b.do(ctx, http.MethodDelete, "/"+name, "", nil, nil); err != nil {
			errs = append(errs, err)
		}
		delete(b.indices, key)
	}
	return errors.Join(errs...)
}

func jsonBody(v any) io.Reader {
	raw, _ := json.Marshal(v)
	return bytes.NewReader(raw)
}

func (b *Backend) do(ctx context.Context, method, path, contentType string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, b.BaseURL+path, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	switch {
	case b.APIKey != "":
		req.Header.Set("Authorization", "ApiKey "+b.APIKey)
	case b.Username != "":
		req.SetBasicAuth(b.Username, b.Password)
	}
	client := b.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading response of %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		if len(raw) > 2000 {
			raw = raw[:2000]
		}
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("decoding response of %s %s: %w", method, path, err)
		}
	}
	return nil
}

var _ querytest.Backend = (*Backend)(nil)
