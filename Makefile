# porxgate — the two commands a newcomer needs are `make run` and `make test`.
GO       ?= go
PKGS     ?= ./...
FUZZTIME ?= 10s
BENCHTIME ?= 1s
# The packages whose tests `make test` runs again under the race detector: the translation, the
# load generator and the test network helpers, a minute or so together.
RACE_PKGS ?= ./ebxml/... ./fhir/... ./v3/... ./mapping/... ./internal/loadgen/... ./internal/testnet/...
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run test bench lint fuzz conformance build faults

## run: start the gateway with its embedded defaults (built-in EPS simulator, in-memory store) on 127.0.0.1:8080
run:
	$(GO) run ./cmd/porxgate serve

## test: every test, corpus conformance included (PORXGATE_CORPUS, default ../shared/corpus), then the
## race detector over the packages whose tests take seconds (RACE_PKGS; it needs cgo and a C compiler:
## without one it is skipped with a note, except in CI, where that fails)
test:
	$(GO) test -count=1 $(PKGS)
	@if CGO_ENABLED=1 $(GO) env CC >/dev/null 2>&1 && command -v "$$(CGO_ENABLED=1 $(GO) env CC)" >/dev/null 2>&1; then \
		echo "CGO_ENABLED=1 $(GO) test -race -count=1 $(RACE_PKGS)"; \
		CGO_ENABLED=1 $(GO) test -race -count=1 $(RACE_PKGS); \
	elif [ -n "$$CI" ]; then echo "the race detector needs a C compiler (apt-get install -y gcc libc6-dev)"; exit 1; \
	else echo "race detector skipped: no C compiler (apt-get install -y gcc libc6-dev)"; fi

## bench: Go benchmarks with allocations; msgs/s is reported per benchmark
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) $(PKGS)

## lint: gofmt check and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## fuzz: run each fuzz target briefly (FUZZTIME per target)
fuzz:
	@bash scripts/fuzz-all.sh $(FUZZTIME)

## conformance: the corpus checks, one line per check
conformance:
	$(GO) run ./cmd/porxgate conformance --corpus $${PORXGATE_CORPUS:-../shared/corpus}

## build: the static binary the container image copies (bin/porxgate; VERSION stamps `porxgate version`)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/porxgate ./cmd/porxgate

## faults: the fault suite on real processes (redis-server with AOF, `porxgate sim`, gateway replicas, an MHS receiver), FAULTS_N messages per scenario, a 30s EPS outage; fails unless nothing is lost, falsely rejected or acknowledged-but-unanswered. make test runs a short version (20 per scenario, 5s outage) when CI is set.
FAULTS_N ?= 500
faults: build
	PORXGATE_FAULTS=1 PORXGATE_FAULTS_N=$(FAULTS_N) PORXGATE_FAULTS_OUTAGE=30s PORXGATE_FAULTS_BIN=$(CURDIR)/bin/porxgate \
		$(GO) test -count=1 -run TestFaultSuite -v -timeout 60m ./internal/faults
