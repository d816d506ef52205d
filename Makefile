# csoc-forwarder — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
OUT ?= ./out
FIXTURE ?= fixtures/kinesis-mixed.json

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

BIN ?= ./target/debug/csoc-forwarder

.PHONY: run
run: ## Build (cargo shows its progress), then process the bundled fixture into a fresh directory under ./out with the local sinks (no AWS needed)
	@echo "Building $(BIN) (debug); the first build takes several minutes..."
	$(CARGO) build --bin csoc-forwarder
	@mkdir -p $(OUT)
	@dir=$$(mktemp -d "$(OUT)/run-$$(date -u +%Y%m%dT%H%M%SZ)-XXXX") && \
	  echo "$(BIN) process --out $$dir $(FIXTURE)" && \
	  $(BIN) process --out "$$dir" $(FIXTURE) && \
	  echo && echo "Output of this run (a fresh directory: $$dir):" && \
	  find "$$dir" -type f | sort | sed 's/^/  /'

VENV ?= .venv

.PHONY: test
test: tools lint unit e2e tf-check tf-validate tf-apply arm64 ## Install what is needed, then fmt, clippy, all tests, the end-to-end test, the Terraform checks, validate/test/apply, the arm64 run

.PHONY: tools
tools: $(VENV)/.installed ## Install the test tools (requirements-test.txt) into ./.venv

$(VENV)/.installed: requirements-test.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

.PHONY: lint
lint: ## cargo fmt --check and clippy -D warnings
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --locked -- -D warnings

.PHONY: unit
unit: ## All Rust tests (unit, integration, snapshots, property tests; benches are compiled by lint, run by make bench); tools from ./.venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(CARGO) test --lib --bins --tests --locked -- --skip e2e:: --skip terraform::apply:: --skip arm64::
	$(CARGO) test --doc --locked

.PHONY: test-cluster
test-cluster: ## Opt-in: the OpenSearch test against a real cluster (OPENSEARCH_TEST_URL=...)
	@test -n "$$OPENSEARCH_TEST_URL" || { echo "set OPENSEARCH_TEST_URL (and OPENSEARCH_AUTH etc.)"; exit 2; }
	$(CARGO) test --locked --test it opensearch_cluster -- --nocapture
.PHONY: e2e
e2e: tools ## End to end on emulated AWS: moto, cargo lambda's runtime API emulator, the real binary
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(CARGO) test --locked --test it -- e2e:: --nocapture

# Lambda package (provided.al2023). ARCH=arm64 (default) or x86_64.
ARCH ?= arm64
LAMBDA_DIR ?= target/lambda
RUST_TARGET_arm64 := aarch64-unknown-linux-gnu
RUST_TARGET_x86_64 := x86_64-unknown-linux-gnu

.PHONY: package
package: tools ## Build target/lambda/csoc-forwarder/bootstrap.zip with cargo-lambda (ARCH=arm64 default, or x86_64)
	@case "$(ARCH)" in arm64|x86_64) ;; *) echo "error: ARCH must be arm64 or x86_64, not $(ARCH)" >&2; exit 2;; esac
	@target=$(RUST_TARGET_$(ARCH)); \
	if ! rustup target list --installed 2>/dev/null | grep -qx "$$target"; then \
	  echo "Installing the Rust standard library for $$target (rustup target add $$target)..."; \
	  if ! rustup target add "$$target"; then \
	    echo "" >&2; \
	    echo "error: could not install the Rust target $$target (rustup needs internet access for it)." >&2; \
	    echo "  Either run 'rustup target add $$target' where the internet is reachable and retry," >&2; \
	    echo "  or build for x86_64: 'make package ARCH=x86_64' (and deploy the function with architecture x86_64)." >&2; \
	    exit 1; \
	  fi; \
	fi
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo-lambda lambda build --release --locked \
	  --target $(RUST_TARGET_$(ARCH)) --output-format zip --lambda-dir $(LAMBDA_DIR)
	@ls -l $(LAMBDA_DIR)/csoc-forwarder/bootstrap.zip
	@echo "Lambda package ($(ARCH), provided.al2023): $(LAMBDA_DIR)/csoc-forwarder/bootstrap.zip"

