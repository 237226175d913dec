package sqlgen

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thamesthrive/thamesthrive/internal/query"
)

// MaxFieldComparisons bounds the comparisons between two fields in one
// condition: each reads the walk of the document twice, and SQLite
// accepts a few hundred such reads in a statement.
const MaxFieldComparisons = 100

// Options say where each scope's document is.
type Options struct {
	// Columns maps a scope to the SQL expression holding its JSON
	// document, such as "profile": "p.doc". A condition naming a scope
	// that has no column is an error.
	Columns map[string]string
	// Now is the instant now() stands for; zero means time.Now().
	Now time.Time
}

// Where returns a WHERE fragment equivalent to e, with positional ?
// parameters and their values.
func Where(e query.Expr, o Options) (sql string, args []any, err error) {
	if e == nil {
		return "", nil, fmt.Errorf("generating SQL: nil expression")
	}
	g := &gen{opts: o, now: o.Now, fids: map[string]int{}, scopeIdx: map[string]int{}}
	if g.now.IsZero() {
		g.now = time.Now()
	}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bail)
			if !ok {
				panic(r)
			}
			sql, args, err = "", nil, b.err
		}
	}()
	var cond strings.Builder
	g.expr(&cond, e)
	return g.assemble(cond.String()), g.args, nil
}

type bail struct{ err error }

// gen collects the fields a condition reads and the tests it makes of
// their values. The SQL it assembles walks every field once, in one
// recursive CTE (qw), computes each test as an aggregate over the walk
// (qr.cN is 1 when some value passes test N), and combines the tests
// with the boolean structure of the condition.
type gen struct {
	opts     Options
	now      time.Time
	args     []any
	fields   []fieldRef
	fids     map[string]int
	scopes   []string // scope index → column expression
	scopeIdx map[string]int
	tests    []string
	fast     []string // tests on directly read values, "" when not possible
	pairs    int
}

type fieldRef struct {
	scope  int
	path   []string
	direct string // SQL string of the JSON path, "" when it has an index
}

func (g *gen) fail(err error) { panic(bail{err}) }

// field is a field operand: its walk id and its case folding.
type field struct {
	fid  int
	n    int    // path length
	fold string // "", "lower" or "upper"
}

func (g *gen) field(o query.Operand) field {
	var f *query.Field
	fold := ""
	switch o := o.(type) {
	case *query.Field:
		f = o
	case *query.CaseFunc:
		f = o.Field
		fold = "lower"
		if o.Upper {
			fold = "upper"
		}
	}
	if f == nil {
		g.fail(query.Errorf(o, "expected a field, found %s", o))
	}
	col, ok := g.opts.Columns[f.Scope]
	if !ok || col == "" {
		g.fail(query.Errorf(f, "scope %s cannot be used here (available: %s)", f.Scope, scopes(g.opts.Columns)))
	}
	if len(f.Path) == 0 {
		g.fail(query.Errorf(f, "empty path"))
	}
	for _, s := range f.Path {
		if !query.ValidSegment(s) {
			g.fail(query.Errorf(f, "invalid path segment %q", s))
		}
	}
	sc, ok := g.scopeIdx[f.Scope]
	if !ok {
		sc = len(g.scopes)
		g.scopeIdx[f.Scope] = sc
		g.scopes = append(g.scopes, col)
	}
	key := f.Scope + "@" + strings.Join(f.Path, ".")
	fid, ok := g.fids[key]
	if !ok {
		fid = len(g.fields)
		g.fids[key] = fid
		ref := fieldRef{scope: sc, path: f.Path, direct: "$"}
		for _, s := range f.Path {
			if _, isIndex := query.Index(s); isIndex {
				ref.direct = ""
				break
			}
			ref.direct += `."` + s + `"`
		}
		if ref.direct != "" {
			ref.direct = sqlString(ref.direct)
		}
		g.fields = append(g.fields, ref)
	}
	return field{fid: fid, n: len(f.Path), fold: fold}
}

