//go:build ncruces

package main

import (
	_ "github.com/ncruces/go-sqlite3/driver"
)

func init() {
	engines["ncruces"] = func(dir, sync string) (engine, error) { return openSQL("sqlite3", dir, sync) }
}
