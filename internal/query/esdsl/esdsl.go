package esdsl

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/query"
)

// DateSubfield is the name of the date sub-field of every keyword.
const DateSubfield = "tt_date"

// dateFormat is the format of the date sub-field: the forms of
// query.ParseTime.
const dateFormat = "strict_date_time||strict_date_time_no_millis||strict_date"

// Mapping returns the mappings section (date detection, numeric
// detection and dynamic templates) that indices searched with this
// package must have. Stores may add explicit properties of their own.
func Mapping() map[string]any {
	return map[string]any{
		"date_detection":    false,
		"numeric_detection": false,
		"dynamic_templates": []any{
			map[string]any{"strings": map[string]any{
				"match_mapping_type": "string",
				"mapping": map[string]any{
					"type": "keyword", "ignore_above": 1024,
					"fields": map[string]any{DateSubfield: map[string]any{
						"type": "date", "format": dateFormat, "ignore_malformed": true,
					}},
				},
			}},
			map[string]any{"integers": map[string]any{
				"match_mapping_type": "long", "mapping": map[string]any{"type": "double"},
			}},
			map[string]any{"numbers": map[string]any{
				"match_mapping_type": "double", "mapping": map[string]any{"type": "double"},
			}},
		},
	}
}

// Kind is the mapped type of a field.
type Kind int

// Mapped kinds. Unmapped fields have no value in any document.
const (
	Unmapped Kind = iota
	Keyword
	Numeric
	Boolean
	Date
	Object
	OtherKind
)

// Kinds maps full field names (dotted) to their mapped kind.
type Kinds map[string]Kind

