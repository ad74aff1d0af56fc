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

.PHONY: help build synth test test-unit lint dev token invoke local-tools deploy bench fuzz clean audit-verify

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

build: ## cross-compile every Lambda (linux/arm64, -tags lambda.norpc) into build/lambda/<fn>/bootstrap
	@for fn in $(FUNCTIONS); do \
	  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -trimpath -tags lambda.norpc -ldflags='-s -w' \
	    -o $(BUILD)/$$fn/bootstrap ./functions/$$fn || exit 1; \
	done

synth: build ## synthesize the CloudFormation template (cdk-nag enforced) and lint it with cfn-lint
	rm -rf $(CDK_OUT)
	CDK_OUTDIR=$(CDK_OUT) KYC_FUNCTIONS_DIR=$(BUILD) go run ./infra
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
LOCAL_TOOLS := $(BIN)/kycdev $(BIN)/kyctoken $(BIN)/kycinvoke
ROLE  ?=
SUB   ?=
FN    ?=
EVENT ?=

$(BIN)/%: $(GO_FILES) go.mod go.sum
	@go build -o $@ ./infra/local/cmd/$*

local-tools: $(LOCAL_TOOLS) ## build the local commands (dev server, token, invoke) into .local/bin

dev: synth $(BIN)/kycdev ## the whole system on this machine: emulator, the synthesized stack, API on 127.0.0.1:8080 (Ctrl-C stops it)
	@$(BIN)/kycdev

token: $(BIN)/kyctoken ## print a JWT for the local stack: make -s token ROLE=customer|reviewer|admin SUB=<id>
	@$(BIN)/kyctoken -role '$(ROLE)' -sub '$(SUB)'

invoke: $(BIN)/kycinvoke ## run one handler once against the running local stack: make -s invoke FN=<function> EVENT=<file.json>
	@$(BIN)/kycinvoke -fn '$(FN)' -event '$(EVENT)'

clean: ## remove build output
	rm -rf build $(CDK_OUT) .local

audit-verify: ## recompute a customer's audit chain (CUSTOMER=<id> [TABLE=<name>]); exit 1 names the first broken link
	@test -n "$(CUSTOMER)" || { echo "usage: make audit-verify CUSTOMER=<id> [TABLE=<name>]" >&2; exit 2; }
	@go run ./infra/local/cmd/kycaudit $(if $(TABLE),-table $(TABLE)) $(CUSTOMER)
