#!/bin/sh
# Counts the arrows of the module's internal import graph: one per (package, imported
# package of this module), test imports excluded. docs/architecture.md quotes it.
set -eu
cd "$(dirname "$0")/.."
go list -f '{{.ImportPath}} {{join .Imports " "}}' ./... |
	awk '{for (i = 2; i <= NF; i++) if ($i ~ /^github.com\/thamesthrive\/thamesthrive\//) n++} END {print n+0}'
