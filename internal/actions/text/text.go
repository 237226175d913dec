// Package text holds node types that compute with strings, URLs, dates and numbers,
// and that hash or mask personal data. Nodes that compute a result emit it on their
// output port and, when `to` is set, store it there too.
package text

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/thamesthrive/thamesthrive/internal/query"
	"github.com/thamesthrive/thamesthrive/internal/workflow"
)

const category = "Text and numbers"

func toField() workflow.Field {
	return workflow.RefField("to", "Where to store the result as well (it is always emitted).").Write().Ex("memory@result")
}

func init() {
	workflow.Register(workflow.Spec{
		ID: "string-operation", Name: "String operation", Category: category,
		Description: "Transforms a text: lower or upper case, trim, capitalize, length, split or replace.",
		Fields: []workflow.Field{
			workflow.TemplateField("value", "The text; a template.").Req().Ex("{{profile@data.contact.email.main}}"),
			workflow.StringField("operation", "What to do.").Req().
				OneOf("lower", "upper", "trim", "capitalize", "length", "split", "replace").Ex("lower"),
			workflow.StringField("separator", "split: the separator.").Def(","),
			workflow.StringField("old", "replace: the text to replace.").Ex("-"),
			workflow.StringField("new", "replace: the replacement.").Def(""),
			toField(),
		},
		Examples: []workflow.Example{
			{Title: "Normalise an e-mail", Config: `{"value": "{{event@properties.email}}", "operation": "lower", "to": "profile@data.contact.email.main"}`},
			{Title: "Split tags", Config: `{"value": "{{event@properties.tags}}", "operation": "split", "separator": ";"}`},
		},
		New: func() workflow.Action { return new(StringOp) },
	})
	workflow.Register(workflow.Spec{
		ID: "regex", Name: "Regular expression", Category: category,
		Description: "Matches a text against a regular expression (RE2 syntax): tests it, extracts groups, finds all matches or replaces.",
		Doc: "`match` emits true or false; `extract` emits the named groups of the first match as an object " +
			"(or, without named groups, the list of groups), or null; `find-all` emits the list of matches; " +
			"`replace` emits the text with every match replaced (`$1` and `${name}` refer to groups).",
		Fields: []workflow.Field{
			workflow.TemplateField("value", "The text; a template.").Req().Ex("{{event@hit.url}}"),
			workflow.StringField("pattern", "The regular expression.").Req().Range(1, 1000).Ex(`order-(?P<id>[0-9]+)`),
			workflow.StringField("operation", "What to do.").OneOf("match", "extract", "find-all", "replace").Def("match"),
			workflow.StringField("replacement", "replace: the replacement.").Def(""),
			toField(),
		},
		Examples: []workflow.Example{
			{Title: "Order id from a URL", Config: `{"value": "{{event@hit.url}}", "pattern": "order-(?P<id>[0-9]+)", "operation": "extract", "to": "memory@order"}`},
		},
		New: func() workflow.Action { return new(Regex) },
	})
	workflow.Register(workflow.Spec{
		ID: "url-parse", Name: "Parse URL", Category: category,
		Description: "Splits a URL into scheme, host, port, path, query parameters and fragment.",
		Fields: []workflow.Field{
			workflow.TemplateField("url", "The URL; a template.").Def("{{event@hit.url}}"),
			toField(),
		},
		Examples: []workflow.Example{{Title: "The page's URL", Config: `{"url": "{{event@hit.url}}", "to": "memory@page"}`}},
		New:      func() workflow.Action { return new(URLParse) },
	})
	workflow.Register(workflow.Spec{
		ID: "date-operation", Name: "Date operation", Category: category,
		Description: "Formats a date, shifts it by an offset, splits it into parts, or tells the seconds since it.",
		Doc: "The value is an RFC 3339 date or time (`2024-05-01T10:00:00Z`, `2024-05-01`), a Unix time in " +
			"seconds, or empty for the run's current time. Layouts: `rfc3339`, `date`, `time`, `unix`, " +
			"`unix_ms`, or a Go reference layout such as `02/01/2006`.",
		Fields: []workflow.Field{
			workflow.TemplateField("value", "The date; a template; empty for now.").Def("").Ex("{{profile@metadata.time.create}}"),
			workflow.StringField("operation", "What to do.").OneOf("format", "add", "parts", "since").Def("format"),
			workflow.StringField("layout", "format and add: the output layout.").Def("rfc3339"),
			workflow.StringField("offset", "add: the offset, as in now.offset(): \"-30d\", \"2h\", \"1w\".").Ex("+7d"),
			toField(),
		},
		Examples: []workflow.Example{
			{Title: "A week from now", Config: `{"operation": "add", "offset": "7d", "to": "profile@traits.trial_ends"}`},
			{Title: "Weekday of the sign-up", Config: `{"value": "{{profile@metadata.time.create}}", "operation": "parts"}`},
		},
		New: func() workflow.Action { return new(DateOp) },
	})
	workflow.Register(workflow.Spec{
		ID: "math", Name: "Math", Category: category,
		Description: "Computes with numbers: add, subtract, multiply, divide, modulo, power, min, max, round, floor, ceil, abs.",
		Doc: "Operands are numbers or templates that render to numbers (`\"{{event@properties.price}}\"`). " +
			"Unary operations (round, floor, ceil, abs) use `a` only.",
		Fields: []workflow.Field{
			workflow.StringField("operation", "The operation.").Req().
				OneOf("add", "subtract", "multiply", "divide", "modulo", "power", "min", "max", "round", "floor", "ceil", "abs").Ex("multiply"),
			workflow.ValueField("a", "The first operand.").Req().Ex("{{event@properties.price}}"),
			workflow.ValueField("b", "The second operand.").Ex(1.2),
			workflow.IntField("precision", "round: decimals to keep.").Def(0.0).Range(0, 12),
			toField(),
		},
		Examples: []workflow.Example{
			{Title: "Price with VAT", Config: `{"operation": "multiply", "a": "{{event@properties.price}}", "b": 1.2, "to": "memory@gross"}`},
			{Title: "Lifetime value", Config: `{"operation": "add", "a": "{{profile@data.metrics.ltv}}", "b": "{{event@properties.total}}", "to": "profile@data.metrics.ltv"}`},
		},
		New: func() workflow.Action { return new(Math) },
	})
	workflow.Register(workflow.Spec{
		ID: "hash-data", Name: "Hash data", Category: category,
		Description: "Replaces values with their hex digest (SHA-256 by default), for pseudonymisation.",
		Doc: "Strings are hashed as they are, other values as their JSON. Missing values are skipped. " +
			"With a salt, the digest is of salt + value.",
		Fields: []workflow.Field{
			workflow.ListField("refs", workflow.TypeRef, "The values to hash in place.").Req().Write().Range(1, 100).
				Ex([]any{"profile@data.contact.email.main"}),
			workflow.StringField("algorithm", "The hash function.").OneOf("sha256", "sha512", "sha1", "md5").Def("sha256"),
			workflow.StringField("salt", "A secret put before each value.").Def("").Adv(),
		},
		Examples: []workflow.Example{{Title: "Pseudonymise the e-mail", Config: `{"refs": ["event@properties.email"], "algorithm": "sha256"}`}},
		New:      func() workflow.Action { return new(HashData) },
	})
	workflow.Register(workflow.Spec{
		ID: "mask-data", Name: "Mask data", Category: category,
		Description: "Masks values in place: replaces characters with a mask, hides the local part of e-mails, or removes the values.",
		Fields: []workflow.Field{
			workflow.ListField("refs", workflow.TypeRef, "The values to mask.").Req().Write().Range(1, 100).
				Ex([]any{"event@properties.card"}),
			workflow.StringField("mode", "mask: every character but the last keep_last; email: a***@example.com; remove: delete.").
				OneOf("mask", "email", "remove").Def("mask"),
			workflow.IntField("keep_last", "mask: characters left visible at the end.").Def(0.0).Range(0, 100),
			workflow.StringField("mask_char", "mask: the masking character.").Def("*").Range(1, 4),
		},
		Examples: []workflow.Example{
			{Title: "Card number", Config: `{"refs": ["event@properties.card"], "mode": "mask", "keep_last": 4}`},
			{Title: "E-mail", Config: `{"refs": ["event@properties.email"], "mode": "email"}`},
		},
		New: func() workflow.Action { return new(MaskData) },
	})
}

