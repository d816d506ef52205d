#!/usr/bin/env bash
# `terraform init` + `terraform validate` of every module and example, then the modules'
# `terraform test` files (mock providers, plan only). Offline when a filesystem mirror of
# the AWS provider exists (scripts/terraform-env.sh), else through the registry.
#
# csoc-commons declares `configuration_aliases = [aws.destination]`, and Terraform cannot
# validate such a module on its own (the alias has no configuration there): it is
# validated through examples/commons, which configures both providers, and planned by its
# own `terraform test` runs, which pass mocked providers for both.
# Env: TERRAFORM (default terraform on PATH).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
tf="${TERRAFORM:-terraform}"
command -v "$tf" >/dev/null || { echo "terraform-validate: $tf not found: install Terraform >= 1.11 (https://developer.hashicorp.com/terraform/install)" >&2; exit 1; }

eval "$(scripts/terraform-env.sh)"
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1

validate_dirs=(terraform/modules/child-subscription terraform/modules/opensearch-domain terraform/examples/commons terraform/examples/child)
test_dirs=(terraform/modules/csoc-commons terraform/modules/child-subscription terraform/modules/opensearch-domain)

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
run() {
    local dir="$1"
    shift
    if ! (cd "$dir" && "$tf" "$@" -no-color) >"$log" 2>&1; then
        echo "terraform-validate: terraform $* failed in $dir:" >&2
        cat "$log" >&2
        exit 1
    fi
}

for dir in "${validate_dirs[@]}" "${test_dirs[@]}"; do
    # -lockfile=readonly in the examples: their committed lock file must already name
    # the provider build (run `terraform init -upgrade` there to change it on purpose).
    case "$dir" in
    terraform/examples/*) run "$dir" init -backend=false -input=false -lockfile=readonly ;;
    *) run "$dir" init -backend=false -input=false ;;
    esac
done
for dir in "${validate_dirs[@]}"; do
    run "$dir" validate
    echo "validate $dir: ok"
done
for dir in "${test_dirs[@]}"; do
    run "$dir" test
    echo "test $dir: $(grep -Eo '[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)"
done