func scopes(cols map[string]string) string {
	var s []string
	for k := range cols {
		s = append(s, k)
	}
	slices.Sort(s)
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// doc returns the document of the scope held in column sc of alias a.
func (g *gen) doc(a string) string {
	if len(g.scopes) == 1 {
		return g.scopes[0]
	}
	var b strings.Builder
	b.WriteString("CASE " + a + ".sc")
	for i, c := range g.scopes {
		b.WriteString(" WHEN " + strconv.Itoa(i) + " THEN " + c)
	}
	b.WriteString(" END")
	return b.String()
}

// assemble writes the whole fragment around cond, the boolean
// combination of the tests.
//
// When every field of the condition can be read directly and, in the
// row at hand, holds a value that is neither an object nor an array or
// is missing with no array on the way, the walk would find that value
// alone (or nothing): the fragment then evaluates the tests on it
// without walking.
func (g *gen) assemble(cond string) string {
	var b strings.Builder
	w := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
	}
	fast := g.pairs == 0
	var plain, cols []string
	for i, f := range g.fields {
		if f.direct == "" {
			fast = false
			break
		}
		d := g.scopes[f.scope]
		id := strconv.Itoa(i)
		cols = append(cols, "json_type("+d+", "+f.direct+") AS t"+id, "json_extract("+d+", "+f.direct+") AS v"+id)
		typ := "qd.t" + id
		cond := typ + " NOT IN ('object', 'array')"
		if len(f.path) > 1 {
			var prefixes []string
			p := "$"
			for _, s := range f.path[:len(f.path)-1] {
				p += `."` + s + `"`
				prefixes = append(prefixes, "json_type("+d+", "+sqlString(p)+") IS 'array'")
			}
			cond += " OR (" + typ + " IS NULL AND NOT (" + strings.Join(prefixes, " OR ") + "))"
		} else {
			cond += " OR " + typ + " IS NULL"
		}
		plain = append(plain, "("+cond+")")
	}
	if fast {
		// The values are read once, in qd, and tested there.
		w("(SELECT CASE WHEN ", strings.Join(plain, " AND "), " THEN ", render(cond, func(i int) string { return g.fast[i] }), " ELSE ")
		g.args = append(slices.Clone(g.args), g.args...)
	}
	cond = render(cond, func(i int) string { return "qr.c" + strconv.Itoa(i) })
	// qf: one row per field; p is its JSON path when no segment is an
	// array index, so that it can be read directly.
	w("EXISTS (WITH RECURSIVE qf(fid, sc, n, p) AS (VALUES ")
	for i, f := range g.fields {
		if i > 0 {
			w(", ")
		}
		direct := "NULL"
		if f.direct != "" {
			direct = f.direct
		}
		w("(", strconv.Itoa(i), ", ", strconv.Itoa(f.scope), ", ", strconv.Itoa(len(f.path)), ", ", direct, ")")
	}
	// qs: the segments of every field; idx is set for array indexes.
	w("), qs(fid, i, seg, idx) AS (VALUES ")
	first := true
	for fid, f := range g.fields {
		for i, s := range f.path {
			if !first {
				w(", ")
			}
			first = false
			idx := "NULL"
			if k, ok := query.Index(s); ok {
				idx = strconv.Itoa(k)
			}
			w("(", strconv.Itoa(fid), ", ", strconv.Itoa(i), ", ", sqlString(s), ", ", idx, ")")
		}
	}
	// qw: the walk. A field whose path leads through objects to a value
	// starts there; the others are walked from the root with json_each:
	// object members by name,
	// array elements by index for index segments, every element
	// otherwise (qi stays, so nested arrays flatten), and arrays at the
	// end of the path are flattened too.
	qfDoc := g.doc("qf")
	typ := "json_type(" + qfDoc + ", qf.p)"
	w("), qw(fid, sc, qk, qi, qt, qv) AS (",
		"SELECT qf.fid, qf.sc, qf.p, qf.n, ", typ, ", json_extract(", qfDoc, ", qf.p) FROM qf",
		" WHERE qf.p IS NOT NULL AND ", typ, " IS NOT NULL",
		" UNION ALL SELECT qf.fid, qf.sc, '$', 0, 'object', NULL FROM qf",
		" WHERE qf.p IS NULL OR ", typ, " IS NULL",
		" UNION ALL SELECT qw.fid, qw.sc, qe.fullkey,",
		" CASE WHEN qw.qt = 'array' AND qs.idx IS NULL THEN qw.qi ELSE qw.qi + 1 END, qe.type, qe.atom",
		" FROM qw LEFT JOIN qs ON qs.fid = qw.fid AND qs.i = qw.qi, json_each(", g.doc("qw"), ", qw.qk) AS qe",
		" WHERE (qw.qt = 'object' AND qe.key = qs.seg) OR (qw.qt = 'array' AND (qe.key = qs.idx OR qs.idx IS NULL)))",
		" SELECT 1 FROM (SELECT count(*) AS qn")
	for i, t := range g.tests {
		w(", coalesce(max(", t, "), 0) AS c", strconv.Itoa(i))
	}
	w(" FROM qw) AS qr WHERE ", cond, ")")
	if fast {
		w(" END FROM (SELECT ", strings.Join(cols, ", "), ") AS qd)")
	}
	return b.String()
}

