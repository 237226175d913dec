package query

import (
	"fmt"
	"slices"
	"strings"
)

// ParseOptions changes how Parse reads a condition.
type ParseOptions struct {
	// DefaultScope is the scope of fields written without one
	// ("stats.visits" reads as "profile@stats.visits" when it is
	// "profile"). Empty means every field must name its scope.
	DefaultScope string
	// Scopes, when not empty, are the only scopes fields may name: a condition with a
	// field of another scope is refused with an *Error at that field, worded
	// "<ScopeMessage>, not <scope>@". Every place that restricts conditions (searches,
	// segments, mappings, destination filters) says so here rather than walking the
	// tree itself.
	Scopes []string
	// ScopeMessage begins that error; empty: "only profile@ and event@ fields can be
	// used here".
	ScopeMessage string
}

// Parse parses a condition in which every field names its scope.
func Parse(src string) (Expr, error) { return ParseOptions{}.Parse(src) }

// MustParse is Parse for conditions known to be valid; it panics on error.
func MustParse(src string) Expr {
	e, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return e
}

// Parse parses a condition. Errors are *Error values naming the line and
// column of the problem.
func (o ParseOptions) Parse(src string) (Expr, error) {
	if o.DefaultScope != "" && !IsScope(o.DefaultScope) {
		return nil, &Error{Line: 1, Col: 1, Msg: fmt.Sprintf("unknown default scope %q", o.DefaultScope)}
	}
	if len(src) > MaxSourceLen {
		return nil, &Error{Line: 1, Col: 1, Msg: fmt.Sprintf("condition is longer than %d bytes", MaxSourceLen)}
	}
	toks, lerr := lex(src)
	if lerr != nil {
		return nil, lerr
	}
	p := &parser{toks: toks, opts: o}
	e, err := p.parse()
	if err != nil {
		return nil, err
	}
	if err := o.checkScopes(e); err != nil {
		return nil, err
	}
	return e, nil
}

// checkScopes refuses the first field (in source order) whose scope is not allowed.
func (o ParseOptions) checkScopes(e Expr) error {
	if len(o.Scopes) == 0 {
		return nil
	}
	var bad *Error
	Inspect(e, func(n Node) bool {
		if f, ok := n.(*Field); ok && !slices.Contains(o.Scopes, f.Scope) {
			msg := o.ScopeMessage
			if msg == "" {
				msg = "only " + strings.Join(o.Scopes, "@ and ") + "@ fields can be used here"
			}
			bad = Errorf(f, "%s, not %s@", msg, f.Scope)
		}
		return bad == nil
	})
	if bad != nil {
		return bad
	}
	return nil
}

var keywords = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "BETWEEN": true, "EXISTS": true, "EMPTY": true,
	"IS": true, "NULL": true, "CONTAINS": true, "STARTS": true, "ENDS": true, "WITH": true,
	"TRUE": true, "FALSE": true,
}

type parser struct {
	toks  []token
	i     int
	opts  ParseOptions
	depth int
	nodes int
}

// bail carries a parse error up through the recursion.
type bail struct{ err *Error }

func (p *parser) parse() (e Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bail)
			if !ok {
				panic(r)
			}
			e, err = nil, b.err
		}
	}()
	if p.peek().kind == tEOF {
		p.fail(p.peek().pos, "empty condition")
	}
	e = p.parseOr()
	if t := p.peek(); t.kind != tEOF {
		p.fail(t.pos, "expected AND, OR or end of condition, found %s", t.describe())
	}
	return e, nil
}

func (p *parser) fail(pos Pos, format string, args ...any) {
	panic(bail{&Error{Line: pos.Line, Col: pos.Col, Msg: fmt.Sprintf(format, args...)}})
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// isKeyword reports whether the next token is the keyword kw.
func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tWord && strings.EqualFold(t.text, kw)
}

func (p *parser) count(pos Pos, n int) {
	p.nodes += n
	if p.nodes > MaxNodes {
		p.fail(pos, "condition is too large (more than %d nodes)", MaxNodes)
	}
}

func (p *parser) enter(pos Pos) {
	p.depth++
	if p.depth > MaxDepth {
		p.fail(pos, "condition is nested too deeply (more than %d levels)", MaxDepth)
	}
}

