package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/query"
)

// Documents gives the evaluator the documents of each scope.
type Documents interface {
	// Lookup returns the value at path in the scope's document, following
	// objects (and, optionally, array indexes), or false. With an empty
	// path it returns the whole document. When Lookup of a full path
	// fails, the evaluator looks up the whole document and follows arrays
	// itself.
	Lookup(scope string, path []string) (any, bool)
}

// Maps holds one JSON-like document per scope.
type Maps map[string]map[string]any

// Lookup implements Documents.
func (m Maps) Lookup(scope string, path []string) (any, bool) {
	doc, ok := m[scope]
	if !ok || doc == nil {
		return nil, false
	}
	if len(path) == 0 {
		return doc, true
	}
	v, ok := doc[path[0]]
	for _, seg := range path[1:] {
		if !ok {
			return nil, false
		}
		obj, isObj := v.(map[string]any)
		if !isObj {
			return nil, false
		}
		v, ok = obj[seg]
	}
	return v, ok
}

// Eval compiles and evaluates e. It reports false for an expression that
// does not compile. Use Compile for conditions evaluated many times.
func Eval(e query.Expr, docs Documents, now time.Time) bool {
	p, err := Compile(e)
	if err != nil {
		return false
	}
	return p.Eval(docs, now)
}

// Program is a compiled condition. It is safe for concurrent use.
type Program struct {
	root node
	src  string
}

// String returns the condition the program was compiled from.
func (p *Program) String() string { return p.src }

// Eval evaluates the program against docs; now is the instant now() and
// now.offset(…) refer to.
func (p *Program) Eval(docs Documents, now time.Time) bool {
	return p.root.eval(docs, now)
}

// Compile turns e into a Program.
func Compile(e query.Expr) (*Program, error) {
	if e == nil {
		return nil, fmt.Errorf("compiling condition: nil expression")
	}
	n, err := compile(e)
	if err != nil {
		return nil, fmt.Errorf("compiling condition: %w", err)
	}
	return &Program{root: n, src: e.String()}, nil
}

type node interface {
	eval(d Documents, now time.Time) bool
}

// matcher tests one value found at a path.
type matcher interface {
	match(v any, now time.Time) bool
}

func compile(e query.Expr) (node, error) {
	switch e := e.(type) {
	case *query.Binary:
		x, err := compile(e.X)
		if err != nil {
			return nil, err
		}
		y, err := compile(e.Y)
		if err != nil {
			return nil, err
		}
		if e.Op == query.Or {
			return orNode{x, y}, nil
		}
		return andNode{x, y}, nil
	case *query.Not:
		x, err := compile(e.X)
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	case *query.Check:
		return compileCheck(e.Op, e.X)
	case *query.Compare:
		return compileCompare(e)
	case *query.Between:
		g, err := newGetter(e.X)
		if err != nil {
			return nil, err
		}
		lo, err1 := newBound(e.Low)
		hi, err2 := newBound(e.High)
		if err1 != nil || err2 != nil || lo.kind != hi.kind {
			return nil, query.Errorf(e, "BETWEEN bounds must be two numbers, two strings or two dates")
		}
		return &anyNode{g: g, m: &betweenMatcher{fold: g.fold, lo: lo, hi: hi}}, nil
	}
	return nil, fmt.Errorf("unexpected expression %T", e)
}

func compileCheck(op query.CheckOp, x query.Operand) (node, error) {
	g, err := newGetter(x)
	if err != nil {
		return nil, err
	}
	neg, op := op.Negated()
	var n node
	exists := &anyNode{g: g, m: presentMatcher{}}
	switch op {
	case query.Exists:
		n = exists
	case query.IsNull:
		n = notNode{exists}
	case query.Empty:
		n = orNode{notNode{exists}, &anyNode{g: g, m: &litMatcher{op: query.Eq, lit: value{kind: kString}}}}
	default:
		return nil, fmt.Errorf("unexpected check %v", op)
	}
	if neg {
		n = notNode{n}
	}
	return n, nil
}

