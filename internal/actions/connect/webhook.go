// Package connect holds node types that call other systems: webhooks (HTTP) and
// e-mail (SMTP). Every outbound connection goes through the netguard guard, so flows
// cannot reach loopback, private or link-local addresses (nor be redirected to them)
// unless OUTBOUND_ALLOW_PRIVATE=yes.
package connect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/netguard"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

const category = "Connectors"

// maxResponse bounds how much of a webhook's answer is read.
const maxResponse = 1 << 20

func init() {
	workflow.Register(workflow.Spec{
		ID: "webhook", Name: "Webhook", Category: category,
		Description: "Calls a remote HTTP API and emits its answer: 2xx answers on the response port, failures on the error port.",
		Doc: "The body is any JSON value whose strings are templates; a string that is exactly one placeholder " +
			"(`\"{{profile@traits}}\"`) keeps the referenced value's type. Without a body, POST, PUT and PATCH send " +
			"the payload as JSON. A string body is sent as text. The response port carries " +
			"`{\"status\", \"headers\", \"body\"}` (body decoded when it is JSON, at most 1 MiB read). The error " +
			"port carries `{\"error\", \"status\"?, \"body\"?}` for network errors, refused addresses and non-2xx " +
			"answers. At most 5 redirects are followed, each checked like the first address.",
		Fields: []workflow.Field{
			workflow.TemplateField("url", "The URL (http or https); a template.").Req().Ex("https://api.example.com/customers/{{profile@id}}"),
			workflow.StringField("method", "The HTTP method.").OneOf("GET", "POST", "PUT", "PATCH", "DELETE").Def("POST"),
			workflow.MapField("headers", workflow.TypeString, workflow.TypeTemplate, "Request headers; values are templates.").
				Ex(map[string]any{"Authorization": "Bearer secret-token"}),
			workflow.ValueField("body", "The body; strings are templates. Default: the payload.").
				Ex(map[string]any{"email": "{{profile@data.contact.email.main}}", "total": "{{event@properties.price}}"}),
			workflow.DurationField("timeout", "How long to wait for the whole call.").Def("5s").Range(0.1, 60),
		},
		Outputs: []workflow.Port{
			{Name: "response", Description: "The answer, when its status is 2xx."},
			{Name: "error", Description: "What went wrong: a network error, a refused address or a non-2xx answer."},
		},
		Examples: []workflow.Example{
			{Title: "Notify the CRM", Config: `{"url": "https://crm.example.com/hooks/purchase", "method": "POST", "body": {"customer": "{{profile@id}}", "price": "{{event@properties.price}}"}, "timeout": "3s"}`},
			{Title: "Fetch a recommendation", Config: `{"url": "https://reco.example.com/for/{{profile@id}}", "method": "GET", "headers": {"Authorization": "Bearer abc"}}`},
		},
		New: func() workflow.Action { return new(Webhook) },
	})
}

// Webhook calls an HTTP API.
type Webhook struct {
	URL     workflow.Template            `json:"url"`
	Method  string                       `json:"method"`
	Headers map[string]workflow.Template `json:"headers"`
	Body    workflow.Value               `json:"body"`
	Timeout string                       `json:"timeout"`

	timeout time.Duration
	client  *http.Client
	headers []string
}

// Provision implements workflow.Provisioner.
func (n *Webhook) Provision(_ context.Context, p *workflow.Provision) error {
	g := p.Outbound
	if g == nil {
		g = netguard.New(netguard.Config{})
	}
	n.client = g.Client(0, 5) // the context carries the deadline
	return nil
}

// Validate implements workflow.Validator.
func (n *Webhook) Validate() error {
	d, err := time.ParseDuration(n.Timeout)
	if err != nil {
		return workflow.FieldErrorf("timeout", "%v", err)
	}
	n.timeout = d
	for k := range n.Headers {
		if !validHeaderName(k) {
			return workflow.FieldErrorf(fmt.Sprintf("headers[%q]", k), "is not a valid header name")
		}
		n.headers = append(n.headers, k)
	}
	sort.Strings(n.headers)
	if !strings.Contains(n.URL.String(), "{{") {
		if err := checkURL(n.URL.String()); err != nil {
			return workflow.FieldErrorf("url", "%v", err)
		}
	}
	return nil
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q must start with http:// or https://", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", raw)
	}
	return nil
}

func failure(x *workflow.Exec, err error, extra map[string]any) ([]workflow.Out, error) {
	v := map[string]any{"error": err.Error()}
	for k, e := range extra {
		v[k] = e
	}
	return workflow.Emit("error", v), err
}

// Run implements workflow.Action.
func (n *Webhook) Run(ctx context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	if n.client == nil {
		return nil, errors.New("webhook was not provisioned")
	}
	target := strings.TrimSpace(x.Render(n.URL))
	if err := checkURL(target); err != nil {
		return failure(x, err, nil)
	}
	var body io.Reader
	contentType := ""
	var payload any
	switch {
	case n.Body.IsSet():
		payload = x.Resolve(n.Body)
	case n.Method == "POST" || n.Method == "PUT" || n.Method == "PATCH":
		payload = x.Payload()
	}
	if s, ok := payload.(string); ok {
		body, contentType = strings.NewReader(s), "text/plain; charset=utf-8"
	} else if payload != nil || n.Body.IsSet() {
		b, err := json.Marshal(payload)
		if err != nil {
			return failure(x, fmt.Errorf("encoding the body: %w", err), nil)
		}
		body, contentType = bytes.NewReader(b), "application/json"
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, n.Method, target, body)
	if err != nil {
		return failure(x, err, nil)
	}
	req.Header.Set("User-Agent", "ThamesThrive-Webhook/1")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, k := range n.headers {
		req.Header.Set(k, strings.NewReplacer("\r", "", "\n", "").Replace(x.Render(n.Headers[k])))
	}
	resp, err := n.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return failure(x, fmt.Errorf("calling %s: %w", redact(target), err), nil)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return failure(x, fmt.Errorf("reading the answer: %w", err), map[string]any{"status": float64(resp.StatusCode)})
	}
	out := map[string]any{"status": float64(resp.StatusCode), "headers": headerMap(resp.Header), "body": decodeBody(resp.Header, raw)}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return failure(x, fmt.Errorf("%s answered %s", redact(target), resp.Status), map[string]any{"status": out["status"], "body": out["body"]})
	}
	return workflow.Emit("response", out), nil
}

// redact drops credentials and the query (which often holds tokens) from a URL for
// errors and traces.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the URL"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

func headerMap(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	for k, vs := range h {
		out[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	return out
}

func decodeBody(h http.Header, raw []byte) any {
	ct, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if ct == "application/json" || strings.HasSuffix(ct, "+json") || (ct == "" && json.Valid(raw)) {
		var v any
		if json.Unmarshal(raw, &v) == nil {
			return v
		}
	}
	return string(raw)
}

var (
	_ workflow.Action      = (*Webhook)(nil)
	_ workflow.Provisioner = (*Webhook)(nil)
	_ workflow.Validator   = (*Webhook)(nil)
)
