package query

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// String prints n in the canonical form of the language: keywords in
// upper case, every field with its scope, strings in double quotes, and
// parentheses only where precedence needs them. Parsing the result gives
// back an equal tree.
func String(n Node) string {
	var b strings.Builder
	printNode(&b, n)
	return b.String()
}

func (n *Binary) String() string   { return String(n) }
func (n *Not) String() string      { return String(n) }
func (n *Compare) String() string  { return String(n) }
func (n *Between) String() string  { return String(n) }
func (n *Check) String() string    { return String(n) }
func (n *Field) String() string    { return String(n) }
func (n *CaseFunc) String() string { return String(n) }
func (n *Literal) String() string  { return String(n) }
func (n *List) String() string     { return String(n) }
func (n *Now) String() string      { return String(n) }
func (n *DateTime) String() string { return String(n) }

func precedence(e Node) int {
	switch e := e.(type) {
	case *Binary:
		if e.Op == Or {
			return 1
		}
		return 2
	case *Not:
		return 3
	}
	return 4
}

func printOperand(b *strings.Builder, e Node, parens bool) {
	if parens {
		b.WriteByte('(')
	}
	printNode(b, e)
	if parens {
		b.WriteByte(')')
	}
}

func printNode(b *strings.Builder, n Node) {
	switch n := n.(type) {
	case *Binary:
		pr := precedence(n)
		printOperand(b, n.X, precedence(n.X) < pr)
		b.WriteByte(' ')
		b.WriteString(n.Op.String())
		b.WriteByte(' ')
		printOperand(b, n.Y, precedence(n.Y) <= pr)
	case *Not:
		b.WriteString("NOT ")
		printOperand(b, n.X, precedence(n.X) < 3)
	case *Compare:
		printNode(b, n.X)
		b.WriteByte(' ')
		b.WriteString(n.Op.String())
		b.WriteByte(' ')
		printNode(b, n.Y)
	case *Between:
		printNode(b, n.X)
		b.WriteString(" BETWEEN ")
		printNode(b, n.Low)
		b.WriteString(" AND ")
		printNode(b, n.High)
	case *Check:
		printNode(b, n.X)
		b.WriteByte(' ')
		b.WriteString(n.Op.String())
	case *Field:
		b.WriteString(n.Scope)
		b.WriteByte('@')
		b.WriteString(strings.Join(n.Path, "."))
	case *CaseFunc:
		if n.Upper {
			b.WriteString("upper(")
		} else {
			b.WriteString("lower(")
		}
		printNode(b, n.Field)
		b.WriteByte(')')
	case *Literal:
		switch n.Kind {
		case KindString:
			b.WriteString(Quote(n.Str))
		case KindNumber:
			b.WriteString(FormatNumber(n.Num))
		case KindBool:
			b.WriteString(strconv.FormatBool(n.Bool))
		default:
			b.WriteString("null")
		}
	case *List:
		b.WriteByte('[')
		for i, e := range n.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			printNode(b, e)
		}
		b.WriteByte(']')
	case *Now:
		if n.HasOffset {
			b.WriteString("now.offset(")
			b.WriteString(Quote(FormatOffset(n.Offset)))
			b.WriteByte(')')
		} else {
			b.WriteString("now()")
		}
	case *DateTime:
		b.WriteString("datetime(")
		b.WriteString(Quote(n.Time.UTC().Format(time.RFC3339Nano)))
		b.WriteByte(')')
	case nil:
		b.WriteString("<nil>")
	}
}

// FormatNumber formats f the way the lexer reads it back to the same
// value: plain decimals for usual magnitudes, exponents otherwise.
func FormatNumber(f float64) string {
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e21) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// Quote writes s as a double-quoted string literal of the language.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r == utf8.RuneError || r < 0x20 || r == 0x7f || !unicode.IsPrint(r) {
				writeU(&b, r)
				continue
			}
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func writeU(b *strings.Builder, r rune) {
	const hex = "0123456789abcdef"
	w := func(v rune) {
		b.WriteString(`\u`)
		for s := 12; s >= 0; s -= 4 {
			b.WriteByte(hex[(v>>s)&0xf])
		}
	}
	if r > 0xFFFF {
		r -= 0x10000
		w(0xD800 + (r>>10)&0x3FF)
		w(0xDC00 + r&0x3FF)
		return
	}
	w(r)
}
