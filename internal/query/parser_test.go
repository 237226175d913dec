package query

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParsePrint(t *testing.T) {
	tests := []struct {
		src, scope, want string
	}{
		{`profile@stats.visits > 10`, "", `profile@stats.visits > 10`},
		{`profile@stats.visits>10`, "", `profile@stats.visits > 10`},
		{`stats.visits > 10`, "profile", `profile@stats.visits > 10`},
		{`event@type = "page-view"`, "", `event@type == "page-view"`},
		{`event@type == 'page-view'`, "", `event@type == "page-view"`},
		{`event@a != 1.5`, "", `event@a != 1.5`},
		{`event@a >= -2 and event@b <= 3E2`, "", `event@a >= -2 AND event@b <= 300`},
		{`event@a < 1e-9`, "", `event@a < 1e-09`},
		{`event@a == true or event@b == FALSE`, "", `event@a == true OR event@b == false`},
		{`event@a == null`, "", `event@a == null`},
		{`event@a == [1, "a", true]`, "", `event@a == [1, "a", true]`},
		{`event@a == event@b`, "", `event@a == event@b`},
		{`event@a between 1 and 5`, "", `event@a BETWEEN 1 AND 5`},
		{`event@a BETWEEN "a" AND "b"`, "", `event@a BETWEEN "a" AND "b"`},
		{`event@a between now.offset("-1d") and now()`, "", `event@a BETWEEN now.offset("-1d") AND now()`},
		{`event@a exists`, "", `event@a EXISTS`},
		{`event@a not exists`, "", `event@a NOT EXISTS`},
		{`event@a empty`, "", `event@a EMPTY`},
		{`event@a Not Empty`, "", `event@a NOT EMPTY`},
		{`event@a is null`, "", `event@a IS NULL`},
		{`event@a is not null`, "", `event@a IS NOT NULL`},
		{`event@a contains "x"`, "", `event@a CONTAINS "x"`},
		{`event@a contains ["x", "y"]`, "", `event@a CONTAINS ["x", "y"]`},
		{`event@a starts with "x"`, "", `event@a STARTS WITH "x"`},
		{`event@a ends   with "x"`, "", `event@a ENDS WITH "x"`},
		{`lower(event@a) == "x"`, "", `lower(event@a) == "x"`},
		{`UPPER(a) == "X"`, "event", `upper(event@a) == "X"`},
		{`event@a == lower(event@b)`, "", `event@a == lower(event@b)`},
		{`event@a < NOW()`, "", `event@a < now()`},
		{`event@a < now.offset("-90m")`, "", `event@a < now.offset("-1h30m")`},
		{`event@a < now.offset("15m")`, "", `event@a < now.offset("15m")`},
		{`event@a < now.offset("+1w2d")`, "", `event@a < now.offset("1w2d")`},
		{`event@a < datetime("2024-01-01")`, "", `event@a < datetime("2024-01-01T00:00:00Z")`},
		{`event@a < datetime("2024-01-01T10:00:00.5+02:00")`, "", `event@a < datetime("2024-01-01T08:00:00.5Z")`},
		{`PROFILE@Items.0.Name == "a"`, "", `profile@Items.0.Name == "a"`},
		{`profile@a-b.c_d == "a"`, "", `profile@a-b.c_d == "a"`},
		{`session@a == 1 and session@b == 2 or session@c == 3`, "", `session@a == 1 AND session@b == 2 OR session@c == 3`},
		{`session@a == 1 and (session@b == 2 or session@c == 3)`, "", `session@a == 1 AND (session@b == 2 OR session@c == 3)`},
		{`(session@a == 1 and session@b == 2) or session@c == 3`, "", `session@a == 1 AND session@b == 2 OR session@c == 3`},
		{`session@a == 1 or (session@b == 2 or session@c == 3)`, "", `session@a == 1 OR (session@b == 2 OR session@c == 3)`},
		{`not session@a exists and session@b exists`, "", `NOT session@a EXISTS AND session@b EXISTS`},
		{`not (session@a exists and session@b exists)`, "", `NOT (session@a EXISTS AND session@b EXISTS)`},
		{`not not session@a exists`, "", `NOT NOT session@a EXISTS`},
		{`payload@a == "tab\there \"q\" \u00e9 \ud83d\ude00 it's"`, "", `payload@a == "tab\there \"q\" é 😀 it's"`},
		{`flow@a == 'it\'s'`, "", `flow@a == "it's"`},
		{`memory@a == "\u0001"`, "", `memory@a == "\u0001"`},
		{"memory@a ==\n  1", "", `memory@a == 1`},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			e, err := ParseOptions{DefaultScope: tc.scope}.Parse(tc.src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := e.String(); got != tc.want {
				t.Errorf("String() = %s, want %s", got, tc.want)
			}
			back, err := Parse(e.String())
			if err != nil {
				t.Fatalf("reparse %s: %v", e, err)
			}
			if !Equal(e, back) {
				t.Errorf("round trip changed the tree: %s", back)
			}
		})
	}
}