func (p *parser) parseOr() Expr {
	x := p.parseAnd()
	for p.isKeyword("OR") {
		t := p.next()
		y := p.parseAnd()
		p.count(t.pos, 1)
		x = &Binary{Pos: x.Position(), Op: Or, X: x, Y: y}
	}
	return x
}

func (p *parser) parseAnd() Expr {
	x := p.parseUnary()
	for p.isKeyword("AND") {
		t := p.next()
		y := p.parseUnary()
		p.count(t.pos, 1)
		x = &Binary{Pos: x.Position(), Op: And, X: x, Y: y}
	}
	return x
}

func (p *parser) parseUnary() Expr {
	t := p.peek()
	switch {
	case t.kind == tWord && strings.EqualFold(t.text, "NOT"):
		p.next()
		p.enter(t.pos)
		x := p.parseUnary()
		p.depth--
		p.count(t.pos, 1)
		return &Not{Pos: t.pos, X: x}
	case t.kind == tLParen:
		p.next()
		p.enter(t.pos)
		x := p.parseOr()
		if c := p.peek(); c.kind != tRParen {
			p.fail(c.pos, "expected ')' to close '(' at line %d, col %d, found %s", t.pos.Line, t.pos.Col, c.describe())
		}
		p.next()
		p.depth--
		return x
	}
	return p.parseCondition()
}

func (p *parser) parseCondition() Expr {
	start := p.peek()
	x := p.parseOperand()
	if x == nil {
		if start.kind == tEOF {
			p.fail(start.pos, "expected condition, found end of condition")
		}
		p.fail(start.pos, "expected a field at the start of a condition, found %s", start.describe())
	}
	t := p.peek()
	if t.kind == tOp {
		p.next()
		op := map[string]CompareOp{"==": Eq, "=": Eq, "!=": Ne, ">": Gt, ">=": Ge, "<": Lt, "<=": Le}[t.text]
		y := p.parseValue(t.text)
		p.checkCompare(op, x, y, t)
		p.count(t.pos, 1)
		return &Compare{Pos: start.pos, Op: op, X: x, Y: y}
	}
	if t.kind != tWord {
		p.fail(t.pos, "expected an operator after %s, found %s", x, t.describe())
	}
	kw := strings.ToUpper(t.text)
	check := func(op CheckOp) Expr {
		p.count(t.pos, 1)
		return &Check{Pos: start.pos, Op: op, X: x}
	}
	switch kw {
	case "EXISTS":
		p.next()
		return check(Exists)
	case "EMPTY":
		p.next()
		return check(Empty)
	case "NOT":
		p.next()
		switch {
		case p.isKeyword("EXISTS"):
			p.next()
			return check(NotExists)
		case p.isKeyword("EMPTY"):
			p.next()
			return check(NotEmpty)
		}
		p.fail(p.peek().pos, "expected EXISTS or EMPTY after NOT, found %s", p.peek().describe())
	case "IS":
		p.next()
		op := IsNull
		if p.isKeyword("NOT") {
			p.next()
			op = IsNotNull
		}
		if !p.isKeyword("NULL") {
			p.fail(p.peek().pos, "expected NULL after %s, found %s", op.String()[:len(op.String())-5], p.peek().describe())
		}
		p.next()
		return check(op)
	case "BETWEEN":
		p.next()
		lo := p.parseValue("BETWEEN")
		if !p.isKeyword("AND") {
			p.fail(p.peek().pos, "expected AND after the lower bound of BETWEEN, found %s", p.peek().describe())
		}
		and := p.next()
		hi := p.parseValue("AND")
		p.checkBetween(x, lo, hi, and)
		p.count(t.pos, 1)
		return &Between{Pos: start.pos, X: x, Low: lo, High: hi}
	case "CONTAINS":
		p.next()
		y := p.parseValue("CONTAINS")
		p.checkCompare(Contains, x, y, t)
		p.count(t.pos, 1)
		return &Compare{Pos: start.pos, Op: Contains, X: x, Y: y}
	case "STARTS", "ENDS":
		p.next()
		if !p.isKeyword("WITH") {
			p.fail(p.peek().pos, "expected WITH after %s, found %s", kw, p.peek().describe())
		}
		p.next()
		op := StartsWith
		if kw == "ENDS" {
			op = EndsWith
		}
		y := p.parseValue(op.String())
		p.checkCompare(op, x, y, t)
		p.count(t.pos, 1)
		return &Compare{Pos: start.pos, Op: op, X: x, Y: y}
	}
	p.fail(t.pos, "expected an operator after %s, found %s", x, t.describe())
	return nil
}

