# ttl-archiver. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
GOLANGCI_LINT_VERSION := v2.14.0
BIN := $(CURDIR)/bin
ARTIFACTS_DIR ?= $(CURDIR)/.aws-sam/build/ArchiverFunction

.PHONY: help demo test lint bench soak fuzz build build-ArchiverFunction build-DailyCheckFunction tools venv release clean

help: ## List the targets.
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-24s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# The Python test tools the project pins (moto_server, cfn-lint), in a
# virtual environment (.venv), installed again when requirements-dev.txt
# changes: nothing is installed into the system's Python, which PEP 668
# systems (Debian 12, Ubuntu 24.04) refuse. --system-site-packages lets
# pip take pinned versions already installed system-wide instead of
# downloading them; venv-scripts.py then puts their scripts in .venv/bin.
PYTHON ?= python3
VENV := $(CURDIR)/.venv
$(VENV)/.installed: requirements-dev.txt .ci/venv-scripts.py
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(VENV)/bin/python .ci/venv-scripts.py cfn-lint moto
	@touch $@

venv: $(VENV)/.installed ## Create .venv with the pinned Python test tools (cfn-lint, moto).

tools: node_modules/.installed $(VENV)/.installed ## Install the test tools the project pins (npm packages, and pip packages into .venv).

# The restore tests run dynalite (a DynamoDB-compatible server) from
# node_modules; with CI set, a missing dynalite fails them instead of
# skipping them.
export TTL_ARCHIVER_DYNALITE := $(CURDIR)/node_modules/.bin/dynalite
# The end-to-end tests against moto run the virtual environment's
# moto_server. With CI set, a missing moto fails them instead of skipping
# them.
export TTL_ARCHIVER_PYTHON := $(VENV)/bin/python
export TTL_ARCHIVER_MOTO_SERVER := $(VENV)/bin/moto_server

# cfn-lint (with the SAM translator) validates template.yaml: resource
# properties, intrinsic functions, the Fn::ForEach expansion and best
# practices. Any error, warning or informational finding fails the run.
CFN_LINT ?= $(VENV)/bin/cfn-lint

test: tools ## Run every test (race detector on), as CI does.
	$(CFN_LINT) --non-zero-exit-code informational template.yaml
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

# The short soak runs inside `make test`; this is the long one the README
# quotes: a million TTL items over 8 shards with every fault mixed in. The
# function processes' log lines (with requestId and timestamp) are kept, so
# that a late answer the verdict names can be traced to its process.
SOAK_ITEMS ?= 1000000
soak: tools ## Long soak under faults (1M TTL items, 8 shards, ~5 min); report and function log in out/soak/.
	mkdir -p out/soak
	$(GO) test -count=1 -run '^TestSoakLong$$' -timeout 30m -v ./internal/soak -soak.items=$(SOAK_ITEMS) -soak.report=$(CURDIR)/out/soak/report.json -soak.fnlog=$(CURDIR)/out/soak/function.log