func compileCompare(e *query.Compare) (node, error) {
	g, err := newGetter(e.X)
	if err != nil {
		return nil, err
	}
	switch y := e.Y.(type) {
	case *query.Literal:
		if y.Kind == query.KindNull {
			switch e.Op {
			case query.Eq:
				return compileCheck(query.IsNull, e.X)
			case query.Ne:
				return compileCheck(query.IsNotNull, e.X)
			}
			return nil, query.Errorf(e, "null can only follow == or !=")
		}
		v := literalValue(y)
		eq := &litMatcher{op: e.Op, fold: g.fold, lit: v}
		if e.Op == query.Ne {
			eq.op = query.Eq
			return &neNode{g: g, comparable: kindMatcher{kinds: kindSet(v.kind)}, equal: eq}, nil
		}
		return &anyNode{g: g, m: eq}, nil
	case *query.List:
		vals := make([]value, len(y.Elems))
		var kinds uint8
		for i, l := range y.Elems {
			vals[i] = literalValue(l)
			kinds |= kindSet(vals[i].kind)
		}
		switch e.Op {
		case query.Eq:
			return &anyNode{g: g, m: &listMatcher{fold: g.fold, vals: vals}}, nil
		case query.Ne:
			return &neNode{g: g, comparable: kindMatcher{kinds: kinds}, equal: &listMatcher{fold: g.fold, vals: vals}}, nil
		case query.Contains:
			all := &allNode{}
			for _, v := range vals {
				all.ns = append(all.ns, &anyNode{g: g, m: &litMatcher{op: query.Contains, fold: g.fold, lit: v}})
			}
			return all, nil
		}
		return nil, query.Errorf(e, "a list can only follow ==, != or CONTAINS")
	case *query.Now, *query.DateTime:
		if g.fold != 0 {
			return nil, query.Errorf(e, "lower() and upper() cannot be compared with a date")
		}
		dm := &dateMatcher{op: e.Op, bound: y}
		if e.Op == query.Ne {
			dm.op = query.Eq
			return &neNode{g: g, comparable: kindMatcher{kinds: bit(kDate)}, equal: dm}, nil
		}
		return &anyNode{g: g, m: dm}, nil
	case *query.Field, *query.CaseFunc:
		h, err := newGetter(y)
		if err != nil {
			return nil, err
		}
		return &pairNode{op: e.Op, x: g, y: h}, nil
	}
	return nil, query.Errorf(e, "unexpected operand %T", e.Y)
}

// getter finds the values of a field, folded for lower() and upper().
type getter struct {
	scope string
	path  []string
	index []int // index[i] >= 0 when path[i] is an array index
	fold  int   // 0, foldLower or foldUpper
}

const (
	foldLower = 1
	foldUpper = 2
)

func newGetter(o query.Operand) (*getter, error) {
	fold := 0
	f, ok := o.(*query.Field)
	if c, isCase := o.(*query.CaseFunc); isCase {
		f, ok = c.Field, c.Field != nil
		fold = foldLower
		if c.Upper {
			fold = foldUpper
		}
	}
	if !ok || f == nil {
		return nil, query.Errorf(o, "expected a field, found %s", o)
	}
	g := &getter{scope: f.Scope, path: f.Path, index: make([]int, len(f.Path)), fold: fold}
	for i, s := range f.Path {
		g.index[i] = -1
		if n, ok := query.Index(s); ok {
			g.index[i] = n
		}
	}
	return g, nil
}

// any reports whether some value of the field satisfies m.
func (g *getter) any(d Documents, m matcher, now time.Time) bool {
	if v, ok := d.Lookup(g.scope, g.path); ok {
		return leaves(v, m, now)
	}
	root, ok := d.Lookup(g.scope, nil)
	if !ok || len(g.path) == 0 {
		return false
	}
	return g.walk(root, 0, m, now)
}

