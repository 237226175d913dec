package connect_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"

	_ "github.com/thamesthrive/thamesthrive/internal/actions/connect"
	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/netguard"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/storage/sqlite"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
	"github.com/thamesthrive/thamesthrive/internal/workflow/workflowtest"
)

type received struct {
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	Method, Path, Auth, ContentType string
	Body                            string
}

func (r *received) last(t *testing.T) recorded {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("the server received nothing")
	}
	return r.reqs[len(r.reqs)-1]
}

func TestWebhook(t *testing.T) {
	got := &received{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.mu.Lock()
		got.reqs = append(got.reqs, recorded{r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)})
		got.mu.Unlock()
		switch r.URL.Path {
		case "/fail":
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "upstream down")
		case "/text":
			io.WriteString(w, "plain")
		default:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"ok":true,"n":1}`)
		}
	}))
	defer srv.Close()

	blocked := workflowtest.Env{Provision: workflow.Provision{Outbound: netguard.New(netguard.Config{})}}
	workflowtest.Run(t, blocked, []workflowtest.Case{
		{Name: "loopback refused by default", Node: "webhook", Config: `{"url": "` + srv.URL + `/x"}`, Port: "error",
			Check: func(t *testing.T, r *workflowtest.Result) {
				if msg := r.Output.(map[string]any)["error"].(string); !strings.Contains(msg, "loopback") || !strings.Contains(msg, "not allowed") {
					t.Fatalf("error = %q", msg)
				}
				if !strings.Contains(r.Node.Error, "not allowed") {
					t.Fatalf("trace error = %q", r.Node.Error)
				}
			}},
		{Name: "private refused", Node: "webhook", Config: `{"url": "http://10.1.2.3/x"}`, Port: "error"},
		{Name: "link-local refused", Node: "webhook", Config: `{"url": "http://169.254.169.254/latest/meta-data"}`, Port: "error"},
	})
	if n := len(got.reqs); n != 0 {
		t.Fatalf("a refused call reached the server %d times", n)
	}

	workflowtest.Run(t, workflowtest.Env{}, []workflowtest.Case{
		{Name: "post payload", Node: "webhook", Config: `{"url": "` + srv.URL + `/hook/{{profile@id}}", "headers": {"Authorization": "Bearer {{memory@token}}"}}`,
			Payload: map[string]any{"price": 150.0}, Memory: map[string]any{"token": "t0k"}, Port: "response",
			Check: func(t *testing.T, r *workflowtest.Result) {
				out := r.Output.(map[string]any)
				if out["status"] != 200.0 || !workflowtest.JSONEqual(out["body"], map[string]any{"ok": true, "n": 1}) ||
					out["headers"].(map[string]any)["content-type"] != "application/json" {
					t.Fatalf("output = %v", out)
				}
				req := got.last(t)
				if req.Method != "POST" || req.Path != "/hook/p1" || req.Auth != "Bearer t0k" || req.ContentType != "application/json" || req.Body != `{"price":150}` {
					t.Fatalf("server got %+v", req)
				}
			}},
		{Name: "body template keeps types", Node: "webhook",
			Config:     `{"url": "` + srv.URL + `/b", "method": "PUT", "body": {"customer": "{{profile@id}}", "items": "{{event@properties.items}}", "note": "n={{event@properties.n}}"}}`,
			Properties: map[string]any{"items": []any{1.0, 2.0}, "n": 3.0}, Port: "response",
			Check: func(t *testing.T, r *workflowtest.Result) {
				var body map[string]any
				json.Unmarshal([]byte(got.last(t).Body), &body)
				if !workflowtest.JSONEqual(body, map[string]any{"customer": "p1", "items": []any{1, 2}, "note": "n=3"}) {
					t.Fatalf("body = %s", got.last(t).Body)
				}
			}},
		{Name: "get has no body", Node: "webhook", Config: `{"url": "` + srv.URL + `/text?q=1", "method": "GET"}`, Port: "response",
			Check: func(t *testing.T, r *workflowtest.Result) {
				if req := got.last(t); req.Method != "GET" || req.Body != "" || req.Path != "/text?q=1" {
					t.Fatalf("server got %+v", req)
				}
				if r.Output.(map[string]any)["body"] != "plain" {
					t.Fatalf("output = %v", r.Output)
				}
			}},
		{Name: "non-2xx goes to error", Node: "webhook", Config: `{"url": "` + srv.URL + `/fail"}`, Port: "error",
			Check: func(t *testing.T, r *workflowtest.Result) {
				out := r.Output.(map[string]any)
				if out["status"] != 502.0 || out["body"] != "upstream down" || !strings.Contains(out["error"].(string), "502") {
					t.Fatalf("output = %v", out)
				}
			}},
		{Name: "connection refused goes to error", Node: "webhook", Config: `{"url": "http://127.0.0.1:1/x"}`, Port: "error"},
		{Name: "rendered URL checked", Node: "webhook", Config: `{"url": "{{event@properties.u}}"}`, Properties: map[string]any{"u": "ftp://x"}, Port: "error"},
		{Name: "url required", Node: "webhook", Config: `{}`, ConfigErr: "config.url: is required"},
		{Name: "static URL checked", Node: "webhook", Config: `{"url": "file:///etc/passwd"}`, ConfigErr: "config.url: \"file:///etc/passwd\" must start with http"},
		{Name: "method enum", Node: "webhook", Config: `{"url": "http://x", "method": "TRACE"}`, ConfigErr: "config.method: must be one of"},
		{Name: "timeout bounded", Node: "webhook", Config: `{"url": "http://x", "timeout": "5m"}`, ConfigErr: "config.timeout: must be between"},
		{Name: "bad header name", Node: "webhook", Config: `{"url": "http://x", "headers": {"a b": "c"}}`, ConfigErr: `config.headers["a b"]`},
	})
}

// TestWebhookRedirectIntoLoopback lets the first address through and checks that a
// redirect to a loopback address is refused.
func TestWebhookRedirectIntoLoopback(t *testing.T) {
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the redirect was followed")
	}))
	defer inner.Close()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	outer := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.RedirectHandler(inner.URL+"/admin", http.StatusFound)}}
	outer.Start()
	defer outer.Close()
	env := workflowtest.Env{Provision: workflow.Provision{Outbound: netguard.New(netguard.Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}})}}
	workflowtest.Run(t, env, []workflowtest.Case{
		{Name: "redirect refused", Node: "webhook", Config: `{"url": "` + outer.URL + `/start", "method": "GET"}`, Port: "error",
			Check: func(t *testing.T, r *workflowtest.Result) {
				if msg := r.Output.(map[string]any)["error"].(string); !strings.Contains(msg, "not allowed") {
					t.Fatalf("error = %q", msg)
				}
			}},
	})
}

// smtpServer is a minimal SMTP server for the test: it speaks just enough of the
// protocol for net/smtp and records each message.
type smtpServer struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []smtpMsg
}

type smtpMsg struct {
	Auth string
	From string
	To   []string
	Data string
}

func newSMTPServer(t *testing.T) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	rd := bufio.NewReader(c)
	say := func(line string) { io.WriteString(c, line+"\r\n") }
	say("220 test ESMTP")
	var m smtpMsg
	auth := ""
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-test")
			say("250-AUTH PLAIN")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "AUTH PLAIN "):
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(line)[len("AUTH PLAIN "):])
			auth = strings.ReplaceAll(string(raw), "\x00", "|")
			say("235 ok")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m = smtpMsg{From: angle(line), Auth: auth}
			say("250 OK")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			to := angle(line)
			if strings.HasPrefix(to, "reject") {
				say("550 no such user")
				continue
			}
			m.To = append(m.To, to)
			say("250 OK")
		case cmd == "DATA":
			say("354 go ahead")
			var data strings.Builder
			for {
				l, err := rd.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(l)
			}
			m.Data = data.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}

func angle(line string) string {
	_, rest, _ := strings.Cut(line, "<")
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}

func (s *smtpServer) last(t *testing.T) smtpMsg {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.msgs) == 0 {
		t.Fatal("no message arrived")
	}
	return s.msgs[len(s.msgs)-1]
}

func TestSendEmail(t *testing.T) {
	srv := newSMTPServer(t)
	host, port, _ := net.SplitHostPort(srv.ln.Addr().String())
	p, _ := strconv.Atoi(port)
	portNum := float64(p)
	store, err := sqlite.Open(sqlite.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	putResource := func(r *domain.Resource) {
		if err := workflow.ValidateResource(r); err != nil {
			t.Fatal(err)
		}
		doc, _ := json.Marshal(r)
		if _, err := store.Entities().Put(ctx, &storage.Entity{Kind: domain.EntityResource, ID: r.ID, Doc: doc}, -1); err != nil {
			t.Fatal(err)
		}
	}
	putResource(&domain.Resource{Meta: domain.Meta{ID: "mail", Name: "Mail", Enabled: true}, Type: "smtp",
		Config: map[string]any{"host": host, "port": portNum, "from": "Shop <shop@example.com>", "tls": "none"}})
	// A server that requires STARTTLS, which the test server does not offer.
	putResource(&domain.Resource{Meta: domain.Meta{ID: "strict", Name: "Strict", Enabled: true}, Type: "smtp",
		Config: map[string]any{"host": host, "port": portNum, "from": "shop@example.com"}})

	// With credentials: the password is a secret, opened only to send.
	putResource(&domain.Resource{Meta: domain.Meta{ID: "login", Name: "Login", Enabled: true}, Type: "smtp",
		Config:  map[string]any{"host": host, "port": portNum, "from": "shop@example.com", "tls": "none", "username": "shop"},
		Secrets: map[string]string{"password": "sealed:hunter2"}})

	prof := domain.NewProfile("p1", domain.Now())
	prof.Data["contact"] = map[string]any{"email": map[string]any{"main": "ann@example.com"}}
	prof.Data["pii"] = map[string]any{"firstname": "Ann"}
	cfg := `{"resource": "mail", "recipient": "{{profile@data.contact.email.main}}, bob@example.com", "subject": "Thanks, {{profile@data.pii.firstname}} – ünïcode", "body": "Hello {{profile@data.pii.firstname}}, you paid {{event@properties.price}}."}`
	env := workflowtest.Env{Provision: workflow.Provision{Entities: store.Entities(), Outbound: netguard.New(netguard.Config{AllowPrivate: true}), Secrets: opener{}}}
	workflowtest.Run(t, env, []workflowtest.Case{
		{Name: "sends", Node: "send-email", Config: cfg, Profile: prof, Properties: map[string]any{"price": 150.0},
			Check: func(t *testing.T, r *workflowtest.Result) {
				m := srv.last(t)
				if m.From != "shop@example.com" || strings.Join(m.To, ",") != "ann@example.com,bob@example.com" {
					t.Fatalf("envelope %+v", m)
				}
				for _, want := range []string{"From: \"Shop\" <shop@example.com>", "To: ann@example.com, bob@example.com",
					"Subject: =?utf-8?q?Thanks,_Ann_", "Hello Ann, you paid 150.", "Content-Type: text/plain; charset=utf-8"} {
					if !strings.Contains(m.Data, want) {
						t.Fatalf("message lacks %q:\n%s", want, m.Data)
					}
				}
			}},
		{Name: "logs in with the opened secret", Node: "send-email", Profile: prof,
			Config: `{"resource": "login", "recipient": "a@example.com", "subject": "s", "body": "b"}`,
			Check: func(t *testing.T, r *workflowtest.Result) {
				if m := srv.last(t); m.Auth != "|shop|hunter2" {
					t.Fatalf("auth = %q", m.Auth)
				}
			}},
		{Name: "smtp refusal goes to error", Node: "send-email", Profile: prof,
			Config: `{"resource": "mail", "recipient": "reject@example.com", "subject": "s", "body": "b"}`, Port: "error",
			Check: func(t *testing.T, r *workflowtest.Result) {
				if msg := r.Output.(map[string]any)["error"].(string); !strings.Contains(msg, "550") {
					t.Fatalf("error = %q", msg)
				}
			}},
		{Name: "starttls required", Node: "send-email", Config: `{"resource": "strict", "recipient": "a@example.com", "subject": "s", "body": "b"}`,
			Port: "error", Check: func(t *testing.T, r *workflowtest.Result) {
				if msg := r.Output.(map[string]any)["error"].(string); !strings.Contains(msg, "STARTTLS") {
					t.Fatalf("error = %q", msg)
				}
			}},
		{Name: "bad recipient", Node: "send-email", Config: `{"resource": "mail", "recipient": "not-an-address", "subject": "s", "body": "b"}`, Port: "error"},
		{Name: "unknown resource", Node: "send-email", Config: `{"resource": "nope", "recipient": "a@b.c", "subject": "s", "body": "b"}`,
			ConfigErr: `config.resource: there is no resource "nope"`},
	})
	// The guard applies to SMTP too.
	blocked := workflowtest.Env{Provision: workflow.Provision{Entities: store.Entities(), Outbound: netguard.New(netguard.Config{})}}
	workflowtest.Run(t, blocked, []workflowtest.Case{
		{Name: "loopback refused", Node: "send-email", Config: cfg, Profile: prof, Port: "error",
			Check: func(t *testing.T, r *workflowtest.Result) {
				if msg := r.Output.(map[string]any)["error"].(string); !strings.Contains(msg, "not allowed") {
					t.Fatalf("error = %q", msg)
				}
			}},
	})
}

// opener stands in for the secrets box: "sealed:x" opens to "x".
type opener struct{}

func (opener) OpenFields(v any) error {
	r := v.(*domain.Resource)
	for k, s := range r.Secrets {
		r.Secrets[k] = strings.TrimPrefix(s, "sealed:")
	}
	return nil
}

func TestValidateResource(t *testing.T) {
	for _, tc := range []struct {
		cfg  map[string]any
		want string
	}{
		{map[string]any{"from": "a@b.c"}, "config.host: is required"},
		{map[string]any{"host": "h", "from": "a@b.c", "password": "x"}, "unknown field"},
		{map[string]any{"host": "h", "from": "nope"}, "config.from"},
		{map[string]any{"host": "h", "from": "a@b.c", "tls": "maybe"}, "config.tls"},
		{map[string]any{"host": "h", "from": "a@b.c", "extra": 1}, "unknown field"},
	} {
		err := workflow.ValidateResource(&domain.Resource{Type: "smtp", Config: tc.cfg})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if err := workflow.ValidateResource(&domain.Resource{Type: "ftp"}); err == nil || !strings.Contains(err.Error(), "unknown resource type") {
		t.Errorf("unknown type: %v", err)
	}
}