// val names a value under test: its json_type, its SQL value, its JSON
// path and its document.
type val struct{ t, v, k, doc string }

// test registers a test of the values of fd and returns a placeholder
// for the expression that is true when some value passes it. pred
// writes the condition on one value into b, adding its parameters to
// args. Tests are referenced once each, in the order they are made.
func (g *gen) test(fd field, pred func(b *strings.Builder, args *[]any, x val)) string {
	var b strings.Builder
	var args []any
	b.WriteString("CASE WHEN qw.fid = " + strconv.Itoa(fd.fid) + " AND qw.qi = " + strconv.Itoa(fd.n) +
		" AND qw.qt <> 'array' AND (")
	pred(&b, &args, val{t: "qw.qt", v: "qw.qv", k: "qw.qk", doc: g.doc("qw")})
	b.WriteString(") THEN 1 ELSE 0 END")
	g.tests = append(g.tests, b.String())
	g.args = append(g.args, args...)

	if f := g.fields[fd.fid]; f.direct != "" {
		id := strconv.Itoa(fd.fid)
		b.Reset()
		b.WriteString("CASE WHEN ")
		var discard []any
		pred(&b, &discard, val{t: "qd.t" + id, v: "qd.v" + id, k: f.direct, doc: g.scopes[f.scope]})
		b.WriteString(" THEN 1 ELSE 0 END")
		g.fast = append(g.fast, b.String())
	} else {
		g.fast = append(g.fast, "")
	}
	return placeholder(len(g.tests) - 1)
}

func placeholder(i int) string { return "\x00" + strconv.Itoa(i) + "\x00" }

// render replaces the placeholders of cond by f(i).
func render(cond string, f func(i int) string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(cond, 0)
		if i < 0 {
			b.WriteString(cond)
			return b.String()
		}
		j := i + 1 + strings.IndexByte(cond[i+1:], 0)
		n, _ := strconv.Atoi(cond[i+1 : j])
		b.WriteString(cond[:i])
		b.WriteString(f(n))
		cond = cond[j+1:]
	}
}

func (g *gen) expr(b *strings.Builder, e query.Expr) {
	switch e := e.(type) {
	case *query.Binary:
		// Chains of one operator are written as balanced trees, so that
		// long chains stay within SQLite's expression depth limit.
		g.balanced(b, query.Terms(e, e.Op), " "+e.Op.String()+" ")
	case *query.Not:
		b.WriteString("NOT (")
		g.expr(b, e.X)
		b.WriteString(")")
	case *query.Check:
		g.check(b, e.Op, e.X)
	case *query.Compare:
		g.compare(b, e)
	case *query.Between:
		g.between(b, e)
	default:
		g.fail(fmt.Errorf("generating SQL: unexpected expression %T", e))
	}
}

func (g *gen) balanced(b *strings.Builder, terms []query.Expr, op string) {
	b.WriteString("(")
	if len(terms) == 1 {
		g.expr(b, terms[0])
	} else {
		mid := len(terms) / 2
		g.balanced(b, terms[:mid], op)
		b.WriteString(op)
		g.balanced(b, terms[mid:], op)
	}
	b.WriteString(")")
}