// parseOperand parses a field or lower(field)/upper(field), or returns nil
// without consuming anything.
func (p *parser) parseOperand() Operand {
	t := p.peek()
	if t.kind != tWord {
		return nil
	}
	if p.peekAt(1).kind == tLParen {
		switch strings.ToLower(t.text) {
		case "lower", "upper":
			return p.parseFunc()
		}
		return nil
	}
	if !strings.Contains(t.text, "@") && keywords[strings.ToUpper(t.text)] {
		return nil
	}
	p.next()
	return p.field(t)
}

func (p *parser) field(t token) *Field {
	scope, path := p.opts.DefaultScope, t.text
	if i := strings.IndexByte(t.text, '@'); i >= 0 {
		scope, path = strings.ToLower(t.text[:i]), t.text[i+1:]
		if !IsScope(scope) {
			p.fail(t.pos, "unknown scope %q in %s (use one of %s)", t.text[:i], t.text, strings.Join(Scopes, ", "))
		}
	} else if scope == "" {
		p.fail(t.pos, "field %s has no scope (write it as scope@%s, with scope one of %s)", t.text, t.text, strings.Join(Scopes, ", "))
	}
	if path == "" {
		p.fail(t.pos, "missing path after '@' in %s", t.text)
	}
	segs := strings.Split(path, ".")
	for _, s := range segs {
		if s == "" {
			p.fail(t.pos, "empty path segment in %s", t.text)
		}
		if !ValidSegment(s) {
			p.fail(t.pos, "invalid path segment %q in %s", s, t.text)
		}
	}
	p.count(t.pos, 1)
	return &Field{Pos: t.pos, Scope: scope, Path: segs}
}

// parseValue parses the right-hand side of an operator written as after.
func (p *parser) parseValue(after string) Operand {
	t := p.peek()
	switch t.kind {
	case tString:
		p.next()
		p.count(t.pos, 1)
		return &Literal{Pos: t.pos, Kind: KindString, Str: t.text}
	case tNumber:
		p.next()
		p.count(t.pos, 1)
		return &Literal{Pos: t.pos, Kind: KindNumber, Num: t.num}
	case tLBrack:
		return p.parseList()
	case tWord:
		if p.peekAt(1).kind == tLParen {
			return p.parseFunc()
		}
		switch strings.ToUpper(t.text) {
		case "TRUE", "FALSE":
			p.next()
			p.count(t.pos, 1)
			return &Literal{Pos: t.pos, Kind: KindBool, Bool: strings.EqualFold(t.text, "true")}
		case "NULL":
			p.next()
			p.count(t.pos, 1)
			return &Literal{Pos: t.pos, Kind: KindNull}
		}
		if f := p.parseOperand(); f != nil {
			return f
		}
	}
	p.fail(t.pos, "expected value after '%s', found %s", after, t.describe())
	return nil
}

func (p *parser) parseList() *List {
	open := p.next()
	l := &List{Pos: open.pos}
	p.count(open.pos, 1)
	for {
		t := p.next()
		var lit *Literal
		switch {
		case t.kind == tString:
			lit = &Literal{Pos: t.pos, Kind: KindString, Str: t.text}
		case t.kind == tNumber:
			lit = &Literal{Pos: t.pos, Kind: KindNumber, Num: t.num}
		case t.kind == tWord && (strings.EqualFold(t.text, "true") || strings.EqualFold(t.text, "false")):
			lit = &Literal{Pos: t.pos, Kind: KindBool, Bool: strings.EqualFold(t.text, "true")}
		case t.kind == tRBrack && len(l.Elems) == 0:
			p.fail(t.pos, "empty list")
		default:
			p.fail(t.pos, "expected a string, number or boolean in list, found %s", t.describe())
		}
		p.count(t.pos, 1)
		l.Elems = append(l.Elems, lit)
		switch sep := p.next(); sep.kind {
		case tComma:
		case tRBrack:
			return l
		default:
			p.fail(sep.pos, "expected ',' or ']' in list, found %s", sep.describe())
		}
	}
}

