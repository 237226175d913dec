package config

import "strings"

// docHeader and docFooter frame the table of variables in docs/configuration.md.
const docHeader = `<!-- Generated from internal/config/vars.go by ` + "`make generate`" + `; do not edit by hand. -->
# Configuration

Every setting is an environment variable. A value that does not parse stops start-up with
a message naming the variable (` + "`" + `thamesthrive: configuration: TRACK_MAX_BODY_BYTES: "huge" is
not a size in bytes` + "`" + `), exit status 2.

Every variable is declared once, in ` + "`internal/config/vars.go`" + `: its name, default, meaning,
parser and check. Parsing, defaults, validation and this page all come from that table, so
adding a variable is one entry there (and its field in ` + "`config.Config`" + `), then
` + "`make generate`" + ` to rewrite this page; ` + "`TestConfigurationDoc`" + ` fails while the page is stale.

| variable | default | meaning |
|---|---|---|
`

const docFooter = `
Fixed limits of the collector that are not configurable (they protect the process, not
policy): JSON nesting at most 32 levels, at most 20,000 values per body, strings at most
64 KiB, ids (source, session, profile, event) at most 128 printable ASCII characters
without spaces, ` + "`" + `/` + "`" + `, ` + "`" + `?` + "`" + `, ` + "`" + `#` + "`" + ` or ` + "`" + `%` + "`" + `.

HTTP timeouts (fixed; they protect the process from slow and idle clients): the request
headers must arrive within 10 s (` + "`ReadHeaderTimeout`" + `), the whole request with its body within
30 s (` + "`ReadTimeout`" + `), the answer must be written within 60 s (` + "`WriteTimeout`" + `), and an idle
keep-alive connection is closed after 120 s (` + "`IdleTimeout`" + `); headers are at most 64 KiB. A
client that sends its headers a byte at a time is disconnected after 10 s and never blocks
others (docs/reliability.md has the figures).
`

// Markdown renders docs/configuration.md from the table of variables.
func Markdown() string {
	var b strings.Builder
	b.WriteString(docHeader)
	for _, v := range vars {
		b.WriteString("| `" + v.Name + "` | " + v.Default + " | " + v.Doc + " |\n")
	}
	b.WriteString(docFooter)
	return b.String()
}
