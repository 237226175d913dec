package query

import (
	"time"
)

// Limits on what Parse accepts. They bound the work any input can cause.
const (
	// MaxSourceLen is the longest accepted condition, in bytes.
	MaxSourceLen = 16 << 10
	// MaxDepth is the deepest accepted nesting of parentheses and NOT.
	MaxDepth = 64
	// MaxNodes is the largest accepted AST, in nodes (list elements count).
	MaxNodes = 2000
)

// Scopes lists the scopes a field can name, in a stable order.
var Scopes = []string{"profile", "session", "event", "payload", "flow", "memory"}

// IsScope reports whether s is one of Scopes.
func IsScope(s string) bool {
	switch s {
	case "profile", "session", "event", "payload", "flow", "memory":
		return true
	}
	return false
}

// Pos is a position in the source, 1-based; Col counts characters.
type Pos struct {
	Line, Col int
}

// Position returns p; every node embeds a Pos, so every node has one.
func (p Pos) Position() Pos { return p }

// Node is any node of the AST.
type Node interface {
	Position() Pos
	String() string
}

// Expr is a boolean expression: *Binary, *Not, *Compare, *Between or *Check.
type Expr interface {
	Node
	exprNode()
}

// Operand is something compared: *Field, *CaseFunc, *Literal, *List, *Now
// or *DateTime.
type Operand interface {
	Node
	operandNode()
}

// LogicalOp is AND or OR.
type LogicalOp int

// Logical operators.
const (
	And LogicalOp = iota + 1
	Or
)

func (op LogicalOp) String() string {
	if op == Or {
		return "OR"
	}
	return "AND"
}

// Binary is X AND Y or X OR Y. Chains are left-associative.
type Binary struct {
	Pos
	Op   LogicalOp
	X, Y Expr
}

// Terms returns the operands of a chain of op (A op B op C …, however it is nested)
// in order; an expression that is not such a chain is its only term.
func Terms(e Expr, op LogicalOp) []Expr {
	var terms []Expr
	var walk func(x Expr)
	walk = func(x Expr) {
		if b, ok := x.(*Binary); ok && b.Op == op {
			walk(b.X)
			walk(b.Y)
			return
		}
		terms = append(terms, x)
	}
	walk(e)
	return terms
}

// Not is NOT X.
type Not struct {
	Pos
	X Expr
}

// CompareOp is a comparison between two operands.
type CompareOp int

// Comparison operators. "=" parses as Eq.
const (
	Eq CompareOp = iota + 1
	Ne
	Gt
	Ge
	Lt
	Le
	Contains
	StartsWith
	EndsWith
)

var compareOpNames = [...]string{Eq: "==", Ne: "!=", Gt: ">", Ge: ">=", Lt: "<", Le: "<=",
	Contains: "CONTAINS", StartsWith: "STARTS WITH", EndsWith: "ENDS WITH"}

func (op CompareOp) String() string {
	if op <= 0 || int(op) >= len(compareOpNames) {
		return "?"
	}
	return compareOpNames[op]
}

// IsOrdering reports whether op is one of > >= < <=.
func (op CompareOp) IsOrdering() bool { return op >= Gt && op <= Le }

// Compare is X op Y. X is a *Field or a *CaseFunc.
type Compare struct {
	Pos
	Op CompareOp
	X  Operand
	Y  Operand
}

// Between is X BETWEEN Low AND High, bounds included.
type Between struct {
	Pos
	X         Operand
	Low, High Operand
}

// CheckOp is a unary test of a field.
type CheckOp int

// Unary tests.
const (
	Exists CheckOp = iota + 1
	NotExists
	Empty
	NotEmpty
	IsNull
	IsNotNull
)

var checkOpNames = [...]string{Exists: "EXISTS", NotExists: "NOT EXISTS", Empty: "EMPTY",
	NotEmpty: "NOT EMPTY", IsNull: "IS NULL", IsNotNull: "IS NOT NULL"}

func (op CheckOp) String() string {
	if op <= 0 || int(op) >= len(checkOpNames) {
		return "?"
	}
	return checkOpNames[op]
}

// Negated reports whether op is the negation of a positive test, and that
// test: NOT EXISTS is (true, EXISTS).
func (op CheckOp) Negated() (bool, CheckOp) {
	switch op {
	case NotExists:
		return true, Exists
	case NotEmpty:
		return true, Empty
	case IsNotNull:
		return true, IsNull
	}
	return false, op
}

// Check is X EXISTS, X IS NULL and the like.
type Check struct {
	Pos
	Op CheckOp
	X  Operand
}

// Field is scope@path.
type Field struct {
	Pos
	Scope string
	Path  []string
}

// CaseFunc is lower(field) or upper(field).
type CaseFunc struct {
	Pos
	Upper bool
	Field *Field
}

// Kind is the kind of a literal value.
type Kind int

// Literal kinds.
const (
	KindString Kind = iota + 1
	KindNumber
	KindBool
	KindNull
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindNumber:
		return "number"
	case KindBool:
		return "boolean"
	case KindNull:
		return "null"
	}
	return "?"
}

