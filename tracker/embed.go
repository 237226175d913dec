// Package tracker holds the browser tracker served at /tracker.js: its TypeScript
// source is src/tracker.ts, built by `make tracker` into dist/tracker.min.js, which is
// committed and embedded here so that the binary needs nothing at run time.
package tracker

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
)

//go:embed dist/tracker.min.js
var script []byte

var hash = func() string {
	sum := sha256.Sum256(script)
	return hex.EncodeToString(sum[:8])
}()

// Script is the minified tracker.
func Script() []byte { return script }

// Hash names this build of the script: the versioned URL is /tracker/<Hash>.js.
func Hash() string { return hash }
