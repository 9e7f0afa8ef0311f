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

## bench: the benchmark tables of docs/benchmarks.md at 1,000 and 20,000 demo reviews
## (COLLATE_BENCH_LARGE=1 adds 200,000; building that store takes about an hour the first
## time). Ingest beside DuckDB's read_json; every query in Collate, as bare SQL in DuckDB and
## in SQLite; every page and API call over HTTP. Raw output in BENCHOUT, tables in BENCHTABLE.
## Packages run one at a time (-p 1): a benchmark must not share the CPUs with another.
BENCHTIME   ?= 20x
BENCHOUT    ?= bin/bench.out
BENCHTABLE  ?= bin/bench.md
BENCHSTORES ?= $(or $(TMPDIR),/tmp)/collate-analytics-bench
BENCHSIZES  ?= 1000 20000 $(if $(filter 1,$(COLLATE_BENCH_LARGE)),200000)
comma := ,
space := $(subst ,, )
bench: SHELL := /bin/bash
bench: .SHELLFLAGS := -o pipefail -c
bench: assets
	@mkdir -p $(dir $(BENCHOUT)) $(dir $(BENCHTABLE))
	@{ echo "machine: $$(nproc) CPUs,$$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), $$(free -g | awk '/^Mem:/{print $$2}') GiB RAM, $$(go version | cut -d' ' -f3)"; \
	   echo "load average at the start: $$(cut -d' ' -f1-3 /proc/loadavg)"; } | tee $(BENCHOUT)
	COLLATE_BENCH_SIZES=$(subst $(space),$(comma),$(strip $(BENCHSIZES))) COLLATE_BENCH_STORES=$(BENCHSTORES) \
	  $(GO) test -p 1 -run '^$$' -bench . -benchtime 1x -timeout 180m ./ingest/ | tee -a $(BENCHOUT)
	COLLATE_BENCH_STORES=$(BENCHSTORES) $(GO) test -p 1 -run '^$$' -bench . -benchtime $(BENCHTIME) -timeout 180m ./analytics/ ./analytics/peer/ | tee -a $(BENCHOUT)
	@for n in $(BENCHSIZES); do echo "size: $$n" | tee -a $(BENCHOUT); \
	  COLLATE_BENCH_DB=$(BENCHSTORES)/demo-$$n-seed1.duckdb $(GO) test -run '^$$' -bench '^BenchmarkServer$$' -benchtime $(BENCHTIME) ./dashboard/ \
	    | tee -a $(BENCHOUT) || exit 1; done
	@echo "load average at the end: $$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $(BENCHOUT)
	@COLLATE_BENCH_RESULTS=$(abspath $(BENCHOUT)) COLLATE_BENCH_TABLE=$(abspath $(BENCHTABLE)) \
	  $(GO) test -count=1 -run '^TestBenchTable$$' ./analytics/peer/ >/dev/null && cat $(BENCHTABLE)

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