func (g *getter) walk(v any, i int, m matcher, now time.Time) bool {
	if i == len(g.path) {
		return leaves(v, m, now)
	}
	switch c := v.(type) {
	case map[string]any:
		child, ok := c[g.path[i]]
		return ok && g.walk(child, i+1, m, now)
	case []any:
		if n := g.index[i]; n >= 0 {
			return n < len(c) && g.walk(c[n], i+1, m, now)
		}
		for _, e := range c {
			if g.walk(e, i, m, now) {
				return true
			}
		}
		return false
	case nil, string, float64, bool:
		return false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return false
		}
		child := rv.MapIndex(reflect.ValueOf(g.path[i]).Convert(rv.Type().Key()))
		return child.IsValid() && g.walk(child.Interface(), i+1, m, now)
	case reflect.Slice, reflect.Array:
		if _, isBytes := v.([]byte); isBytes {
			return false
		}
		if n := g.index[i]; n >= 0 {
			return n < rv.Len() && g.walk(rv.Index(n).Interface(), i+1, m, now)
		}
		for k := 0; k < rv.Len(); k++ {
			if g.walk(rv.Index(k).Interface(), i, m, now) {
				return true
			}
		}
	}
	return false
}

// values collects the scalar values of the field (for comparisons
// between two fields).
func (g *getter) values(d Documents, now time.Time) []value {
	var c collector
	g.any(d, &c, now)
	for i := range c.vals {
		c.vals[i] = c.vals[i].folded(g.fold)
	}
	return c.vals
}

type collector struct{ vals []value }

func (c *collector) match(v any, _ time.Time) bool {
	if s := scalar(v); s.kind != kOther && s.kind != kNull {
		c.vals = append(c.vals, s)
	}
	return false
}

// leaves applies m to v, or to each element of v (flattened) if v is an
// array, and reports whether one matched.
func leaves(v any, m matcher, now time.Time) bool {
	switch c := v.(type) {
	case []any:
		for _, e := range c {
			if leaves(e, m, now) {
				return true
			}
		}
		return false
	case nil, string, float64, bool, map[string]any:
		return m.match(v, now)
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
		if _, isBytes := v.([]byte); !isBytes {
			for k := 0; k < rv.Len(); k++ {
				if leaves(rv.Index(k).Interface(), m, now) {
					return true
				}
			}
			return false
		}
	}
	return m.match(v, now)
}

type andNode struct{ x, y node }

func (n andNode) eval(d Documents, now time.Time) bool { return n.x.eval(d, now) && n.y.eval(d, now) }

type orNode struct{ x, y node }

func (n orNode) eval(d Documents, now time.Time) bool { return n.x.eval(d, now) || n.y.eval(d, now) }

type notNode struct{ x node }

func (n notNode) eval(d Documents, now time.Time) bool { return !n.x.eval(d, now) }

type anyNode struct {
	g *getter
	m matcher
}

func (n *anyNode) eval(d Documents, now time.Time) bool { return n.g.any(d, n.m, now) }

type allNode struct{ ns []node }

func (n *allNode) eval(d Documents, now time.Time) bool {
	for _, x := range n.ns {
		if !x.eval(d, now) {
			return false
		}
	}
	return true
}

// neNode is "has a comparable value and none equal".
type neNode struct {
	g                 *getter
	comparable, equal matcher
}

func (n *neNode) eval(d Documents, now time.Time) bool {
	return n.g.any(d, n.comparable, now) && !n.g.any(d, n.equal, now)
}

// pairNode compares two fields value by value.
type pairNode struct {
	op   query.CompareOp
	x, y *getter
}

func (n *pairNode) eval(d Documents, now time.Time) bool {
	xs := n.x.values(d, now)
	if len(xs) == 0 {
		return false
	}
	ys := n.y.values(d, now)
	comparable, equal := false, false
	for _, x := range xs {
		for _, y := range ys {
			if x.kind != y.kind {
				continue
			}
			comparable = true
			if n.op == query.Ne {
				if compareValues(query.Eq, x, y) {
					equal = true
				}
				continue
			}
			if compareValues(n.op, x, y) {
				return true
			}
		}
	}
	return n.op == query.Ne && comparable && !equal
}

// Value kinds. Dates are strings that parse as times.
const (
	kOther = iota
	kNull
	kString
	kNumber
	kBool
	kDate
)