func (g *gen) exists(fd field) string {
	return g.test(fd, func(b *strings.Builder, _ *[]any, x val) {
		b.WriteString(x.t + " NOT IN ('null', 'object') OR (" + x.t + " = 'object' AND EXISTS (SELECT 1 FROM json_tree(" +
			x.doc + ", " + x.k + ") AS qx WHERE qx.type NOT IN ('null', 'object', 'array')))")
	})
}

func (g *gen) check(b *strings.Builder, op query.CheckOp, x query.Operand) {
	fd := g.field(x)
	neg, op := op.Negated()
	var s string
	switch op {
	case query.Exists:
		s = g.exists(fd)
	case query.IsNull:
		s = "NOT " + g.exists(fd)
	case query.Empty:
		ex := g.exists(fd)
		empty := g.test(fd, func(b *strings.Builder, _ *[]any, x val) { b.WriteString(isText(x.t) + " AND " + x.v + " = ''") })
		s = "(NOT " + ex + " OR " + empty + ")"
	}
	if neg {
		s = "NOT (" + s + ")"
	}
	b.WriteString(s)
}

// Kind tests on a json_type expression.
func isNum(t string) string  { return t + " IN ('integer', 'real')" }
func isText(t string) string { return t + " = 'text'" }
func isBool(t string) string { return t + " IN ('true', 'false')" }

// text returns the SQL value v folded as fd says.
func (fd field) text(v string) string {
	if fd.fold != "" {
		return fd.fold + "(" + v + ")"
	}
	return v
}

// litPred writes "value of fd op lit".
func litPred(b *strings.Builder, args *[]any, x val, fd field, op query.CompareOp, lit *query.Literal) {
	arg := func(v any) {
		*args = append(*args, v)
		b.WriteString("?")
	}
	switch lit.Kind {
	case query.KindNumber:
		if op == query.Contains {
			op = query.Eq
		}
		b.WriteString(isNum(x.t) + " AND " + x.v + " " + sqlOp(op) + " ")
		arg(lit.Num)
	case query.KindBool:
		if lit.Bool {
			b.WriteString(x.t + " = 'true'")
		} else {
			b.WriteString(x.t + " = 'false'")
		}
	case query.KindString:
		v := fd.text(x.v)
		b.WriteString(isText(x.t) + " AND ")
		n := strconv.Itoa(utf8.RuneCountInString(lit.Str))
		switch op {
		case query.Contains:
			b.WriteString("instr(" + v + ", ")
			arg(lit.Str)
			b.WriteString(") > 0")
		case query.StartsWith:
			b.WriteString("substr(" + v + ", 1, " + n + ") = ")
			arg(lit.Str)
		case query.EndsWith:
			if lit.Str == "" {
				b.WriteString("1")
				return
			}
			b.WriteString("substr(" + v + ", -" + n + ") = ")
			arg(lit.Str)
		default:
			b.WriteString(v + " " + sqlOp(op) + " ")
			arg(lit.Str)
		}
	default:
		b.WriteString("0")
	}
}

func sqlOp(op query.CompareOp) string {
	switch op {
	case query.Gt:
		return ">"
	case query.Ge:
		return ">="
	case query.Lt:
		return "<"
	case query.Le:
		return "<="
	}
	return "="
}

