# ThamesThrive. `make run` starts the product on the embedded store; `make test` runs the
# tests that need nothing but Go. See README.md.

GO        ?= go
BIN       ?= bin/thamesthrive
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/thamesthrive/thamesthrive/internal/app.Version=$(VERSION)
FUZZTIME  ?= 15s

.PHONY: all build run test test-race fuzz vet generate services-up services-down test-integration bench clean \
	image image-check test-deploy test-topology

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/thamesthrive

run: build
	./$(BIN) serve

test:
	$(GO) test ./...

test-race:
	$(GO) test -race ./...

# Regenerates the files derived from code (the node catalogue in docs/workflows.md, the
# variables in docs/configuration.md);
# tests fail when they are stale.
generate:
	$(GO) test ./internal/actions/all -run TestCatalogueDoc -update
	$(GO) test ./internal/config -run TestConfigurationDoc -update

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

# Short runs of every fuzz target (go test -fuzz takes one target at a time).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeTrack$$' -fuzztime $(FUZZTIME) ./internal/collector
	$(GO) test -run '^$$' -fuzz '^FuzzTrack$$' -fuzztime $(FUZZTIME) ./internal/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./internal/query
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeDoc$$' -fuzztime $(FUZZTIME) ./internal/domain

services-up:
	@bash scripts/services/up.sh

services-down:
	@bash scripts/services/down.sh

test-integration:
	@bash scripts/test-integration.sh

bench:
	@bash scripts/bench.sh

# Deployment (docs/deployment.md): the container image (podman, or docker with a
# daemon), its inspection and a run where the machine allows it; the Helm chart and
# compose file checked offline (own module under deploy/); the chart's topology on
# loopback with real Redis and OpenSearch.
image:
	@bash scripts/image/build.sh

image-check:
	@bash scripts/image/check.sh

test-deploy:
	cd deploy && $(GO) test -count=1 ./...

test-topology:
	@bash scripts/test-topology.sh

clean:
	rm -rf bin