.PHONY: bench
bench: ## Throughput and peak-RSS of the whole pipeline, peak RSS on 6 MB events against 100 MB, Sigma evaluation with 100 rules (release build)
	$(CARGO) build --release --locked --bin csoc-forwarder
	$(CARGO) bench --locked --bench pipeline
	$(CARGO) bench --locked --bench memory
	$(CARGO) bench --locked --bench sigma

.PHONY: fuzz
fuzz: ## Fuzz the decoder, the envelope reader against serde_json, the SIMD base64 against the base64 crate, the audit-records reader, documents' rewritten forms and the one-pass message path against the tree with cargo-fuzz (not in CI; FUZZ_SECONDS=60 each)
	command -v cargo-fuzz >/dev/null || $(CARGO) install --locked cargo-fuzz
	cd fuzz && mkdir -p corpus/decode && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run decode corpus/decode seeds -- -max_total_time=$${FUZZ_SECONDS:-60} -rss_limit_mb=512
	cd fuzz && mkdir -p corpus/audit && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run audit corpus/audit seeds-audit -- -max_total_time=$${FUZZ_SECONDS:-60} -rss_limit_mb=512
	cd fuzz && mkdir -p corpus/rewrite && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run rewrite corpus/rewrite seeds-rewrite -- -max_total_time=$${FUZZ_SECONDS:-60} -rss_limit_mb=512
	cd fuzz && mkdir -p corpus/one_pass && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run one_pass corpus/one_pass seeds-one-pass -- -max_total_time=$${FUZZ_SECONDS:-60} -rss_limit_mb=512
	cd fuzz && mkdir -p corpus/envelope && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run envelope corpus/envelope seeds-envelope -- -max_total_time=$${FUZZ_SECONDS:-60} -rss_limit_mb=512
	cd fuzz && mkdir -p corpus/base64 && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run base64 corpus/base64 seeds -- -max_total_time=$${FUZZ_SECONDS:-60} -rss_limit_mb=512

.PHONY: dashboards
dashboards: ## Regenerate opensearch/dashboards/csoc-overview.ndjson from scripts/make_dashboards.py (deterministic)
	python3 scripts/make_dashboards.py

.PHONY: dashboard-picture
dashboard-picture: tools ## Draw docs/csoc-overview.svg: the overview dashboard's aggregations over the fixtures (osmem-server)
	$(CARGO) build --locked --bin csoc-forwarder
	python3 scripts/dashboard_picture.py

.PHONY: fixtures
fixtures: ## Regenerate fixtures/ (deterministic)
	python3 scripts/make_fixtures.py
	python3 scripts/make_eventbridge_fixtures.py
	python3 scripts/make_function_url_fixtures.py

.PHONY: tf-check
tf-check: ## terraform fmt -check and checkov (installed into local virtualenvs)
	bash scripts/terraform-check.sh

.PHONY: tf-validate
tf-validate: ## terraform validate of every module and example, and the modules' `terraform test` (mock providers); offline with the provider mirror
	bash scripts/terraform-validate.sh

.PHONY: tf-apply
tf-apply: tools ## Apply examples/commons and examples/child on moto, send a log event through them, destroy (~2-4 min)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(CARGO) test --locked --test it -- terraform::apply:: --nocapture

.PHONY: arm64
arm64: tools ## Build the arm64 package (make package) and run it under qemu-user: same output as native, cold start in the runtime emulator
	bash scripts/arm64-deps.sh
	$(MAKE) package ARCH=arm64
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(CARGO) test --locked --test it -- arm64:: --nocapture

.PHONY: clean
clean: ## Remove build output, ./out and the local virtualenvs
	$(CARGO) clean
	rm -rf $(OUT) .venv .venv-checkov .venv-tf