func bit(k int) uint8 { return 1 << k }

func kindSet(k int) uint8 { return bit(k) }

type value struct {
	kind int
	s    string
	n    float64
	b    bool
	t    time.Time // set for time.Time values
}

func literalValue(l *query.Literal) value {
	switch l.Kind {
	case query.KindString:
		return value{kind: kString, s: l.Str}
	case query.KindNumber:
		return value{kind: kNumber, n: l.Num}
	case query.KindBool:
		return value{kind: kBool, b: l.Bool}
	}
	return value{kind: kNull}
}

// scalar classifies a document value.
func scalar(v any) value {
	switch x := v.(type) {
	case string:
		return value{kind: kString, s: x}
	case float64:
		return value{kind: kNumber, n: x}
	case bool:
		return value{kind: kBool, b: x}
	case nil:
		return value{kind: kNull}
	case int:
		return value{kind: kNumber, n: float64(x)}
	case int64:
		return value{kind: kNumber, n: float64(x)}
	case int32:
		return value{kind: kNumber, n: float64(x)}
	case float32:
		return value{kind: kNumber, n: float64(x)}
	case uint:
		return value{kind: kNumber, n: float64(x)}
	case uint64:
		return value{kind: kNumber, n: float64(x)}
	case uint32:
		return value{kind: kNumber, n: float64(x)}
	case int16:
		return value{kind: kNumber, n: float64(x)}
	case int8:
		return value{kind: kNumber, n: float64(x)}
	case uint16:
		return value{kind: kNumber, n: float64(x)}
	case uint8:
		return value{kind: kNumber, n: float64(x)}
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil || math.IsInf(f, 0) {
			return value{kind: kOther}
		}
		return value{kind: kNumber, n: f}
	case time.Time:
		return value{kind: kString, s: x.UTC().Format(time.RFC3339Nano), t: x}
	}
	return value{kind: kOther}
}

func (v value) folded(fold int) value {
	if fold != 0 && v.kind == kString {
		v.s = foldASCII(v.s, fold == foldUpper)
		v.t = time.Time{}
	}
	return v
}

// foldASCII changes the case of ASCII letters only, as SQLite's lower()
// and upper() do. It does not allocate when nothing changes.
func foldASCII(s string, upper bool) string {
	from, to := byte('A'), byte('Z')
	if upper {
		from, to = 'a', 'z'
	}
	i := 0
	for i < len(s) && (s[i] < from || s[i] > to) {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if b[i] >= from && b[i] <= to {
			b[i] ^= 0x20
		}
	}
	return string(b)
}

// millis returns the instant a value names, at millisecond precision.
func (v value) millis() (int64, bool) {
	if v.kind != kString {
		return 0, false
	}
	if !v.t.IsZero() {
		return v.t.UnixMilli(), true
	}
	t, ok := query.ParseTime(v.s)
	if !ok {
		return 0, false
	}
	return t.UnixMilli(), true
}

// compareValues applies op to two values of the same kind.
func compareValues(op query.CompareOp, x, y value) bool {
	switch x.kind {
	case kNumber:
		switch op {
		case query.Eq, query.Contains:
			return x.n == y.n
		case query.Gt:
			return x.n > y.n
		case query.Ge:
			return x.n >= y.n
		case query.Lt:
			return x.n < y.n
		case query.Le:
			return x.n <= y.n
		}
	case kString:
		switch op {
		case query.Eq:
			return x.s == y.s
		case query.Gt:
			return x.s > y.s
		case query.Ge:
			return x.s >= y.s
		case query.Lt:
			return x.s < y.s
		case query.Le:
			return x.s <= y.s
		case query.Contains:
			return strings.Contains(x.s, y.s)
		case query.StartsWith:
			return strings.HasPrefix(x.s, y.s)
		case query.EndsWith:
			return strings.HasSuffix(x.s, y.s)
		}
	case kBool:
		switch op {
		case query.Eq, query.Contains:
			return x.b == y.b
		}
	}
	return false
}

