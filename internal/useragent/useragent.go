// Package useragent is the one user-agent parser of the process: the /track pipeline
// fills new sessions with it and the user-agent workflow node answers with it, so both
// give the same browser, OS and device for the same string. It wraps
// medama-io/go-useragent (a trie built once, no allocation per call).
package useragent

import (
	"strings"
	"sync"

	medama "github.com/medama-io/go-useragent"
)

// Agent is what a user-agent string tells.
type Agent struct {
	Browser        string // e.g. "Chrome"; empty when unknown
	BrowserVersion string
	OS             string // e.g. "Windows"
	Device         string // lower case: "desktop", "mobile", "tablet", "tv", "bot" or ""
	Bot            bool
	Mobile         bool
}

// parser is built on first use: the trie costs a few MB and some milliseconds.
var parser = sync.OnceValue(medama.NewParser)

// Parse reads ua. It is safe for concurrent use.
func Parse(ua string) Agent {
	a := parser().Parse(ua)
	return Agent{
		Browser: string(a.Browser()), BrowserVersion: a.BrowserVersion(), OS: string(a.OS()),
		Device: strings.ToLower(string(a.Device())), Bot: a.IsBot(), Mobile: a.IsMobile(),
	}
}
