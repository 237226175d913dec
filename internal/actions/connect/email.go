package connect

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/domain"
	"github.com/thamesthrive/thamesthrive/internal/netguard"
	"github.com/thamesthrive/thamesthrive/internal/storage"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

// ResourceSMTP is the resource type holding an SMTP server's settings.
const ResourceSMTP = "smtp"

// maxRecipients bounds one e-mail's recipients.
const maxRecipients = 50

func init() {
	workflow.RegisterResourceType(ResourceSMTP, func(r *domain.Resource) error {
		_, err := smtpSettingsFrom(r)
		return err
	})
	workflow.Register(workflow.Spec{
		ID: "send-email", Name: "Send e-mail", Category: category,
		Description: "Sends an e-mail through an SMTP server whose settings are kept in a resource (type smtp).",
		Doc: "The SMTP resource (`/api/v1/resources`, type `smtp`) holds in its config `host`, `port` (default 587), " +
			"`from`, an optional `username`, and `tls`: `starttls` (default; the server must offer it), " +
			"`tls` (implicit TLS, usually port 465) or `none`; the password goes in its secrets (`password`), " +
			"which are stored encrypted. " +
			"Recipient, subject and body are templates. " +
			"Success passes the payload on; failures (refused address, SMTP errors) go to the error port.",
		Fields: []workflow.Field{
			workflow.StringField("resource", "The id of the smtp resource.").Req().Ex("mail-server"),
			workflow.TemplateField("recipient", "Recipients, comma-separated; a template.").Req().Ex("{{profile@data.contact.email.main}}"),
			workflow.TemplateField("subject", "The subject; a template.").Req().Ex("Thank you for your order"),
			workflow.TemplateField("body", "The message; a template.").Req().Ex("Hello {{profile@data.pii.firstname}}, ..."),
			workflow.BoolField("html", "The body is HTML.").Def(false),
			workflow.DurationField("timeout", "How long sending may take.").Def("10s").Range(1, 60).Adv(),
		},
		Outputs: []workflow.Port{
			{Name: "payload", Description: "The payload, once the server accepted the message."},
			{Name: "error", Description: "What went wrong."},
		},
		Examples: []workflow.Example{{Title: "Order confirmation",
			Config: `{"resource": "mail-server", "recipient": "{{profile@data.contact.email.main}}", "subject": "Your order", "body": "Hello {{profile@data.pii.firstname}}, thank you for your order of {{event@properties.price}}."}`}},
		New: func() workflow.Action { return new(SendEmail) },
	})
}

type smtpSettings struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Username string `json:"username"`
	Password string `json:"-"`
	From     string `json:"from"`
	TLS      string `json:"tls"`
}

func smtpSettingsFrom(r *domain.Resource) (*smtpSettings, error) {
	b, err := json.Marshal(r.Config)
	if err != nil {
		return nil, err
	}
	s := &smtpSettings{Port: 587, TLS: "starttls"}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(s); err != nil {
		return nil, workflow.FieldErrorf("config", "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	switch {
	case s.Host == "":
		return nil, workflow.FieldErrorf("config.host", "is required")
	case s.Port < 1 || s.Port > 65535:
		return nil, workflow.FieldErrorf("config.port", "must be 1-65535")
	case s.TLS != "starttls" && s.TLS != "tls" && s.TLS != "none":
		return nil, workflow.FieldErrorf("config.tls", "must be starttls, tls or none")
	}
	if _, err := mail.ParseAddress(s.From); err != nil {
		return nil, workflow.FieldErrorf("config.from", "is not an e-mail address")
	}
	for k := range r.Secrets {
		if k != "password" {
			return nil, workflow.FieldErrorf("secrets", "an smtp resource has one secret, password, not %q", k)
		}
	}
	s.Password = r.Secrets["password"]
	return s, nil
}

// SendEmail sends e-mail.
type SendEmail struct {
	Resource  string            `json:"resource"`
	Recipient workflow.Template `json:"recipient"`
	Subject   workflow.Template `json:"subject"`
	Body      workflow.Template `json:"body"`
	HTML      bool              `json:"html"`
	Timeout   string            `json:"timeout"`

	timeout  time.Duration
	entities storage.Entities
	secrets  workflow.SecretOpener
	guard    *netguard.Guard
}

// Provision implements workflow.Provisioner: the resource must exist.
func (n *SendEmail) Provision(ctx context.Context, p *workflow.Provision) error {
	n.entities, n.guard, n.secrets = p.Entities, p.Outbound, p.Secrets
	if n.guard == nil {
		n.guard = netguard.New(netguard.Config{})
	}
	if n.entities == nil {
		return workflow.FieldErrorf("resource", "no resources are available here")
	}
	if _, err := workflow.LoadResource(ctx, n.entities, nil, n.Resource, ResourceSMTP); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return workflow.FieldErrorf("resource", "there is no resource %q", n.Resource)
		}
		return workflow.FieldErrorf("resource", "%v", err)
	}
	return nil
}

