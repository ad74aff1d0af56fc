# KYC gate. The two commands a new user needs: `make dev` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The CDK's Go bindings run on Node.js; Node 20 is past end-of-life for jsii.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

STACK     ?= KycGate
CDK_OUT   ?= cdk.out
TEMPLATE  := $(CDK_OUT)/$(STACK).template.json
BUILD     := build/lambda
BIN       := .local/bin
FUNCTIONS := $(notdir $(wildcard functions/*))
GO_FILES  := $(shell find . -name '*.go' -not -path './cdk.out/*' -not -path './build/*' -not -path './.local/*')
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: help build synth test test-unit lint dev token signin invoke local-tools deploy bench fuzz clean audit-verify

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

build: ## cross-compile every Lambda (linux/arm64, -tags lambda.norpc) into build/lambda/<fn>/bootstrap
	@for fn in $(FUNCTIONS); do \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags='-s -w' \
	    -o $(BUILD)/$$fn/bootstrap ./functions/$$fn || exit 1; \
	done

synth: build ## synthesize the CloudFormation template (cdk-nag enforced) and lint it with cfn-lint
	rm -rf $(CDK_OUT)
	CDK_OUTDIR=$(CDK_OUT) KYC_FUNCTIONS_DIR=$(BUILD) go run ./infra/cdk
	cfn-lint $(TEMPLATE)

# The aws-cdk CLI that deploys the assembly `make synth` wrote. Its bundled
# cloud-assembly-schema (>= 55.5) reads the v55 manifest aws-cdk-lib 2.276 writes.
# The target account/region needs `cdk bootstrap` once (the assets bucket).
CDK_CLI ?= npx --yes aws-cdk@2.1148.1

deploy: synth ## deploy the synthesized stack with the CDK CLI (AWS credentials and a bootstrapped account needed)
	$(CDK_CLI) deploy --app $(CDK_OUT) $(STACK) --require-approval broadening

lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l $(GO_FILES)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...

test: lint synth local-tools ## everything: lint, synth + cfn-lint, unit, emulator integration, CDK assertions, end-to-end
	go test -count=1 -timeout 12m ./...

test-unit: ## only the tests that need no emulator and no template
	go test -short -count=1 ./shared/...

# ---- The local stack (infra/local/dev; README.md "Quick start") ----
# The local commands are built quietly into $(BIN), and only when a Go file
# changed, so that `make -s token` prints the token and nothing else.
LOCAL_TOOLS := $(BIN)/kycdev $(BIN)/kyctoken $(BIN)/kycinvoke $(BIN)/kycsignin
ROLE  ?=
SUB   ?=
FN    ?=
EVENT ?=

$(BIN)/%: $(GO_FILES) go.mod go.sum
	@go build -o $@ ./infra/local/cmd/$*

local-tools: $(LOCAL_TOOLS) ## build the local commands (dev server, token, signin, invoke) into .local/bin

dev: synth $(BIN)/kycdev ## the whole system on this machine: emulator, the synthesized stack, API on 127.0.0.1:8080 (Ctrl-C stops it)
	@$(BIN)/kycdev

token: $(BIN)/kyctoken ## print a JWT for the local stack: make -s token ROLE=customer|reviewer|admin SUB=<id>
	@$(BIN)/kyctoken -role '$(ROLE)' -sub '$(SUB)'

signin: $(BIN)/kycsignin ## print a URL that signs a person into the running dev server's pages: make -s signin ROLE=customer|reviewer|admin SUB=<id>
	@$(BIN)/kycsignin -role '$(ROLE)' -sub '$(SUB)'

invoke: $(BIN)/kycinvoke ## run one handler once against the running local stack: make -s invoke FN=<function> EVENT=<file.json>
	@$(BIN)/kycinvoke -fn '$(FN)' -event '$(EVENT)'

# ---- Benchmarks (infra/local/bench; docs/benchmarks.md) ----
# Benchmarks, not timed tests: they run only here (go test -bench), never
# under `make test`. The report is written even when a benchmark fails, and
# the target then fails with it.
BENCH_OUT    := build/bench
BENCH_TEST   := KYC_BENCH_OUT=$(BENCH_OUT) go test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 60m ./infra/local/bench
BENCH_REPORT := go run ./infra/local/cmd/benchreport -in $(BENCH_OUT) -out docs/benchmarks.md

bench: build synth ## benchmarks into docs/benchmarks.md: AWS calls per operation, sweep scaling, size and cold start, cost per verification, local stack under load
	@rm -rf $(BENCH_OUT) && mkdir -p $(BENCH_OUT)
	@printf '%s\n' 'make build synth' "$(BENCH_TEST)" "$(BENCH_REPORT)" > $(BENCH_OUT)/commands.txt
	@status=0; $(BENCH_TEST) 2>&1 | tee $(BENCH_OUT)/bench.txt || status=$$?; \
	  $(BENCH_REPORT) && echo "wrote docs/benchmarks.md"; exit $$status

# ---- Fuzzing (go test -fuzz; seed corpora in each package's testdata/fuzz) ----
# Every FuzzXxx of the module runs for FUZZTIME. A crasher fails the target
# and is written to testdata/fuzz/<FuzzXxx>/ of its package, where plain
# `go test` replays it from then on (commit it with the fix). -short: the
# targets need no emulator, so none is started.
FUZZTIME ?= 20s

fuzz: ## run every fuzz target for FUZZTIME each (default 20s); fails on a crasher
	@for file in $$(grep -rl --include='*_test.go' '^func Fuzz' shared infra functions | sort); do \
	  for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$file); do \
	    echo "fuzz ./$$(dirname $$file) $$name for $(FUZZTIME)"; \
	    go test -short -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) ./$$(dirname $$file) || exit 1; \
	  done; \
	done

clean: ## remove build output
	rm -rf build $(CDK_OUT) .local

audit-verify: ## recompute a customer's audit chain (CUSTOMER=<id> [TABLE=<name>]); exit 1 names the first broken link
	@test -n "$(CUSTOMER)" || { echo "usage: make audit-verify CUSTOMER=<id> [TABLE=<name>]" >&2; exit 2; }
	@go run ./infra/local/cmd/kycaudit $(if $(TABLE),-table $(TABLE)) $(CUSTOMER)
