//go:build modernc

package main

import _ "modernc.org/sqlite"

func init() {
	engines["modernc"] = func(dir, sync string) (engine, error) { return openSQL("sqlite", dir, sync) }
}
