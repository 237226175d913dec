package useragent

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		ua   string
		want Agent
	}{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
			Agent{Browser: "Chrome", BrowserVersion: "120.0.0.0", OS: "Windows", Device: "desktop"}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
			Agent{Browser: "Safari", BrowserVersion: "17.0", OS: "iOS", Device: "mobile", Mobile: true}},
		{"Googlebot/2.1 (+http://www.google.com/bot.html)", Agent{Bot: true}},
		{"", Agent{}},
	}
	for _, tc := range tests {
		t.Run(tc.ua, func(t *testing.T) {
			got := Parse(tc.ua)
			if tc.want.Bot {
				if !got.Bot {
					t.Fatalf("Parse = %+v, want a bot", got)
				}
				return
			}
			if got != tc.want {
				t.Fatalf("Parse = %+v, want %+v", got, tc.want)
			}
		})
	}
}