// kindsOf writes a test that a value has one of the kinds of lits.
func kindsOf(t string, lits []*query.Literal) string {
	var parts []string
	seen := map[query.Kind]bool{}
	for _, l := range lits {
		if seen[l.Kind] {
			continue
		}
		seen[l.Kind] = true
		switch l.Kind {
		case query.KindNumber:
			parts = append(parts, isNum(t))
		case query.KindString:
			parts = append(parts, isText(t))
		case query.KindBool:
			parts = append(parts, isBool(t))
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

func (g *gen) compare(b *strings.Builder, e *query.Compare) {
	fd := g.field(e.X)
	switch y := e.Y.(type) {
	case *query.Literal:
		if y.Kind == query.KindNull {
			switch e.Op {
			case query.Eq:
				g.check(b, query.IsNull, e.X)
				return
			case query.Ne:
				g.check(b, query.IsNotNull, e.X)
				return
			}
			g.fail(query.Errorf(e, "null can only follow == or !="))
		}
		if e.Op == query.Ne {
			kind := g.test(fd, func(b *strings.Builder, _ *[]any, x val) { b.WriteString(kindsOf(x.t, []*query.Literal{y})) })
			eq := g.test(fd, func(b *strings.Builder, args *[]any, x val) { litPred(b, args, x, fd, query.Eq, y) })
			b.WriteString("(" + kind + " AND NOT " + eq + ")")
			return
		}
		b.WriteString(g.test(fd, func(b *strings.Builder, args *[]any, x val) { litPred(b, args, x, fd, e.Op, y) }))
	case *query.List:
		anyOf := func(b *strings.Builder, args *[]any, x val) {
			for i, l := range y.Elems {
				if i > 0 {
					b.WriteString(" OR ")
				}
				b.WriteString("(")
				litPred(b, args, x, fd, query.Eq, l)
				b.WriteString(")")
			}
		}
		switch e.Op {
		case query.Eq:
			b.WriteString(g.test(fd, anyOf))
		case query.Ne:
			kind := g.test(fd, func(b *strings.Builder, _ *[]any, x val) { b.WriteString(kindsOf(x.t, y.Elems)) })
			eq := g.test(fd, anyOf)
			b.WriteString("(" + kind + " AND NOT " + eq + ")")
		case query.Contains:
			var all []string
			for _, l := range y.Elems {
				all = append(all, g.test(fd, func(b *strings.Builder, args *[]any, x val) { litPred(b, args, x, fd, query.Contains, l) }))
			}
			b.WriteString("(" + strings.Join(all, " AND ") + ")")
		default:
			g.fail(query.Errorf(e, "a list can only follow ==, != or CONTAINS"))
		}
	case *query.Now, *query.DateTime:
		if fd.fold != "" {
			g.fail(query.Errorf(e, "lower() and upper() cannot be compared with a date"))
		}
		bound := millisString(query.TimeAt(y, g.now))
		switch {
		case e.Op == query.Ne:
			kind := g.test(fd, func(b *strings.Builder, _ *[]any, x val) {
				b.WriteString(isText(x.t) + " AND " + dateOf(x.v) + " IS NOT NULL")
			})
			eq := g.test(fd, func(b *strings.Builder, args *[]any, x val) { datePred(b, args, x, query.Eq, bound) })
			b.WriteString("(" + kind + " AND NOT " + eq + ")")
		case e.Op == query.Eq || e.Op.IsOrdering():
			b.WriteString(g.test(fd, func(b *strings.Builder, args *[]any, x val) { datePred(b, args, x, e.Op, bound) }))
		default:
			g.fail(query.Errorf(e, "a date cannot follow %s", e.Op))
		}
	case *query.Field, *query.CaseFunc:
		g.pair(b, e.Op, fd, g.field(y))
	default:
		g.fail(query.Errorf(e, "unexpected operand %s", e.Y))
	}
}

func datePred(b *strings.Builder, args *[]any, x val, op query.CompareOp, bound string) {
	b.WriteString(isText(x.t) + " AND " + dateOf(x.v) + " " + sqlOp(op) + " julianday(?)")
	*args = append(*args, bound)
}

func millisString(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}

// dateOf returns the julianday of a text value v in one of the forms of
// query.ParseTime, with its fraction cut to milliseconds (julianday would
// round it), or NULL. julianday itself checks the ranges of the fields
// (month 1-12, day 1-31, rolling over like ParseTime, zone up to 14:00).
func dateOf(v string) string {
	rest := "ltrim(substr(" + v + ", 21), '0123456789')"
	tail := "substr(" + v + ", 20)"
	zone := func(s string) string {
		return "(" + s + " = 'Z' OR " + s + " GLOB '[+-][0-9][0-9]:[0-9][0-9]')"
	}
	digits := "(length(" + v + ") - 20 - length(" + rest + "))"
	shape := "(" + v + " GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]' OR (" +
		v + " GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]*'" +
		" AND substr(" + v + ", 12, 2) < '24' AND (" + zone(tail) +
		" OR (" + tail + " GLOB '.[0-9]*' AND " + zone(rest) + " AND " + digits + " BETWEEN 1 AND 9))))"
	trunc := "CASE WHEN substr(" + v + ", 20, 1) = '.' AND " + digits + " > 3 THEN substr(" + v + ", 1, 23) || " + rest +
		" ELSE " + v + " END"
	return "(CASE WHEN " + shape + " THEN julianday(" + trunc + ") END)"
}

func (g *gen) between(b *strings.Builder, e *query.Between) {
	fd := g.field(e.X)
	bad := func() { g.fail(query.Errorf(e, "BETWEEN bounds must be two numbers, two strings or two dates")) }
	var pred func(b *strings.Builder, args *[]any, x val)
	switch lo := e.Low.(type) {
	case *query.Literal:
		hi, ok := e.High.(*query.Literal)
		if !ok || hi.Kind != lo.Kind || (lo.Kind != query.KindNumber && lo.Kind != query.KindString) {
			bad()
		}
		low, high := any(lo.Num), any(hi.Num)
		if lo.Kind == query.KindString {
			low, high = lo.Str, hi.Str
		}
		pred = func(b *strings.Builder, args *[]any, x val) {
			v, check := x.v, isNum(x.t)
			if lo.Kind == query.KindString {
				v, check = fd.text(x.v), isText(x.t)
			}
			b.WriteString(check + " AND " + v + " >= ? AND " + v + " <= ?")
			*args = append(*args, low, high)
		}
	case *query.Now, *query.DateTime:
		if !query.IsDate(e.High) || fd.fold != "" {
			bad()
		}
		low, high := millisString(query.TimeAt(lo, g.now)), millisString(query.TimeAt(e.High, g.now))
		pred = func(b *strings.Builder, args *[]any, x val) {
			d := dateOf(x.v)
			b.WriteString(isText(x.t) + " AND " + d + " >= julianday(?) AND " + d + " <= julianday(?)")
			*args = append(*args, low, high)
		}
	default:
		bad()
	}
	b.WriteString(g.test(fd, pred))
}

// pair compares two fields value by value.
func (g *gen) pair(b *strings.Builder, op query.CompareOp, x, y field) {
	g.pairs++
	if g.pairs > MaxFieldComparisons {
		g.fail(fmt.Errorf("generating SQL: more than %d comparisons between fields: %w", MaxFieldComparisons, query.ErrUnsupported))
	}
	both := func(pred string) string {
		return "EXISTS (SELECT 1 FROM qw AS qa, qw AS qb WHERE qa.fid = " + strconv.Itoa(x.fid) +
			" AND qa.qi = " + strconv.Itoa(x.n) + " AND qb.fid = " + strconv.Itoa(y.fid) +
			" AND qb.qi = " + strconv.Itoa(y.n) + " AND (" + pred + "))"
	}
	a, c := x.text("qa.qv"), y.text("qb.qv")
	numbers := "(" + isNum("qa.qt") + " AND " + isNum("qb.qt") + ")"
	texts := "(" + isText("qa.qt") + " AND " + isText("qb.qt") + ")"
	bools := "(" + isBool("qa.qt") + " AND qa.qt = qb.qt)"
	equal := "(" + numbers + " AND qa.qv = qb.qv) OR (" + texts + " AND " + a + " = " + c + ") OR " + bools
	switch op {
	case query.Eq:
		b.WriteString(both(equal))
	case query.Ne:
		b.WriteString("(" + both(numbers+" OR "+texts+" OR ("+isBool("qa.qt")+" AND "+isBool("qb.qt")+")") +
			" AND NOT " + both(equal) + ")")
	case query.Gt, query.Ge, query.Lt, query.Le:
		o := sqlOp(op)
		b.WriteString(both("(" + numbers + " AND qa.qv " + o + " qb.qv) OR (" + texts + " AND " + a + " " + o + " " + c + ")"))
	case query.Contains:
		b.WriteString(both("(" + numbers + " AND qa.qv = qb.qv) OR (" + texts + " AND instr(" + a + ", " + c + ") > 0) OR " + bools))
	case query.StartsWith:
		b.WriteString(both(texts + " AND substr(" + a + ", 1, length(" + c + ")) = " + c))
	case query.EndsWith:
		b.WriteString(both(texts + " AND (length(" + c + ") = 0 OR substr(" + a + ", -length(" + c + ")) = " + c + ")"))
	}
}