// Validate implements workflow.Validator.
func (n *SendEmail) Validate() error {
	d, err := time.ParseDuration(n.Timeout)
	if err != nil {
		return workflow.FieldErrorf("timeout", "%v", err)
	}
	n.timeout = d
	return nil
}

// Run implements workflow.Action. The resource is read at every send, so changed
// settings apply without redeploying flows.
func (n *SendEmail) Run(ctx context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	if n.entities == nil {
		return nil, errors.New("send-email was not provisioned")
	}
	res, err := workflow.LoadResource(ctx, n.entities, n.secrets, n.Resource, ResourceSMTP)
	if err != nil {
		return failure(x, err, nil)
	}
	settings, err := smtpSettingsFrom(res)
	if err != nil {
		return failure(x, fmt.Errorf("resource %q: %w", n.Resource, err), nil)
	}
	var to []string
	for _, part := range strings.Split(x.Render(n.Recipient), ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		a, err := mail.ParseAddress(part)
		if err != nil {
			return failure(x, fmt.Errorf("recipient %q is not an e-mail address", part), nil)
		}
		to = append(to, a.Address)
	}
	if len(to) == 0 {
		return failure(x, errors.New("there is no recipient"), nil)
	}
	if len(to) > maxRecipients {
		return failure(x, fmt.Errorf("more than %d recipients", maxRecipients), nil)
	}
	msg, err := n.message(settings.From, to, x)
	if err != nil {
		return failure(x, err, nil)
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	if err := send(ctx, n.guard, settings, to, msg); err != nil {
		return failure(x, err, map[string]any{"recipients": len(to)})
	}
	return workflow.Pass(x), nil
}

func (n *SendEmail) message(from string, to []string, x *workflow.Exec) ([]byte, error) {
	fromAddr, _ := mail.ParseAddress(from)
	subject := strings.NewReplacer("\r", " ", "\n", " ").Replace(x.Render(n.Subject))
	ctype := "text/plain; charset=utf-8"
	if n.HTML {
		ctype = "text/html; charset=utf-8"
	}
	var idb [12]byte
	rand.Read(idb[:])
	domain := fromAddr.Address[strings.LastIndexByte(fromAddr.Address, '@')+1:]
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\n", fromAddr.String())
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(to, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(idb[:]), domain)
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\nContent-Type: %s\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", ctype)
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(x.Render(n.Body))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// send delivers msg over SMTP, connecting through the guard.
func send(ctx context.Context, g *netguard.Guard, s *smtpSettings, to []string, msg []byte) error {
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	conn, err := g.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	tlsCfg := &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
	if s.TLS == "tls" {
		tc := tls.Client(conn, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS with %s: %w", addr, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		return fmt.Errorf("SMTP greeting from %s: %w", addr, err)
	}
	defer c.Close()
	if s.TLS == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("%s does not offer STARTTLS (set tls to \"none\" to send unencrypted)", addr)
		}
		if err := c.StartTLS(tlsCfg); err != nil {
			return fmt.Errorf("STARTTLS with %s: %w", addr, err)
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			return fmt.Errorf("SMTP login: %w", err)
		}
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("from: %w", err)
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("SMTP MAIL FROM: %w", err)
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return fmt.Errorf("SMTP RCPT TO %s: %w", r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	return c.Quit()
}

var (
	_ workflow.Action      = (*SendEmail)(nil)
	_ workflow.Provisioner = (*SendEmail)(nil)
	_ workflow.Validator   = (*SendEmail)(nil)
)