// KindsFromMapping reads the kinds of every field from a mapping: the
// answer of GET /<index>/_mapping (one index), a {"mappings": …} object
// or a bare {"properties": …} object. Multi-fields are included
// ("name.tt_date").
func KindsFromMapping(raw []byte) (Kinds, error) {
	type node struct {
		Type       string                     `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
		Fields     map[string]json.RawMessage `json:"fields"`
	}
	// Unwrap {"<index>": {"mappings": {…}}} down to {"properties": …}.
	for range 3 {
		var top map[string]json.RawMessage
		if err := json.Unmarshal(raw, &top); err != nil {
			return nil, fmt.Errorf("reading mapping: %w", err)
		}
		if _, ok := top["properties"]; ok {
			break
		}
		if inner, ok := top["mappings"]; ok {
			raw = inner
			continue
		}
		if len(top) != 1 {
			break
		}
		for _, inner := range top {
			raw = inner
		}
	}
	var root node
	if err := json.Unmarshal(raw, &root); err != nil {
		return nil, fmt.Errorf("reading mapping: %w", err)
	}
	kinds := Kinds{}
	var walk func(prefix string, props map[string]json.RawMessage) error
	walk = func(prefix string, props map[string]json.RawMessage) error {
		for name, raw := range props {
			var c node
			if err := json.Unmarshal(raw, &c); err != nil {
				return fmt.Errorf("reading mapping of %s%s: %w", prefix, name, err)
			}
			full := prefix + name
			kinds[full] = kindOfType(c.Type, c.Properties != nil)
			if err := walk(full+".", c.Properties); err != nil {
				return err
			}
			if err := walk(full+".", c.Fields); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk("", root.Properties); err != nil {
		return nil, err
	}
	return kinds, nil
}

func kindOfType(t string, hasProps bool) Kind {
	switch t {
	case "keyword", "constant_keyword", "wildcard", "text", "match_only_text":
		return Keyword
	case "long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float", "unsigned_long":
		return Numeric
	case "boolean":
		return Boolean
	case "date", "date_nanos":
		return Date
	case "object", "":
		if hasProps || t == "object" {
			return Object
		}
	}
	return OtherKind
}

// Options say where each scope's fields are in the index.
type Options struct {
	// Prefix maps a scope to the prefix of its fields ("" when the
	// documents of the index are that scope's documents). A condition
	// naming a scope without an entry is an error.
	Prefix map[string]string
	// Kinds gives the mapped kind of each field. Nil means unknown: each
	// field is assumed to hold the kind of what it is compared with.
	Kinds Kinds
	// Now is the instant now() stands for; zero means time.Now().
	Now time.Time
}

// Query returns the query ({"bool": …}, {"term": …}, …) equivalent to e.
func Query(e query.Expr, o Options) (map[string]any, error) {
	if e == nil {
		return nil, fmt.Errorf("generating search query: nil expression")
	}
	g := &gen{opts: o, now: o.Now}
	if g.now.IsZero() {
		g.now = time.Now()
	}
	return g.expr(e)
}

type gen struct {
	opts Options
	now  time.Time
}

type m = map[string]any

var (
	matchNone = func() m { return m{"match_none": m{}} }
)

func boolQ(clause string, qs ...m) m {
	list := make([]any, len(qs))
	for i, q := range qs {
		list[i] = q
	}
	b := m{clause: list}
	if clause == "should" {
		b["minimum_should_match"] = 1
	}
	return m{"bool": b}
}

func not(q m) m { return boolQ("must_not", q) }

func (g *gen) expr(e query.Expr) (m, error) {
	switch e := e.(type) {
	case *query.Binary:
		terms := query.Terms(e, e.Op)
		qs := make([]m, 0, len(terms))
		for _, t := range terms {
			q, err := g.expr(t)
			if err != nil {
				return nil, err
			}
			qs = append(qs, q)
		}
		if e.Op == query.Or {
			return boolQ("should", qs...), nil
		}
		return boolQ("filter", qs...), nil
	case *query.Not:
		q, err := g.expr(e.X)
		if err != nil {
			return nil, err
		}
		return not(q), nil
	case *query.Check:
		return g.check(e.Op, e.X)
	case *query.Compare:
		return g.compare(e)
	case *query.Between:
		return g.between(e)
	}
	return nil, fmt.Errorf("generating search query: unexpected expression %T", e)
}

// field is a field operand resolved to its index field.
type field struct {
	name string
	kind Kind // Unmapped when unknown and Options.Kinds is set
	fold string
	node query.Node
}

// known reports whether the generator knows mapped kinds.
func (g *gen) known() bool { return g.opts.Kinds != nil }

func (g *gen) field(o query.Operand) (field, error) {
	var f *query.Field
	fd := field{node: o}
	switch o := o.(type) {
	case *query.Field:
		f = o
	case *query.CaseFunc:
		f = o.Field
		fd.fold = "lower"
		if o.Upper {
			fd.fold = "upper"
		}
	}
	if f == nil || len(f.Path) == 0 {
		return fd, query.Errorf(o, "expected a field, found %s", o)
	}
	prefix, ok := g.opts.Prefix[f.Scope]
	if !ok {
		var s []string
		for k := range g.opts.Prefix {
			s = append(s, k)
		}
		slices.Sort(s)
		return fd, query.Errorf(f, "scope %s cannot be used here (available: %s)", f.Scope, strings.Join(s, ", "))
	}
	fd.name = prefix + strings.Join(f.Path, ".")
	for i, s := range f.Path {
		if _, isIndex := query.Index(s); !isIndex {
			continue
		}
		// A numeric segment is a key if the index has such a field, an
		// array position otherwise, which search cannot express.
		container := prefix + strings.Join(f.Path[:i], ".")
		if g.known() {
			if g.opts.Kinds[prefix+strings.Join(f.Path[:i+1], ".")] != Unmapped {
				continue
			}
			if g.opts.Kinds[container] == Unmapped {
				continue // nothing there at all: the field is missing
			}
		}
		return fd, query.Unsupported(f, "array position %s in %s is not supported in search", s, f)
	}
	if g.known() {
		fd.kind = g.opts.Kinds[fd.name]
	}
	return fd, nil
}

// accepts reports whether a field of kind k may hold values of the
// literal kind lk (always, when kinds are unknown).
func (g *gen) accepts(fd field, lk query.Kind) bool {
	if !g.known() {
		return true
	}
	switch lk {
	case query.KindString:
		return fd.kind == Keyword
	case query.KindNumber:
		return fd.kind == Numeric
	case query.KindBool:
		return fd.kind == Boolean
	}
	return false
}

func exists(name string) m { return m{"exists": m{"field": name}} }

func (g *gen) check(op query.CheckOp, x query.Operand) (m, error) {
	fd, err := g.field(x)
	if err != nil {
		return nil, err
	}
	neg, op := op.Negated()
	var q m
	switch op {
	case query.Exists:
		q = exists(fd.name)
	case query.IsNull:
		q = not(exists(fd.name))
	case query.Empty:
		q = not(exists(fd.name))
		if g.accepts(fd, query.KindString) {
			q = boolQ("should", q, m{"term": m{fd.name: m{"value": ""}}})
		}
	}
	if neg {
		q = not(q)
	}
	return q, nil
}

func (g *gen) compare(e *query.Compare) (m, error) {
	fd, err := g.field(e.X)
	if err != nil {
		return nil, err
	}
	switch y := e.Y.(type) {
	case *query.Literal:
		switch y.Kind {
		case query.KindNull:
			switch e.Op {
			case query.Eq:
				return g.check(query.IsNull, e.X)
			case query.Ne:
				return g.check(query.IsNotNull, e.X)
			}
			return nil, query.Errorf(e, "null can only follow == or !=")
		}
		if e.Op == query.Ne {
			return g.ne(fd, []*query.Literal{y})
		}
		return g.lit(fd, e.Op, y)
	case *query.List:
		switch e.Op {
		case query.Eq:
			return g.anyOf(fd, y.Elems)
		case query.Ne:
			return g.ne(fd, y.Elems)
		case query.Contains:
			qs := make([]m, 0, len(y.Elems))
			for _, l := range y.Elems {
				q, err := g.lit(fd, query.Contains, l)
				if err != nil {
					return nil, err
				}
				qs = append(qs, q)
			}
			return boolQ("filter", qs...), nil
		}
		return nil, query.Errorf(e, "a list can only follow ==, != or CONTAINS")
	case *query.Now, *query.DateTime:
		if fd.fold != "" {
			return nil, query.Errorf(e, "lower() and upper() cannot be compared with a date")
		}
		name, ok := g.dateField(fd)
		if !ok {
			return matchNone(), nil
		}
		bound := millisString(query.TimeAt(y, g.now))
		switch {
		case e.Op == query.Ne:
			return boolQ("filter", exists(name), not(m{"term": m{name: m{"value": bound}}})), nil
		case e.Op == query.Eq:
			return m{"term": m{name: m{"value": bound}}}, nil
		case e.Op.IsOrdering():
			return m{"range": m{name: m{rangeOp(e.Op): bound, "format": "strict_date_optional_time"}}}, nil
		}
		return nil, query.Errorf(e, "a date cannot follow %s", e.Op)
	case *query.Field, *query.CaseFunc:
		return nil, query.Unsupported(e, "comparing two fields is not supported in search")
	}
	return nil, query.Errorf(e, "unexpected operand %s", e.Y)
}

// dateField returns the field holding the instants of fd's values.
func (g *gen) dateField(fd field) (string, bool) {
	if !g.known() {
		return fd.name + "." + DateSubfield, true
	}
	switch fd.kind {
	case Date:
		return fd.name, true
	case Keyword:
		return fd.name + "." + DateSubfield, true
	}
	return "", false
}

func millisString(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}

func rangeOp(op query.CompareOp) string {
	switch op {
	case query.Gt:
		return "gt"
	case query.Ge:
		return "gte"
	case query.Lt:
		return "lt"
	}
	return "lte"
}

func literalValue(l *query.Literal) any {
	switch l.Kind {
	case query.KindNumber:
		return l.Num
	case query.KindBool:
		return l.Bool
	}
	return l.Str
}

// ne is "has a value of one of the kinds of lits, and none equals one".
func (g *gen) ne(fd field, lits []*query.Literal) (m, error) {
	comparable := false
	for _, l := range lits {
		if g.accepts(fd, l.Kind) {
			comparable = true
		}
	}
	if !comparable {
		return matchNone(), nil
	}
	eq, err := g.anyOf(fd, lits)
	if err != nil {
		return nil, err
	}
	return boolQ("filter", exists(fd.name), not(eq)), nil
}

func (g *gen) anyOf(fd field, lits []*query.Literal) (m, error) {
	var qs []m
	for _, l := range lits {
		if !g.accepts(fd, l.Kind) {
			continue
		}
		q, err := g.lit(fd, query.Eq, l)
		if err != nil {
			return nil, err
		}
		qs = append(qs, q)
	}
	switch len(qs) {
	case 0:
		return matchNone(), nil
	case 1:
		return qs[0], nil
	}
	return boolQ("should", qs...), nil
}

// lit compares fd with a string, number or boolean literal.
func (g *gen) lit(fd field, op query.CompareOp, l *query.Literal) (m, error) {
	if !g.accepts(fd, l.Kind) {
		return matchNone(), nil
	}
	if l.Kind != query.KindString {
		switch {
		case op == query.Eq || op == query.Contains:
			return m{"term": m{fd.name: m{"value": literalValue(l)}}}, nil
		case op.IsOrdering() && l.Kind == query.KindNumber:
			return m{"range": m{fd.name: m{rangeOp(op): l.Num}}}, nil
		}
		return matchNone(), nil
	}
	s := l.Str
	if fd.fold != "" {
		return g.folded(fd, op, s)
	}
	switch op {
	case query.Eq:
		return m{"term": m{fd.name: m{"value": s}}}, nil
	case query.Contains:
		return m{"wildcard": m{fd.name: m{"value": "*" + escapeWildcard(s) + "*"}}}, nil
	case query.StartsWith:
		return m{"prefix": m{fd.name: m{"value": s}}}, nil
	case query.EndsWith:
		return m{"wildcard": m{fd.name: m{"value": "*" + escapeWildcard(s)}}}, nil
	}
	return m{"range": m{fd.name: m{rangeOp(op): s}}}, nil
}

// folded compares lower(fd) or upper(fd) with a string.
func (g *gen) folded(fd field, op query.CompareOp, s string) (m, error) {
	upper := fd.fold == "upper"
	if op.IsOrdering() {
		return nil, query.Unsupported(fd.node, "ordering %s(…) is not supported in search", fd.fold)
	}
	// The fold never yields the other case of an ASCII letter.
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (!upper && c >= 'A' && c <= 'Z') || (upper && c >= 'a' && c <= 'z') {
			return matchNone(), nil
		}
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
		}
	}
	if ascii {
		// Case-insensitive queries fold Unicode letters too, which only
		// matters when the text has some.
		switch op {
		case query.Eq:
			return m{"term": m{fd.name: m{"value": s, "case_insensitive": true}}}, nil
		case query.StartsWith:
			return m{"prefix": m{fd.name: m{"value": s, "case_insensitive": true}}}, nil
		case query.Contains:
			return m{"wildcard": m{fd.name: m{"value": "*" + escapeWildcard(s) + "*", "case_insensitive": true}}}, nil
		case query.EndsWith:
			return m{"wildcard": m{fd.name: m{"value": "*" + escapeWildcard(s), "case_insensitive": true}}}, nil
		}
	}
	r := foldRegexp(s)
	switch op {
	case query.StartsWith:
		r += ".*"
	case query.Contains:
		r = ".*" + r + ".*"
	case query.EndsWith:
		r = ".*" + r
	}
	return m{"regexp": m{fd.name: m{"value": r, "flags": "NONE"}}}, nil
}

func escapeWildcard(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '*' || r == '?' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// foldRegexp matches s with each ASCII letter in either case and every
// other character literally.
func foldRegexp(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			lo, up := r|0x20, r&^0x20
			b.WriteString("[" + string(lo) + string(up) + "]")
		case r >= '0' && r <= '9' || r >= 0x80:
			b.WriteRune(r)
		default:
			b.WriteByte('\\')
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (g *gen) between(e *query.Between) (m, error) {
	fd, err := g.field(e.X)
	if err != nil {
		return nil, err
	}
	switch lo := e.Low.(type) {
	case *query.Literal:
		hi, ok := e.High.(*query.Literal)
		if !ok || hi.Kind != lo.Kind || (lo.Kind != query.KindNumber && lo.Kind != query.KindString) {
			break
		}
		if !g.accepts(fd, lo.Kind) {
			return matchNone(), nil
		}
		if fd.fold != "" && lo.Kind == query.KindString {
			return nil, query.Unsupported(e, "ordering %s(…) is not supported in search", fd.fold)
		}
		return m{"range": m{fd.name: m{"gte": literalValue(lo), "lte": literalValue(hi)}}}, nil
	case *query.Now, *query.DateTime:
		if !query.IsDate(e.High) || fd.fold != "" {
			break
		}
		name, ok := g.dateField(fd)
		if !ok {
			return matchNone(), nil
		}
		return m{"range": m{name: m{
			"gte": millisString(query.TimeAt(lo, g.now)), "lte": millisString(query.TimeAt(e.High, g.now)),
			"format": "strict_date_optional_time",
		}}}, nil
	}
	return nil, query.Errorf(e, "BETWEEN bounds must be two numbers, two strings or two dates")
}