func result(x *workflow.Exec, to workflow.Ref, v any) ([]workflow.Out, error) {
	if !to.IsZero() {
		if err := x.Set(to, v); err != nil {
			return nil, err
		}
	}
	return workflow.Emit(workflow.DefaultPort, v), nil
}

// StringOp transforms a string.
type StringOp struct {
	Value     workflow.Template `json:"value"`
	Operation string            `json:"operation"`
	Separator string            `json:"separator"`
	Old       string            `json:"old"`
	New       string            `json:"new"`
	To        workflow.Ref      `json:"to"`
}

// Validate implements workflow.Validator.
func (n *StringOp) Validate() error {
	if n.Operation == "replace" && n.Old == "" {
		return workflow.FieldErrorf("old", "is required for replace")
	}
	return nil
}

// Run implements workflow.Action.
func (n *StringOp) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	s := x.Render(n.Value)
	var v any
	switch n.Operation {
	case "lower":
		v = strings.ToLower(s)
	case "upper":
		v = strings.ToUpper(s)
	case "trim":
		v = strings.TrimSpace(s)
	case "capitalize":
		r, size := utf8.DecodeRuneInString(s)
		v = string(unicode.ToUpper(r)) + s[size:]
		if s == "" {
			v = ""
		}
	case "length":
		v = float64(utf8.RuneCountInString(s))
	case "split":
		parts := []any{}
		if s != "" {
			for _, p := range strings.Split(s, n.Separator) {
				parts = append(parts, strings.TrimSpace(p))
			}
		}
		v = parts
	case "replace":
		v = strings.ReplaceAll(s, n.Old, n.New)
	}
	return result(x, n.To, v)
}

