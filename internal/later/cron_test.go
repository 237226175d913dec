package later_test

import (
	"strings"
	"testing"
	"time"

	"github.com/thamesthrive/thamesthrive/internal/later"
)

func TestParseCron(t *testing.T) {
	base := time.Date(2026, 12, 4, 10, 17, 30, 0, time.UTC)
	for _, tc := range []struct {
		spec string
		next string // RFC 3339 after base, or "" when refused
		err  string
	}{
		{spec: "*/15 * * * *", next: "2026-12-04T10:30:00Z"},
		{spec: "0 9 * * 1", next: "2026-12-07T09:00:00Z"}, // Mondays 09:00 UTC
		{spec: "@daily", next: "2026-12-05T00:00:00Z"},
		{spec: "@hourly", next: "2026-12-04T11:00:00Z"},
		{spec: "@every 2s", next: "2026-12-04T10:17:32Z"},
		{spec: "  30 10 4 12 *  ", next: "2026-12-04T10:30:00Z"},
		{spec: "", err: "is required"},
		{spec: "* * * *", err: "not a cron expression"},
		{spec: "61 * * * *", err: "not a cron expression"},
		{spec: "0 0 30 2 *", err: "never fires"},
		{spec: "@every 500ms", err: "at least 1s"},
		{spec: "@every soon", err: "at least 1s"},
		{spec: "@fortnightly", err: "not a cron expression"},
		{spec: "CRON_TZ=Europe/London 0 9 * * *", err: "UTC"},
		{spec: "TZ=UTC 0 9 * * *", err: "UTC"},
		{spec: "0 0 0 * * *", err: "not a cron expression"}, // no seconds field
		{spec: strings.Repeat("1", 201), err: "longer than 200"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			c, err := later.ParseCron(tc.spec)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// Next is in UTC whatever the zone of its argument.
			got := c.Next(base.In(time.FixedZone("X", 5*3600)))
			if got.Format(time.RFC3339) != tc.next {
				t.Fatalf("next = %s, want %s", got.Format(time.RFC3339), tc.next)
			}
		})
	}
}
