package query

import "testing"

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`profile@stats.visits > 10 AND (event@properties.price >= 100 OR profile@traits.vip EXISTS)`,
		`profile@data.contact.email.main ENDS WITH "@example.com"`,
		`session@device.type == "mobile" AND profile@segments CONTAINS "returning"`,
		`profile@metadata.time.visit.last < now.offset("-30d")`,
		`event@properties.amount BETWEEN 10 AND 50`,
		`NOT profile@a IS NOT NULL OR lower(profile@b) STARTS WITH 'x\'y'`,
		`profile@a == [1, "two", true] AND profile@b != null`,
		`stats.visits >= 1e3 and datetime("2024-01-01") > now()`,
		`profile@items.0.name NOT EMPTY`,
		"profile@a == \"\\u00e9\\ud83d\\ude00\"",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, src string, withScope bool) {
		opts := ParseOptions{}
		if withScope {
			opts.DefaultScope = "profile"
		}
		e, err := opts.Parse(src)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error is %T, not *Error", err)
			}
			return
		}
		printed := e.String()
		if len(printed) > MaxSourceLen {
			// Escaping can make the printed form longer than the source (a control
			// character becomes \u000f); past the limit it is rightly refused.
			return
		}
		back, err := Parse(printed)
		if err != nil {
			t.Fatalf("printed form %q of %q does not parse: %v", printed, src, err)
		}
		if !Equal(e, back) {
			t.Fatalf("round trip of %q changed the tree: %q vs %q", src, printed, back.String())
		}
		if again := back.String(); again != printed {
			t.Fatalf("printing is not stable: %q then %q", printed, again)
		}
	})
}
