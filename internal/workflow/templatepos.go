package workflow

import "strings"

// TemplateErrorAt tells where in s the placeholder is that makes ParseTemplate fail:
// the 1-based line and column (in characters) of an unclosed "{{", or of the start
// of a reference that does not parse. ok is false when s parses.
func TemplateErrorAt(s string) (line, col int, ok bool) {
	off, rest := 0, s
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			return 0, 0, false
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			line, col = lineCol(s, off+i)
			return line, col, true
		}
		if _, err := ParseRef(rest[i+2 : i+j]); err != nil {
			line, col = lineCol(s, off+i+2)
			return line, col, true
		}
		off += i + j + 2
		rest = rest[i+j+2:]
	}
}

// lineCol turns a byte offset into a 1-based line and character column.
func lineCol(s string, off int) (line, col int) {
	line, col = 1, 1
	for _, r := range s[:off] {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}
