package query

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokKind int

const (
	tEOF  tokKind = iota
	tWord         // keyword, function name, bare path or scope@path
	tString
	tNumber
	tLParen
	tRParen
	tLBrack
	tRBrack
	tComma
	tOp // == = != > >= < <=
)

type token struct {
	kind tokKind
	text string  // source text (the decoded value for strings)
	num  float64 // value of a number
	pos  Pos
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of condition"
	case tString:
		return "string " + Quote(t.text)
	}
	return "'" + t.text + "'"
}

// lexer turns a whole source into tokens. Sources are bounded by
// MaxSourceLen, so holding every token is cheap.
type lexer struct {
	src       string
	off       int
	line, col int
}

func lex(src string) ([]token, *Error) {
	l := &lexer{src: src, line: 1, col: 1}
	var toks []token
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tEOF {
			return toks, nil
		}
	}
}

func (l *lexer) pos() Pos { return Pos{Line: l.line, Col: l.col} }

func (l *lexer) errAt(p Pos, msg string) *Error {
	return &Error{Line: p.Line, Col: p.Col, Msg: msg}
}

// advance moves past one rune and returns it.
func (l *lexer) advance() rune {
	r, n := utf8.DecodeRuneInString(l.src[l.off:])
	l.off += n
	if r == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
	return r
}

func (l *lexer) peekByte(k int) byte {
	if l.off+k < len(l.src) {
		return l.src[l.off+k]
	}
	return 0
}

var punct = map[byte]tokKind{'(': tLParen, ')': tRParen, '[': tLBrack, ']': tRBrack, ',': tComma}

func isWordStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

func (l *lexer) next() (token, *Error) {
	for l.off < len(l.src) {
		c := l.src[l.off]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			l.advance()
			continue
		}
		break
	}
	p := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tEOF, pos: p}, nil
	}
	c := l.src[l.off]
	switch {
	case isWordStart(c):
		start := l.off
		for l.off < len(l.src) && (isWordByte(l.src[l.off]) || l.src[l.off] == '.' || l.src[l.off] == '@') {
			l.advance()
		}
		return token{kind: tWord, text: l.src[start:l.off], pos: p}, nil
	case c >= '0' && c <= '9' || c == '-' && l.peekByte(1) >= '0' && l.peekByte(1) <= '9':
		return l.number(p)
	case c == '"' || c == '\'':
		return l.string(p)
	}
	switch c {
	case '(', ')', '[', ']', ',':
		l.advance()
		return token{kind: punct[c], text: string(c), pos: p}, nil
	case '=', '!', '<', '>':
		l.advance()
		text := string(c)
		if l.peekByte(0) == '=' {
			l.advance()
			text += "="
		}
		if text == "!" {
			return token{}, l.errAt(p, "unexpected '!' (did you mean '!=' or NOT?)")
		}
		return token{kind: tOp, text: text, pos: p}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	if r == utf8.RuneError {
		return token{}, l.errAt(p, "invalid UTF-8")
	}
	return token{}, l.errAt(p, "unexpected character "+strconv.QuoteRune(r))
}

func (l *lexer) number(p Pos) (token, *Error) {
	start := l.off
	if l.src[l.off] == '-' {
		l.advance()
	}
	digitsRun := func() int {
		n := 0
		for l.off < len(l.src) && l.src[l.off] >= '0' && l.src[l.off] <= '9' {
			l.advance()
			n++
		}
		return n
	}
	digitsRun()
	if l.peekByte(0) == '.' {
		l.advance()
		if digitsRun() == 0 {
			return token{}, l.errAt(p, "invalid number: expected digits after '.'")
		}
	}
	if c := l.peekByte(0); c == 'e' || c == 'E' {
		l.advance()
		if c := l.peekByte(0); c == '+' || c == '-' {
			l.advance()
		}
		if digitsRun() == 0 {
			return token{}, l.errAt(p, "invalid number: expected digits in exponent")
		}
	}
	if c := l.peekByte(0); isWordByte(c) || c == '.' || c == '@' {
		return token{}, l.errAt(p, "invalid number "+strconv.Quote(l.src[start:l.off+1]))
	}
	text := l.src[start:l.off]
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && (math.IsInf(f, 0) || math.IsNaN(f)) {
		return token{}, l.errAt(p, "number out of range")
	}
	return token{kind: tNumber, text: text, num: f, pos: p}, nil
}

func (l *lexer) string(p Pos) (token, *Error) {
	quote := l.advance()
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			return token{}, l.errAt(p, "unterminated string")
		}
		ep := l.pos()
		r, n := utf8.DecodeRuneInString(l.src[l.off:])
		if r == utf8.RuneError && n == 1 {
			return token{}, l.errAt(ep, "invalid UTF-8")
		}
		l.advance()
		switch r {
		case quote:
			return token{kind: tString, text: b.String(), pos: p}, nil
		case '\\':
			if l.off >= len(l.src) {
				return token{}, l.errAt(p, "unterminated string")
			}
			e := l.advance()
			switch e {
			case '"', '\'', '\\', '/':
				b.WriteRune(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r1, ok := l.hex4()
				if !ok {
					return token{}, l.errAt(ep, `invalid \u escape`)
				}
				if r1 >= 0xD800 && r1 < 0xDC00 {
					// A high surrogate must be followed by a low one.
					if l.peekByte(0) != '\\' || l.peekByte(1) != 'u' {
						return token{}, l.errAt(ep, `invalid \u escape: lone surrogate`)
					}
					l.advance()
					l.advance()
					r2, ok := l.hex4()
					if !ok || r2 < 0xDC00 || r2 > 0xDFFF {
						return token{}, l.errAt(ep, `invalid \u escape: lone surrogate`)
					}
					r1 = 0x10000 + (r1-0xD800)<<10 + (r2 - 0xDC00)
				} else if r1 >= 0xDC00 && r1 <= 0xDFFF {
					return token{}, l.errAt(ep, `invalid \u escape: lone surrogate`)
				}
				b.WriteRune(r1)
			default:
				return token{}, l.errAt(ep, "unknown escape "+strconv.Quote(`\`+string(e)))
			}
		default:
			b.WriteRune(r)
		}
	}
}

func (l *lexer) hex4() (rune, bool) {
	if l.off+4 > len(l.src) {
		return 0, false
	}
	var r rune
	for i := 0; i < 4; i++ {
		c := l.src[l.off+i]
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	for i := 0; i < 4; i++ {
		l.advance()
	}
	return r, true
}
