# Collate: the two set-up commands are `make demo` and `make test`.
# Everything else here is a step they use, or an operator's shortcut.

GO      ?= go
BIN     := bin/collate
DEMO    ?= demo
REVIEWS ?= 3000
SEED    ?= 1
ADDR    ?= 127.0.0.1:8080
export CGO_ENABLED := 1

.PHONY: demo test build assets deps bench fuzz clean

## demo: build Collate, generate and ingest a synthetic national demo set, and serve it.
demo: build
	@rm -rf $(DEMO)/exports $(DEMO)/collate.duckdb $(DEMO)/collate.duckdb.wal
	$(BIN) demo --out $(DEMO)/exports --reviews $(REVIEWS) --seed $(SEED)
	$(BIN) ingest --log-level warn --db $(DEMO)/collate.duckdb $(DEMO)/exports
	$(BIN) serve --db $(DEMO)/collate.duckdb --addr $(ADDR) --demo-users

## test: every test: unit, DuckDB, HTTP, CLI end to end and headless Chromium.
test: deps assets
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 80m ./...

## build: the collate binary with its embedded assets.
build: assets
	$(GO) build -o $(BIN) ./cmd/collate

## assets: ECharts and the dashboard scripts from the npm lockfile, bundled for embedding.
assets: dashboard/static/dist/BUILD.txt
dashboard/static/dist/BUILD.txt: package.json package-lock.json $(wildcard dashboard/web/*.mjs dashboard/web/src/*)
	npm ci --no-audit --no-fund --loglevel=error
	npm run build

## deps: Chromium for the browser tests (installed with apt when running as root).
deps:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else echo "chromium is missing: install it (apt-get install chromium) or browser tests will skip"; fi; \
	fi

## bench: the benchmark tables in docs/benchmarks.md (set COLLATE_BENCH_LARGE=1 for 200,000 reviews).
bench: assets
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 120m ./ingest/ ./analytics/ ./dashboard/

## fuzz: run every fuzz target (every `func Fuzz…` in a _test.go file) for FUZZTIME each
## (default 30s); FUZZ=FuzzSelection runs one. Failures are written to the package's
## testdata/fuzz/ and replay in `make test` from then on. FUZZFLAGS=-parallel=1 on a busy machine.
FUZZTIME ?= 30s
FUZZFLAGS ?=
FUZZ     ?= .
FUZZPKGS ?= $(sort $(dir $(shell grep -rl --include='*_test.go' '^func Fuzz' cmd ingest analytics dashboard schemas)))
fuzz:
	@for pkg in $(FUZZPKGS); do \
	  for t in $$(grep -h '^func Fuzz' $$pkg*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/' | grep -e '$(FUZZ)'); do \
	    echo "== $$pkg $$t ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) ./$$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin $(DEMO) node_modules dashboard/static/dist/*.js dashboard/static/dist/*.txt
	git checkout -- dashboard/static/dist/README.txt
