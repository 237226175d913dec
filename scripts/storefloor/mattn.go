//go:build mattn

package main

import _ "github.com/mattn/go-sqlite3" // cgo: needs a C compiler

func init() {
	engines["mattn"] = func(dir, sync string) (engine, error) { return openSQL("sqlite3", dir, sync) }
}