func compareInts(op query.CompareOp, x, y int64) bool {
	switch op {
	case query.Eq:
		return x == y
	case query.Gt:
		return x > y
	case query.Ge:
		return x >= y
	case query.Lt:
		return x < y
	case query.Le:
		return x <= y
	}
	return false
}

// litMatcher compares values with a literal.
type litMatcher struct {
	op   query.CompareOp
	fold int
	lit  value
}

func (m *litMatcher) match(v any, _ time.Time) bool {
	// Fast paths for the common kinds avoid building a value.
	switch x := v.(type) {
	case float64:
		return m.lit.kind == kNumber && compareValues(m.op, value{kind: kNumber, n: x}, m.lit)
	case string:
		if m.lit.kind != kString {
			return false
		}
		if m.fold != 0 {
			x = foldASCII(x, m.fold == foldUpper)
		}
		return compareValues(m.op, value{kind: kString, s: x}, m.lit)
	}
	s := scalar(v).folded(m.fold)
	return s.kind == m.lit.kind && compareValues(m.op, s, m.lit)
}

type listMatcher struct {
	fold int
	vals []value
}

func (m *listMatcher) match(v any, _ time.Time) bool {
	s := scalar(v).folded(m.fold)
	for _, l := range m.vals {
		if s.kind == l.kind && compareValues(query.Eq, s, l) {
			return true
		}
	}
	return false
}

// kindMatcher matches values of the given kinds (dates: strings that
// parse as times).
type kindMatcher struct{ kinds uint8 }

func (m kindMatcher) match(v any, _ time.Time) bool {
	s := scalar(v)
	if m.kinds&bit(kDate) != 0 {
		if _, ok := s.millis(); ok {
			return true
		}
	}
	return m.kinds&bit(s.kind) != 0
}

type dateMatcher struct {
	op    query.CompareOp
	bound query.Operand
}

func (m *dateMatcher) match(v any, now time.Time) bool {
	ms, ok := scalar(v).millis()
	return ok && compareInts(m.op, ms, query.TimeAt(m.bound, now).UnixMilli())
}

// bound is a BETWEEN bound.
type bound struct {
	kind int
	v    value
	date query.Operand
}

func newBound(o query.Operand) (bound, error) {
	switch o := o.(type) {
	case *query.Literal:
		if o.Kind == query.KindNumber || o.Kind == query.KindString {
			v := literalValue(o)
			return bound{kind: v.kind, v: v}, nil
		}
	case *query.Now, *query.DateTime:
		return bound{kind: kDate, date: o}, nil
	}
	return bound{}, query.Errorf(o, "invalid BETWEEN bound %s", o)
}

type betweenMatcher struct {
	fold   int
	lo, hi bound
}

func (m *betweenMatcher) match(v any, now time.Time) bool {
	s := scalar(v)
	if m.lo.kind == kDate {
		ms, ok := s.millis()
		return ok && ms >= query.TimeAt(m.lo.date, now).UnixMilli() && ms <= query.TimeAt(m.hi.date, now).UnixMilli()
	}
	s = s.folded(m.fold)
	return s.kind == m.lo.kind && compareValues(query.Ge, s, m.lo.v) && compareValues(query.Le, s, m.hi.v)
}

// presentMatcher is EXISTS: a non-null value at any depth.
type presentMatcher struct{}

func (presentMatcher) match(v any, _ time.Time) bool { return present(v) }

func present(v any) bool {
	switch c := v.(type) {
	case nil:
		return false
	case map[string]any:
		for _, e := range c {
			if present(e) {
				return true
			}
		}
		return false
	case []any:
		for _, e := range c {
			if present(e) {
				return true
			}
		}
		return false
	case string, float64, bool:
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		it := rv.MapRange()
		for it.Next() {
			if present(it.Value().Interface()) {
				return true
			}
		}
		return false
	case reflect.Slice, reflect.Array:
		if _, isBytes := v.([]byte); isBytes {
			return true
		}
		for k := 0; k < rv.Len(); k++ {
			if present(rv.Index(k).Interface()) {
				return true
			}
		}
		return false
	case reflect.Pointer, reflect.Interface:
		return !rv.IsNil()
	}
	return true
}
