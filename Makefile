# ttl-archiver. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
GOLANGCI_LINT_VERSION := v2.14.0
BIN := $(CURDIR)/bin
ARTIFACTS_DIR ?= $(CURDIR)/.aws-sam/build/ArchiverFunction

.PHONY: help demo test test-short lint bench soak fuzz build build-ArchiverFunction tools clean

help: ## List the targets.
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-24s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

tools: node_modules/.installed ## Install the test tools the project pins (npm packages).

# The restore tests run dynalite (a DynamoDB-compatible server) from
# node_modules; with CI set, a missing dynalite fails them instead of
# skipping them.
export TTL_ARCHIVER_DYNALITE := $(CURDIR)/node_modules/.bin/dynalite

test: tools ## Run every test (race detector on), as CI does.
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

demo: ## Run the archiver locally on the sample events in events/ (no AWS account).
	$(GO) run ./cmd/ttl-archiver invoke events/ttl-batch.json events/mixed-batch.json events/no-old-image.json events/bad-records.json

build: ## Build the command-line tool into bin/.
	$(GO) build -o $(BIN)/ttl-archiver ./cmd
# SAM builds the function with this target (Metadata: BuildMethod: makefile).
build-ArchiverFunction: ## Build the Lambda bootstrap (linux/arm64, static) into $(ARTIFACTS_DIR).
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $(ARTIFACTS_DIR)/bootstrap ./function

$(BIN)/golangci-lint:
	GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

lint: $(BIN)/golangci-lint ## Run golangci-lint (errcheck, govet, staticcheck, unused).
	$(BIN)/golangci-lint run ./...

clean: ## Remove build output.
	rm -rf $(BIN) .aws-sam