// Regex applies a regular expression.
type Regex struct {
	Value       workflow.Template `json:"value"`
	Pattern     string            `json:"pattern"`
	Operation   string            `json:"operation"`
	Replacement string            `json:"replacement"`
	To          workflow.Ref      `json:"to"`
	re          *regexp.Regexp
}

// Validate implements workflow.Validator.
func (n *Regex) Validate() error {
	re, err := regexp.Compile(n.Pattern)
	if err != nil {
		return workflow.FieldErrorf("pattern", "%v", err)
	}
	n.re = re
	return nil
}

// maxMatches bounds find-all.
const maxMatches = 1000

// Run implements workflow.Action.
func (n *Regex) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	s := x.Render(n.Value)
	var v any
	switch n.Operation {
	case "match":
		v = n.re.MatchString(s)
	case "extract":
		m := n.re.FindStringSubmatch(s)
		if m == nil {
			break
		}
		named := map[string]any{}
		for i, name := range n.re.SubexpNames() {
			if name != "" {
				named[name] = m[i]
			}
		}
		if len(named) > 0 {
			v = named
			break
		}
		groups := make([]any, 0, len(m)-1)
		for _, g := range m[1:] {
			groups = append(groups, g)
		}
		v = groups
	case "find-all":
		all := []any{}
		for _, m := range n.re.FindAllString(s, maxMatches) {
			all = append(all, m)
		}
		v = all
	case "replace":
		v = n.re.ReplaceAllString(s, n.Replacement)
	}
	return result(x, n.To, v)
}

// URLParse splits a URL.
type URLParse struct {
	URL workflow.Template `json:"url"`
	To  workflow.Ref      `json:"to"`
}