// Literal is a string, number, boolean or null. Only the field matching
// Kind is meaningful.
type Literal struct {
	Pos
	Kind Kind
	Str  string
	Num  float64
	Bool bool
}

// List is an array literal of strings, numbers and booleans.
type List struct {
	Pos
	Elems []*Literal
}

// Now is now() or, with HasOffset, now.offset("…").
type Now struct {
	Pos
	HasOffset bool
	Offset    time.Duration
}

// DateTime is datetime("…"); Time is in UTC.
type DateTime struct {
	Pos
	Time time.Time
}

func (*Binary) exprNode()  {}
func (*Not) exprNode()     {}
func (*Compare) exprNode() {}
func (*Between) exprNode() {}
func (*Check) exprNode()   {}

func (*Field) operandNode()    {}
func (*CaseFunc) operandNode() {}
func (*Literal) operandNode()  {}
func (*List) operandNode()     {}
func (*Now) operandNode()      {}
func (*DateTime) operandNode() {}

// IsDate reports whether o is a date function (now, now.offset, datetime).
func IsDate(o Operand) bool {
	switch o.(type) {
	case *Now, *DateTime:
		return true
	}
	return false
}

// FieldOf returns the field of a *Field or *CaseFunc, or nil.
func FieldOf(o Operand) *Field {
	switch o := o.(type) {
	case *Field:
		return o
	case *CaseFunc:
		return o.Field
	}
	return nil
}

// TimeAt returns the instant a date operand stands for, given the current
// time.
func TimeAt(o Operand, now time.Time) time.Time {
	switch o := o.(type) {
	case *Now:
		return now.Add(o.Offset)
	case *DateTime:
		return o.Time
	}
	return time.Time{}
}

// Inspect calls f for n and, while f returns true, for its children, in
// source order.
func Inspect(n Node, f func(Node) bool) {
	if n == nil || !f(n) {
		return
	}
	switch n := n.(type) {
	case *Binary:
		Inspect(n.X, f)
		Inspect(n.Y, f)
	case *Not:
		Inspect(n.X, f)
	case *Compare:
		Inspect(n.X, f)
		Inspect(n.Y, f)
	case *Between:
		Inspect(n.X, f)
		Inspect(n.Low, f)
		Inspect(n.High, f)
	case *Check:
		Inspect(n.X, f)
	case *CaseFunc:
		Inspect(n.Field, f)
	case *List:
		for _, e := range n.Elems {
			Inspect(e, f)
		}
	}
}

// Equal reports whether a and b are the same tree, ignoring positions.
func Equal(a, b Node) bool {
	switch a := a.(type) {
	case *Binary:
		b, ok := b.(*Binary)
		return ok && a.Op == b.Op && Equal(a.X, b.X) && Equal(a.Y, b.Y)
	case *Not:
		b, ok := b.(*Not)
		return ok && Equal(a.X, b.X)
	case *Compare:
		b, ok := b.(*Compare)
		return ok && a.Op == b.Op && Equal(a.X, b.X) && Equal(a.Y, b.Y)
	case *Between:
		b, ok := b.(*Between)
		return ok && Equal(a.X, b.X) && Equal(a.Low, b.Low) && Equal(a.High, b.High)
	case *Check:
		b, ok := b.(*Check)
		return ok && a.Op == b.Op && Equal(a.X, b.X)
	case *Field:
		b, ok := b.(*Field)
		if !ok || a.Scope != b.Scope || len(a.Path) != len(b.Path) {
			return false
		}
		for i := range a.Path {
			if a.Path[i] != b.Path[i] {
				return false
			}
		}
		return true
	case *CaseFunc:
		b, ok := b.(*CaseFunc)
		return ok && a.Upper == b.Upper && Equal(a.Field, b.Field)
	case *Literal:
		b, ok := b.(*Literal)
		if !ok || a.Kind != b.Kind {
			return false
		}
		switch a.Kind {
		case KindString:
			return a.Str == b.Str
		case KindNumber:
			return a.Num == b.Num
		case KindBool:
			return a.Bool == b.Bool
		}
		return true
	case *List:
		b, ok := b.(*List)
		if !ok || len(a.Elems) != len(b.Elems) {
			return false
		}
		for i := range a.Elems {
			if !Equal(a.Elems[i], b.Elems[i]) {
				return false
			}
		}
		return true
	case *Now:
		b, ok := b.(*Now)
		return ok && a.HasOffset == b.HasOffset && a.Offset == b.Offset
	case *DateTime:
		b, ok := b.(*DateTime)
		return ok && a.Time.Equal(b.Time)
	}
	return false
}

// Index reports whether a path segment is an array index (digits, no
// leading zero, below one billion) and its value.
func Index(seg string) (int, bool) {
	if len(seg) == 0 || len(seg) > 9 || (seg[0] == '0' && len(seg) > 1) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// ValidSegment reports whether s can be a path segment.
func ValidSegment(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isWordByte(s[i]) {
			return false
		}
	}
	return true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}