# Every fuzz target, each for FUZZTIME; a crasher lands in that package's
# testdata/fuzz and fails `make test` from then on. The targets are found
# in the code (every func FuzzXxx in a _test.go file), so none is
# forgotten; CI runs each for 100 inputs (FUZZTIME=100x in .ci/run).
FUZZTIME ?= 30s
fuzz: ## Run every fuzz target for FUZZTIME (default 30s).
	@set -e; n=0; \
	for f in $$(grep -rlE --include='*_test.go' --exclude-dir=node_modules --exclude-dir=.git '^func Fuzz' . | sort); do \
		for t in $$(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/p' $$f); do \
			echo "== ./$$(dirname $${f#./}) $$t"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) "./$$(dirname $${f#./})"; \
			n=$$((n+1)); \
		done; \
	done; \
	echo "fuzz: $$n targets, $(FUZZTIME) each"; \
	test $$n -gt 0

# Benchmarks: the Go benchmarks of archive/, then the whole-function
# measurements, into BENCHMARKS.md and the plots in docs/ (~3 min).
bench: tools ## Measure speed, memory, start-up and the Firehose bill; writes BENCHMARKS.md.
	mkdir -p out/bench
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./archive ./restore | tee out/bench/archive.txt
	$(GO) run ./internal/bench/cmd/benchreport -o BENCHMARKS.md -docs docs -gobench out/bench/archive.txt -costs out/bench/costs.md

DEMO_EVENTS := events/ttl-batch.json events/mixed-batch.json events/no-old-image.json events/all-types.json events/bad-records.json

demo: ## Run the sample events through the real function into a local Firehose and S3 (no AWS account).
	$(GO) build -o $(BIN)/ttl-archiver ./cmd/ttl-archiver
	CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -o $(BIN)/bootstrap ./function
	rm -rf out/demo
	$(BIN)/ttl-archiver invoke --verbose --bootstrap $(BIN)/bootstrap --out out/demo $(DEMO_EVENTS)
	@echo
	@echo "The Orders table's archived items (ttl-archiver cat out/demo --source-table Orders):"
	@$(BIN)/ttl-archiver cat out/demo --source-table Orders

build: ## Build the command-line tool into bin/.
	$(GO) build -o $(BIN)/ttl-archiver ./cmd/ttl-archiver

# SAM builds the function with this target (Metadata: BuildMethod: makefile).
build-ArchiverFunction: ## Build the Lambda bootstrap (linux/arm64, static) into $(ARTIFACTS_DIR).
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $(ARTIFACTS_DIR)/bootstrap ./function

# The daily check of the archive (DailyCheckFunction), built the same way.
build-DailyCheckFunction: ## Build the daily check's Lambda bootstrap (linux/arm64, static) into $(ARTIFACTS_DIR).
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $(ARTIFACTS_DIR)/bootstrap ./function/dailycheck

$(BIN)/golangci-lint:
	GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

lint: $(BIN)/golangci-lint ## Run golangci-lint (errcheck, govet, staticcheck, unused).
	$(BIN)/golangci-lint run ./...

# A release: the function's and the daily check's Lambda zips (bootstrap)
# for arm64 and amd64, the command-line tool for each platform, and
# SHA256SUMS over them, in $(DIST). VERSION is the tag (git describe);
# the binaries print it, and the commit, with `ttl-archiver version`.
VERSION ?= $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null || echo v0.0.0-$$(git rev-parse --short HEAD 2>/dev/null || echo dev))
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DIST ?= $(CURDIR)/dist
CLI_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
LAMBDA_ARCHS ?= arm64 amd64
RELEASE_LDFLAGS := -s -w -X main.releaseVersion=$(VERSION) -X main.releaseCommit=$(COMMIT)

release: ## Build the release into dist/: Lambda zips (arm64, amd64), the CLI for linux/darwin/windows, SHA256SUMS.
	rm -rf $(DIST) && mkdir -p $(DIST)/.work
	@set -e; for arch in $(LAMBDA_ARCHS); do \
		for fn in function:archiver function/dailycheck:dailycheck; do \
			pkg=$${fn%%:*}; name=$${fn#*:}; dir=$(DIST)/.work/$$name-$$arch; \
			echo "build $$name function $(VERSION) linux/$$arch"; \
			GOOS=linux GOARCH=$$arch CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $$dir/bootstrap ./$$pkg; \
			touch -t 198001010000 $$dir/bootstrap; \
			(cd $$dir && zip -q -X $(DIST)/ttl-archiver-$$name-function_$(VERSION)_linux_$$arch.zip bootstrap); \
		done; \
	done
	@set -e; for p in $(CLI_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "build ttl-archiver $(VERSION) $$os/$$arch"; \
		GOOS=$$os GOARCH=$$arch CGO_ENABLED=0 $(GO) build -trimpath -ldflags='$(RELEASE_LDFLAGS)' -o $(DIST)/ttl-archiver_$(VERSION)_$${os}_$$arch$$ext ./cmd/ttl-archiver; \
	done
	rm -rf $(DIST)/.work
	cd $(DIST) && sha256sum ttl-archiver* > SHA256SUMS && sha256sum -c --quiet SHA256SUMS
	@echo "release $(VERSION) in $(DIST):" && ls $(DIST)

clean: ## Remove build output.
	rm -rf $(BIN) .aws-sam $(DIST) $(VENV)
