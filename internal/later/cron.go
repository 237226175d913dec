package later

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser reads the cron expressions of schedules: the standard five fields, the
// @hourly-style descriptors and "@every <duration>". robfig/cron is the maintained,
// widely used Go cron parser; we use its parser and its Next only (the firing is ours:
// exactly once per due time across workers, below).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Cron is a parsed schedule expression; its times are in UTC.
type Cron struct{ s cron.Schedule }

// ParseCron checks a schedule's cron expression: five fields (minute hour
// day-of-month month day-of-week), a descriptor (@yearly, @monthly, @weekly, @daily,
// @hourly) or "@every <duration>" of at least 1s. Times are UTC: a CRON_TZ or TZ
// prefix is refused.
func ParseCron(spec string) (Cron, error) {
	spec = strings.TrimSpace(spec)
	switch {
	case spec == "":
		return Cron{}, fmt.Errorf("is required")
	case len(spec) > 200:
		return Cron{}, fmt.Errorf("is longer than 200 characters")
	case strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ="):
		return Cron{}, fmt.Errorf("schedules are in UTC: leave out the time zone prefix")
	}
	if rest, ok := strings.CutPrefix(spec, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil || d < time.Second {
			return Cron{}, fmt.Errorf("@every needs a duration of at least 1s, such as @every 15m")
		}
	}
	s, err := cronParser.Parse(spec)
	if err != nil {
		return Cron{}, fmt.Errorf("is not a cron expression (minute hour day-of-month month day-of-week, @daily or @every 1h): %v", err)
	}
	c := Cron{s}
	if c.Next(time.Now()).IsZero() {
		return Cron{}, fmt.Errorf("never fires")
	}
	return c, nil
}

// Next returns the first time after t (in UTC) the expression names; zero if none
// within five years.
func (c Cron) Next(t time.Time) time.Time { return c.s.Next(t.UTC()) }