func TestPrecedence(t *testing.T) {
	e := MustParse(`profile@a EXISTS OR NOT profile@b EXISTS AND profile@c EXISTS`)
	or, ok := e.(*Binary)
	if !ok || or.Op != Or {
		t.Fatalf("top is %T %v, want OR", e, e)
	}
	and, ok := or.Y.(*Binary)
	if !ok || and.Op != And {
		t.Fatalf("right of OR is %v, want AND", or.Y)
	}
	if _, ok := and.X.(*Not); !ok {
		t.Fatalf("left of AND is %v, want NOT", and.X)
	}
}

func TestPositions(t *testing.T) {
	e := MustParse("profile@a == 1 AND\n  (event@b > now.offset(\"-1d\") OR flow@c EXISTS)")
	var got []string
	Inspect(e, func(n Node) bool {
		p := n.Position()
		if p.Line == 0 || p.Col == 0 {
			t.Errorf("%T %v has no position", n, n)
		}
		if _, ok := n.(*Binary); !ok {
			got = append(got, n.String()+"@"+itoa(p.Line)+":"+itoa(p.Col))
		}
		return true
	})
	want := []string{
		"profile@a == 1@1:1", "profile@a@1:1", "1@1:14",
		`event@b > now.offset("-1d")@2:4`, "event@b@2:4", `now.offset("-1d")@2:14`,
		"flow@c EXISTS@2:35", "flow@c@2:35",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("positions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func itoa(i int) string { return FormatNumber(float64(i)) }

func TestParseErrors(t *testing.T) {
	tests := []struct {
		src, scope, want string
	}{
		{``, "", `line 1, col 1: empty condition`},
		{`   `, "", `line 1, col 4: empty condition`},
		{`profile@stats.visits >`, "", `line 1, col 23: expected value after '>', found end of condition`},
		{`profile@stats.visits > AND`, "", `line 1, col 24: expected value after '>', found 'AND'`},
		{`profile@a == 1 AND`, "", `line 1, col 19: expected condition, found end of condition`},
		{`stats.visits > 10`, "", `line 1, col 1: field stats.visits has no scope (write it as scope@stats.visits, with scope one of profile, session, event, payload, flow, memory)`},
		{`user@a > 10`, "", `line 1, col 1: unknown scope "user" in user@a (use one of profile, session, event, payload, flow, memory)`},
		{`profile@ > 10`, "", `line 1, col 1: missing path after '@' in profile@`},
		{`profile@a..b > 10`, "", `line 1, col 1: empty path segment in profile@a..b`},
		{`profile@a@b > 10`, "", `line 1, col 1: invalid path segment "a@b" in profile@a@b`},
		{`profile@a 10`, "", `line 1, col 11: expected an operator after profile@a, found '10'`},
		{`profile@a`, "", `line 1, col 10: expected an operator after profile@a, found end of condition`},
		{`profile@a IS 1`, "", `line 1, col 14: expected NULL after IS, found '1'`},
		{`profile@a IS NOT 1`, "", `line 1, col 18: expected NULL after IS NOT, found '1'`},
		{`profile@a NOT 1`, "", `line 1, col 15: expected EXISTS or EMPTY after NOT, found '1'`},
		{`profile@a STARTS "x"`, "", `line 1, col 18: expected WITH after STARTS, found string "x"`},
		{`profile@a BETWEEN 1 OR 2`, "", `line 1, col 21: expected AND after the lower bound of BETWEEN, found 'OR'`},
		{`profile@a BETWEEN 1 AND "x"`, "", `line 1, col 25: BETWEEN bounds must be of the same kind (number and string)`},
		{`profile@a BETWEEN true AND false`, "", `line 1, col 19: BETWEEN bounds must be numbers, strings or dates`},
		{`(profile@a EXISTS`, "", `line 1, col 18: expected ')' to close '(' at line 1, col 1, found end of condition`},
		{`profile@a EXISTS)`, "", `line 1, col 17: expected AND, OR or end of condition, found ')'`},
		{`profile@a EXISTS profile@b EXISTS`, "", `line 1, col 18: expected AND, OR or end of condition, found 'profile@b'`},
		{`10 > profile@a`, "", `line 1, col 1: expected a field at the start of a condition, found '10'`},
		{`profile@a == "abc`, "", `line 1, col 14: unterminated string`},
		{`profile@a == "a\qb"`, "", `line 1, col 16: unknown escape "\\q"`},
		{`profile@a == "\ud800"`, "", `line 1, col 15: invalid \u escape: lone surrogate`},
		{`profile@a == "\u12"`, "", `line 1, col 15: invalid \u escape`},
		{`profile@a == 1.`, "", `line 1, col 14: invalid number: expected digits after '.'`},
		{`profile@a == 1e`, "", `line 1, col 14: invalid number: expected digits in exponent`},
		{`profile@a == 10m`, "", `line 1, col 14: invalid number "10m"`},
		{`profile@a == 1e999`, "", `line 1, col 14: number out of range`},
		{`profile@a # 1`, "", `line 1, col 11: unexpected character '#'`},
		{`profile@a ! 1`, "", `line 1, col 11: unexpected '!' (did you mean '!=' or NOT?)`},
		{"profile@a ==\n   é", "", `line 2, col 4: unexpected character 'é'`},
		{"profile@a == \xff", "", `line 1, col 14: invalid UTF-8`},
		{`profile@a == foo(1)`, "", `line 1, col 14: unknown function foo (known: now, now.offset, datetime, lower, upper)`},
		{`profile@a > now.offset("-15x")`, "", `line 1, col 24: invalid offset "-15x": unknown offset unit "x" (use s, m, h, d or w)`},
		{`profile@a > now.offset("15")`, "", `line 1, col 24: invalid offset "15": offset amount has no unit (s, m, h, d or w)`},
		{`profile@a > now.offset("")`, "", `line 1, col 24: invalid offset "": empty offset`},
		{`profile@a > now.offset("99999999w")`, "", `line 1, col 24: invalid offset "99999999w": offset out of range`},
		{`profile@a > now.offset(15)`, "", `line 1, col 24: now.offset() takes a string, found '15'`},
		{`profile@a > now(1)`, "", `line 1, col 17: expected ')' after the arguments of now, found '1'`},
		{`profile@a > datetime("2024-02-30")`, "", `line 1, col 22: invalid datetime "2024-02-30" (want 2024-01-31 or RFC 3339 like 2024-01-31T10:20:30Z)`},
		{`profile@a > datetime("2024-01-01 10:00:00")`, "", `line 1, col 22: invalid datetime "2024-01-01 10:00:00" (want 2024-01-31 or RFC 3339 like 2024-01-31T10:20:30Z)`},
		{`lower(1) == "a"`, "", `line 1, col 7: expected a field in lower(), found '1'`},
		{`lower(profile@a) > now()`, "", `line 1, col 20: lower() and upper() cannot be compared with a date`},
		{`profile@a > [1]`, "", `line 1, col 13: a list can only follow ==, != or CONTAINS, not >`},
		{`profile@a == []`, "", `line 1, col 15: empty list`},
		{`profile@a == [1,]`, "", `line 1, col 17: expected a string, number or boolean in list, found ']'`},
		{`profile@a == [1 2]`, "", `line 1, col 17: expected ',' or ']' in list, found '2'`},
		{`profile@a == [null]`, "", `line 1, col 15: expected a string, number or boolean in list, found 'null'`},
		{`profile@a > null`, "", `line 1, col 13: null can only follow == or != (or write IS NULL), not >`},
		{`profile@a > true`, "", `line 1, col 13: a boolean cannot follow >`},
		{`profile@a STARTS WITH 1`, "", `line 1, col 23: STARTS WITH needs a string, found a number`},
		{`profile@a CONTAINS now()`, "", `line 1, col 20: a date cannot follow CONTAINS`},
		{`exists == 1`, "profile", `line 1, col 1: expected a field at the start of a condition, found 'exists'`},
		{`a == 1`, "user", `line 1, col 1: unknown default scope "user"`},
		{strings.Repeat("(", 70) + "profile@a EXISTS" + strings.Repeat(")", 70), "", `line 1, col 65: condition is nested too deeply (more than 64 levels)`},
		{strings.Repeat("NOT ", 70) + "profile@a EXISTS", "", `line 1, col 257: condition is nested too deeply (more than 64 levels)`},
		{"profile@a == 1" + strings.Repeat(" OR profile@a == 1", 700), "", `line 1, col 9014: condition is too large (more than 2000 nodes)`},
		{strings.Repeat(" ", MaxSourceLen+1), "", `line 1, col 1: condition is longer than 16384 bytes`},
	}
	for _, tc := range tests {
		name := tc.src
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			_, err := ParseOptions{DefaultScope: tc.scope}.Parse(tc.src)
			if err == nil {
				t.Fatalf("Parse succeeded, want %s", tc.want)
			}
			var qe *Error
			if !errors.As(err, &qe) {
				t.Fatalf("error %T is not *query.Error", err)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tc.want)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC3339Nano, "" for invalid
	}{
		{"2024-01-31", "2024-01-31T00:00:00Z"},
		{"2024-02-29", "2024-02-29T00:00:00Z"},
		{"2023-02-29", "2023-03-01T00:00:00Z"},
		{"2024-04-31", "2024-05-01T00:00:00Z"},
		{"2024-04-32", ""},
		{"2024-00-10", ""},
		{"2024-01-31T10:20:30Z", "2024-01-31T10:20:30Z"},
		{"2024-01-31T10:20:30.1Z", "2024-01-31T10:20:30.1Z"},
		{"2024-01-31T10:20:30.123456789Z", "2024-01-31T10:20:30.123456789Z"},
		{"2024-01-31T10:20:30.1234567891Z", ""},
		{"2024-01-31T10:20:30+02:00", "2024-01-31T08:20:30Z"},
		{"2024-01-31T23:20:30-01:30", "2024-02-01T00:50:30Z"},
		{"2024-01-31T10:20:30+15:00", ""},
		{"2024-01-31T24:00:00Z", ""},
		{"2024-01-31T10:20:30", ""},
		{"2024-01-31 10:20:30Z", ""},
		{"2024-01-31T10:20Z", ""},
		{"2024-1-31", ""},
		{"2024-13-01", ""},
		{"abc", ""},
		{"2024-01-31T10:20:30.Z", ""},
		{"2024-01-31t10:20:30z", ""},
	}
	for _, tc := range tests {
		got, ok := ParseTime(tc.in)
		if tc.want == "" {
			if ok {
				t.Errorf("ParseTime(%q) = %v, want invalid", tc.in, got)
			}
			continue
		}
		if !ok || got.Format(time.RFC3339Nano) != tc.want {
			t.Errorf("ParseTime(%q) = %v, %v; want %s", tc.in, got, ok, tc.want)
		}
	}
}

func TestOffset(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		out  string
	}{
		{"-15m", -15 * time.Minute, "-15m"},
		{"15m", 15 * time.Minute, "15m"},
		{"+1h30m", 90 * time.Minute, "1h30m"},
		{"-1h30m", -90 * time.Minute, "-1h30m"},
		{"90m", 90 * time.Minute, "1h30m"},
		{"2d", 48 * time.Hour, "2d"},
		{"1w", 7 * 24 * time.Hour, "1w"},
		{"30s", 30 * time.Second, "30s"},
		{"0s", 0, "0s"},
		{"-30d", -30 * 24 * time.Hour, "-4w2d"},
	}
	for _, tc := range tests {
		got, err := ParseOffset(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseOffset(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if s := FormatOffset(got); s != tc.out {
			t.Errorf("FormatOffset(%v) = %q, want %q", got, s, tc.out)
		}
	}
	for _, bad := range []string{"", "-", "m", "1", "1x", "1.5h", "--1m", "1m-", "1000000000000m"} {
		if _, err := ParseOffset(bad); err == nil {
			t.Errorf("ParseOffset(%q) succeeded", bad)
		}
	}
}

func TestIndex(t *testing.T) {
	for seg, want := range map[string]int{"0": 0, "7": 7, "123": 123, "999999999": 999999999} {
		if got, ok := Index(seg); !ok || got != want {
			t.Errorf("Index(%q) = %d, %v", seg, got, ok)
		}
	}
	for _, seg := range []string{"", "01", "-1", "1a", "1000000000", "a"} {
		if _, ok := Index(seg); ok {
			t.Errorf("Index(%q) ok", seg)
		}
	}
}
