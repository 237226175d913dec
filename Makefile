# ThamesThrive. `make run` starts the product on the embedded store; `make test` runs the
# tests that need nothing but Go. See README.md.

GO        ?= go
BIN       ?= bin/thamesthrive
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/thamesthrive/thamesthrive/internal/app.Version=$(VERSION)

.PHONY: all build run test test-race fuzz vet generate services-up services-down test-integration bench bench-scale clean \
	image image-check test-deploy test-topology test-chaos gui test-gui gui-screenshots \
	test-abuse schemathesis vulncheck soak elastic-fixture store-fixture tracker tracker-check test-collect

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

# Short runs of every fuzz target (go test -fuzz takes one target at a time). The budgets
# are execution counts, each 7-22 s on the 2-CPU CI machine, not durations: with a
# duration, Go 1.26's fuzz coordinator can fail a clean run at its own deadline with a bare
# "context deadline exceeded" and no failing input (go.dev/issue/75804, fixed in Go 1.27).
# FUZZTIME=60s (or 1000000x) overrides every target's budget.
fuzz-budget = $(or $(FUZZTIME),$(1))
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeTrack$$' -fuzztime $(call fuzz-budget,100000x) ./internal/collector
	$(GO) test -run '^$$' -fuzz '^FuzzTrack$$' -fuzztime $(call fuzz-budget,50000x) ./internal/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(call fuzz-budget,1000000x) ./internal/query
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeDoc$$' -fuzztime $(call fuzz-budget,300000x) ./internal/domain
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(call fuzz-budget,300000x) ./internal/segmentio

# The browser tracker: tracker/src/tracker.ts -> tracker/dist/tracker.min.js (committed,
# embedded in the binary). Needs node and npm; the versions are pinned by package-lock.json.
tracker:
	cd tracker && npm ci --no-audit --no-fund --ignore-scripts && npm run build

# Fails when the committed tracker build differs from a fresh one.
tracker-check: tracker
	@git diff --exit-code -- tracker/dist || { echo "tracker/dist is stale: run make tracker and commit it"; exit 1; }

# The collection surfaces against the real binary: real Segment and RudderStack SDKs
# from npm, and Chromium (Debian's /usr/bin/chromium) driving /tracker.js and
# analytics-next. Needs node, npm and chromium.
test-collect: tracker-check
	CGO_ENABLED=0 $(GO) build -o tracker/test/.bin/thamesthrive ./cmd/thamesthrive
	cd tracker && THAMESTHRIVE_BIN=$$PWD/test/.bin/thamesthrive npm test

services-up:
	@bash scripts/services/up.sh

services-down:
	@bash scripts/services/down.sh

test-integration:
	@bash scripts/test-integration.sh

bench:
	@bash scripts/bench.sh

bench-scale:
	@bash scripts/bench-scale.sh

# Abusive clients held longer than in `make test`: 200 slow-header connections for 30 s,
# 64 concurrent 1 MB bodies (docs/reliability.md).
test-abuse:
	SLOW_CLIENTS_SECONDS=30 $(GO) test -count=1 -v -run 'TestSlowHeaderClients|TestConcurrentLargeBodiesBoundedMemory|TestConnectionLimit|TestDiskFull' ./test/e2e

# The production backend's upgrade fixture of the current schema version (needs
# ELASTIC_HOST and REDIS_HOST; docs/reliability.md, "Upgrades").
elastic-fixture:
	@bash scripts/elastic-fixture.sh $(REV)

# The embedded store's upgrade fixture of the current schema version,
# test/e2e/testdata/store/schema-v<N>.db, written by this binary (an existing one is kept;
# docs/reliability.md, "Upgrades").
store-fixture:
	$(GO) test -count=1 -run '^TestUpgradeFromFixtures$$' ./test/e2e -update-fixtures

# /track with the bench's mix at half its measured saturation for SOAK_MINUTES (30)
# minutes; RSS, goroutines, open files and p99 per minute must stay flat
# (docs/reliability.md). SOAK_RATE: a fixed rate in requests per second instead.
SOAK_MINUTES ?= 30
soak:
	SOAK_MINUTES=$(SOAK_MINUTES) $(GO) test -count=1 -v -timeout $$(( $(SOAK_MINUTES) + 10 ))m -run '^TestSoak$$' ./test/e2e

# Schemathesis (pinned, from PyPI) over the OpenAPI document of a running binary.
schemathesis:
	@bash scripts/schemathesis/run.sh

# govulncheck with the toolchain go.mod pins, against golang.org/x/vulndb from the Go proxy.
vulncheck:
	@bash scripts/govulncheck.sh

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

# Dependency faults under load (docs/reliability.md): restarts and pauses its own Redis
# and OpenSearch 2.19, kills one with -9, stops a serve replica; stops them on exit.
test-chaos:
	@bash scripts/test-chaos.sh

# The GUI (web/, docs/gui.md). `make gui` rebuilds the committed web/dist from the
# sources and web/package-lock.json; test-gui runs the client unit tests and the
# browser end-to-end run (needs node, npm and /usr/bin/chromium); gui-screenshots
# refreshes the screenshots docs/gui.md shows.
GUI_SHOTS := 01-setup-wrong-token 04-search-syntax-error 06-profile-timeline 07-profile-phone \
	08-segment-live-count 09-rule-stale-version 12-destination-dead-letters 13-dashboard 14-dashboard-phone \
	18-marketer-navigation

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund

gui: web/node_modules/.package-lock.json
	cd web && npm run build

test-gui: build web/node_modules/.package-lock.json
	cd web && npm test
	cd web && THAMESTHRIVE_BIN=../$(BIN) node e2e/run.mjs e2e/out
	cd web && THAMESTHRIVE_BIN=../$(BIN) node e2e/flows.mjs e2e/out

gui-screenshots: test-gui
	mkdir -p docs/gui-screenshots
	rm -f docs/gui-screenshots/*.png
	for s in $(GUI_SHOTS); do cp web/e2e/out/$$s.png docs/gui-screenshots/; done
	cp web/e2e/out/flow-[0-9]*.png docs/gui-screenshots/  # every step of the flow editor's run

clean:
	rm -rf bin
