// Package web holds the GUI: its sources (src/, built with Vite) and its build (dist/),
// which is committed so that the binary embeds it with nothing but Go. `make gui`
// rebuilds dist from the sources and the committed package-lock.json; CI fails when
// the committed build differs from what the sources give.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist is the built GUI: index.html at its root, hashed files under assets/.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // dist is embedded above; Sub of a valid name cannot fail
	}
	return sub
}