// Run implements workflow.Action.
func (n *URLParse) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	raw := strings.TrimSpace(x.Render(n.URL))
	if raw == "" {
		return nil, errors.New("the URL is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing URL: %w", err)
	}
	q := map[string]any{}
	for k, vs := range u.Query() {
		if len(vs) == 1 {
			q[k] = vs[0]
			continue
		}
		list := make([]any, len(vs))
		for i, v := range vs {
			list[i] = v
		}
		q[k] = list
	}
	return result(x, n.To, map[string]any{
		"scheme": u.Scheme, "host": u.Host, "hostname": u.Hostname(), "port": u.Port(), "path": u.Path,
		"query": q, "raw_query": u.RawQuery, "fragment": u.Fragment,
	})
}

// DateOp computes with dates.
type DateOp struct {
	Value     workflow.Template `json:"value"`
	Operation string            `json:"operation"`
	Layout    string            `json:"layout"`
	Offset    string            `json:"offset"`
	To        workflow.Ref      `json:"to"`
	offset    time.Duration
}

// Validate implements workflow.Validator.
func (n *DateOp) Validate() error {
	if n.Operation == "add" {
		if n.Offset == "" {
			return workflow.FieldErrorf("offset", "is required for add")
		}
		d, err := query.ParseOffset(n.Offset)
		if err != nil {
			return workflow.FieldErrorf("offset", "%v", err)
		}
		n.offset = d
	}
	return nil
}

func parseDate(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return now.UTC(), nil
	}
	if t, ok := query.ParseTime(s); ok {
		return t.UTC(), nil
	}
	if f, ok := workflow.ToNumber(s); ok {
		return time.Unix(0, int64(f*1e9)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date", s)
}

func format(t time.Time, layout string) any {
	switch layout {
	case "rfc3339":
		return t.Format(time.RFC3339Nano)
	case "date":
		return t.Format(time.DateOnly)
	case "time":
		return t.Format(time.TimeOnly)
	case "unix":
		return float64(t.Unix())
	case "unix_ms":
		return float64(t.UnixMilli())
	}
	return t.Format(layout)
}

// Run implements workflow.Action.
func (n *DateOp) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	t, err := parseDate(x.Render(n.Value), x.Now())
	if err != nil {
		return nil, err
	}
	var v any
	switch n.Operation {
	case "format":
		v = format(t, n.Layout)
	case "add":
		v = format(t.Add(n.offset), n.Layout)
	case "parts":
		y, w := t.ISOWeek()
		v = map[string]any{"year": float64(t.Year()), "month": float64(t.Month()), "day": float64(t.Day()),
			"hour": float64(t.Hour()), "minute": float64(t.Minute()), "second": float64(t.Second()),
			"weekday": t.Weekday().String(), "iso_year": float64(y), "iso_week": float64(w), "unix": float64(t.Unix())}
	case "since":
		v = math.Round(x.Now().Sub(t).Seconds()*1000) / 1000
	}
	return result(x, n.To, v)
}

// Math computes with numbers.
type Math struct {
	Operation string         `json:"operation"`
	A         workflow.Value `json:"a"`
	B         workflow.Value `json:"b"`
	Precision int            `json:"precision"`
	To        workflow.Ref   `json:"to"`
}

func unary(op string) bool {
	switch op {
	case "round", "floor", "ceil", "abs":
		return true
	}
	return false
}

// Validate implements workflow.Validator.
func (n *Math) Validate() error {
	if !unary(n.Operation) && !n.B.IsSet() {
		return workflow.FieldErrorf("b", "is required for %s", n.Operation)
	}
	return nil
}

