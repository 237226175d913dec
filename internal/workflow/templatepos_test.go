package workflow

import "testing"

func TestTemplateErrorAt(t *testing.T) {
	cases := []struct {
		src       string
		line, col int
		ok        bool
	}{
		{"Hello {{profile@data.pii.firstname}}", 0, 0, false},
		{"no placeholders", 0, 0, false},
		{"", 0, 0, false},
		{"Hello {{profile@x", 1, 7, true},
		{"Hi {{bogus@x}}", 1, 6, true},
		{"{{event@type}} and {{nope}}", 1, 22, true},
		{"line one\nsecond {{profile@x}} {{x@", 2, 22, true},
		{"é {{bad", 1, 3, true},
	}
	for _, c := range cases {
		line, col, ok := TemplateErrorAt(c.src)
		if line != c.line || col != c.col || ok != c.ok {
			t.Errorf("TemplateErrorAt(%q) = %d, %d, %v; want %d, %d, %v", c.src, line, col, ok, c.line, c.col, c.ok)
		}
		if _, err := ParseTemplate(c.src); (err != nil) != c.ok {
			t.Errorf("ParseTemplate(%q) error %v, TemplateErrorAt says %v", c.src, err, c.ok)
		}
	}
}
