#!/usr/bin/env bash
# The Python dependency lock: uv.lock (every package pinned, with hashes) resolved from pyproject.toml,
# and the requirement files that pip installs from it with --require-hashes:
#   requirements/app.txt       what the app needs to run (the container image)
#   requirements/test.txt      the app and the tests, linters and lock tooling (`make test`, CI)
#   requirements/loadtest.txt  the app and the load-test tool (`make loadtest`)
# All three come from one resolution, so they agree on every version they share.
#   requirements/deploy-check.txt  the Kubernetes manifest linters (scripts/check-kubernetes.sh), resolved
#                                  on their own from requirements/deploy-check.in: they never share the app's environment
#
#   scripts/lock.sh          re-resolve after a change to pyproject.toml, keeping every pin it can
#   scripts/lock.sh --check  fail if uv.lock or a requirement file is out of step with pyproject.toml
set -euo pipefail
cd "$(dirname "$0")/.."
UV="${UV:-.venv/bin/uv}"

export_to() {
    local dir="$1"
    mkdir -p "$dir"
    local common=(--frozen --no-emit-project --no-dev --format requirements-txt --no-header --quiet)
    "$UV" export "${common[@]}" --output-file "$dir/app.txt"
    "$UV" export "${common[@]}" --extra test --output-file "$dir/test.txt"
    "$UV" export "${common[@]}" --extra loadtest --output-file "$dir/loadtest.txt"
}

compile_tools() {
    # The existing file's pins are kept unless requirements/deploy-check.in rules them out.
    local output="$1"
    [ "$output" = requirements/deploy-check.txt ] || cp requirements/deploy-check.txt "$output"
    "$UV" pip compile requirements/deploy-check.in --generate-hashes --python-version 3.11 --no-header --quiet \
        --output-file "$output"
}

if [ "${1:-}" = "--check" ]; then
    "$UV" lock --check --quiet || {
        echo "uv.lock is out of step with pyproject.toml: run 'make lock' and commit the result" >&2
        exit 1
    }
    scratch="$(mktemp -d)"
    trap 'rm -rf "$scratch"' EXIT
    export_to "$scratch"
    compile_tools "$scratch/deploy-check.txt"
    for name in app test loadtest deploy-check; do
        diff -u "requirements/$name.txt" "$scratch/$name.txt" >&2 || {
            echo "requirements/$name.txt does not match uv.lock: run 'make lock' and commit the result" >&2
            exit 1
        }
    done
    echo "uv.lock and requirements/*.txt match pyproject.toml and requirements/deploy-check.in"
else
    "$UV" lock --quiet
    export_to requirements
    compile_tools requirements/deploy-check.txt
    echo "Locked: uv.lock, requirements/app.txt, requirements/test.txt, requirements/loadtest.txt, requirements/deploy-check.txt"
fi