// Run implements workflow.Action.
func (n *Math) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	a, ok := workflow.ToNumber(x.Resolve(n.A))
	if !ok {
		return nil, fmt.Errorf("a is %s, not a number", workflow.Text(x.Resolve(n.A)))
	}
	var b float64
	if !unary(n.Operation) {
		if b, ok = workflow.ToNumber(x.Resolve(n.B)); !ok {
			return nil, fmt.Errorf("b is %s, not a number", workflow.Text(x.Resolve(n.B)))
		}
	}
	var v float64
	switch n.Operation {
	case "add":
		v = a + b
	case "subtract":
		v = a - b
	case "multiply":
		v = a * b
	case "divide", "modulo":
		if b == 0 {
			return nil, errors.New("division by zero")
		}
		if v = a / b; n.Operation == "modulo" {
			v = math.Mod(a, b)
		}
	case "power":
		v = math.Pow(a, b)
	case "min":
		v = math.Min(a, b)
	case "max":
		v = math.Max(a, b)
	case "round":
		p := math.Pow(10, float64(n.Precision))
		v = math.Round(a*p) / p
	case "floor":
		v = math.Floor(a)
	case "ceil":
		v = math.Ceil(a)
	case "abs":
		v = math.Abs(a)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, fmt.Errorf("%s of %v and %v is not a finite number", n.Operation, a, b)
	}
	return result(x, n.To, v)
}

// HashData hashes values in place.
type HashData struct {
	Refs      []workflow.Ref `json:"refs"`
	Algorithm string         `json:"algorithm"`
	Salt      string         `json:"salt"`
}

func (n *HashData) newHash() hash.Hash {
	switch n.Algorithm {
	case "sha512":
		return sha512.New()
	case "sha1":
		return sha1.New()
	case "md5":
		return md5.New()
	}
	return sha256.New()
}

// Run implements workflow.Action.
func (n *HashData) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	for _, r := range n.Refs {
		v, ok := x.Get(r)
		if !ok || v == nil {
			continue
		}
		h := n.newHash()
		h.Write([]byte(n.Salt))
		h.Write([]byte(workflow.Text(v)))
		if err := x.Set(r, hex.EncodeToString(h.Sum(nil))); err != nil {
			return nil, err
		}
	}
	return workflow.Pass(x), nil
}

// MaskData masks values in place.
type MaskData struct {
	Refs     []workflow.Ref `json:"refs"`
	Mode     string         `json:"mode"`
	KeepLast int            `json:"keep_last"`
	MaskChar string         `json:"mask_char"`
}

// Run implements workflow.Action.
func (n *MaskData) Run(_ context.Context, x *workflow.Exec, _ workflow.Input) ([]workflow.Out, error) {
	for _, r := range n.Refs {
		v, ok := x.Get(r)
		if !ok || v == nil {
			continue
		}
		if n.Mode == "remove" {
			if err := x.Delete(r); err != nil {
				return nil, err
			}
			continue
		}
		s := workflow.Text(v)
		var masked string
		if n.Mode == "email" {
			masked = maskEmail(s, n.MaskChar)
		} else {
			masked = mask(s, n.KeepLast, n.MaskChar)
		}
		if err := x.Set(r, masked); err != nil {
			return nil, err
		}
	}
	return workflow.Pass(x), nil
}

func mask(s string, keep int, char string) string {
	runes := []rune(s)
	if keep > len(runes) {
		keep = len(runes)
	}
	return strings.Repeat(char, len(runes)-keep) + string(runes[len(runes)-keep:])
}

func maskEmail(s, char string) string {
	local, domain, ok := strings.Cut(s, "@")
	if !ok {
		return mask(s, 0, char)
	}
	r, size := utf8.DecodeRuneInString(local)
	if local == "" {
		return "@" + domain
	}
	return string(r) + strings.Repeat(char, max(utf8.RuneCountInString(local[size:]), 3)) + "@" + domain
}

var (
	_ workflow.Action    = (*StringOp)(nil)
	_ workflow.Validator = (*StringOp)(nil)
	_ workflow.Action    = (*Regex)(nil)
	_ workflow.Validator = (*Regex)(nil)
	_ workflow.Action    = (*URLParse)(nil)
	_ workflow.Action    = (*DateOp)(nil)
	_ workflow.Validator = (*DateOp)(nil)
	_ workflow.Action    = (*Math)(nil)
	_ workflow.Validator = (*Math)(nil)
	_ workflow.Action    = (*HashData)(nil)
	_ workflow.Action    = (*MaskData)(nil)
)