func (p *parser) parseFunc() Operand {
	name := p.next()
	p.next() // '('
	fn := strings.ToLower(name.text)
	var o Operand
	switch fn {
	case "now":
		o = &Now{Pos: name.pos}
	case "now.offset":
		arg := p.stringArg(fn)
		d, err := ParseOffset(arg.text)
		if err != nil {
			p.fail(arg.pos, "invalid offset %s: %v", Quote(arg.text), err)
		}
		o = &Now{Pos: name.pos, HasOffset: true, Offset: d}
	case "datetime":
		arg := p.stringArg(fn)
		tm, ok := ParseTime(arg.text)
		if !ok || !ValidDate(arg.text) {
			p.fail(arg.pos, "invalid datetime %s (want 2024-01-31 or RFC 3339 like 2024-01-31T10:20:30Z)", Quote(arg.text))
		}
		o = &DateTime{Pos: name.pos, Time: tm}
	case "lower", "upper":
		t := p.peek()
		f, ok := p.parseOperand().(*Field)
		if !ok {
			p.fail(t.pos, "expected a field in %s(), found %s", fn, t.describe())
		}
		o = &CaseFunc{Pos: name.pos, Upper: fn == "upper", Field: f}
	default:
		p.fail(name.pos, "unknown function %s (known: now, now.offset, datetime, lower, upper)", name.text)
	}
	if c := p.peek(); c.kind != tRParen {
		p.fail(c.pos, "expected ')' after the arguments of %s, found %s", fn, c.describe())
	}
	p.next()
	p.count(name.pos, 1)
	return o
}

func (p *parser) stringArg(fn string) token {
	t := p.next()
	if t.kind != tString {
		p.fail(t.pos, "%s() takes a string, found %s", fn, t.describe())
	}
	return t
}

func (p *parser) checkCompare(op CompareOp, x, y Operand, at token) {
	where := y.Position()
	if _, ok := x.(*CaseFunc); ok && IsDate(y) {
		p.fail(where, "lower() and upper() cannot be compared with a date")
	}
	switch y := y.(type) {
	case *List:
		if op != Eq && op != Ne && op != Contains {
			p.fail(where, "a list can only follow ==, != or CONTAINS, not %s", op)
		}
	case *Literal:
		switch {
		case y.Kind == KindNull && op != Eq && op != Ne:
			p.fail(where, "null can only follow == or != (or write IS NULL), not %s", op)
		case y.Kind == KindBool && (op.IsOrdering() || op == StartsWith || op == EndsWith):
			p.fail(where, "a boolean cannot follow %s", op)
		case y.Kind == KindNumber && (op == StartsWith || op == EndsWith):
			p.fail(where, "%s needs a string, found a number", op)
		}
	case *Now, *DateTime:
		if op == Contains || op == StartsWith || op == EndsWith {
			p.fail(where, "a date cannot follow %s", op)
		}
	}
}

func (p *parser) checkBetween(x, lo, hi Operand, and token) {
	kind := func(o Operand) string {
		switch o := o.(type) {
		case *Literal:
			if o.Kind == KindNumber || o.Kind == KindString {
				return o.Kind.String()
			}
		case *Now, *DateTime:
			return "date"
		}
		return ""
	}
	kl, kh := kind(lo), kind(hi)
	if kl == "" {
		p.fail(lo.Position(), "BETWEEN bounds must be numbers, strings or dates")
	}
	if kh != kl {
		p.fail(hi.Position(), "BETWEEN bounds must be of the same kind (%s and %s)", kl, describeKind(kh))
	}
	if _, ok := x.(*CaseFunc); ok && kl == "date" {
		p.fail(lo.Position(), "lower() and upper() cannot be compared with a date")
	}
}

func describeKind(k string) string {
	if k == "" {
		return "something else"
	}
	return k
}
