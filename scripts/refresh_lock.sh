#!/usr/bin/env bash
# Re-resolves the locks of exact versions (direct and transitive dependencies) that the README's
# two commands and .ci/run install from. Run it after changing pyproject.toml's dependencies,
# then run the test suite in a fresh venv before committing the new locks.
#   bash scripts/refresh_lock.sh
# The locks are universal (markers for Windows, macOS, Python >= 3.12), resolved for Python 3.11.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
tool=$(mktemp -d)
trap 'rm -rf "$tool"' EXIT
python3 -m venv "$tool/venv"
"$tool/venv/bin/pip" install -q "uv==$UV_VERSION"
compile=("$tool/venv/bin/uv" pip compile pyproject.toml --universal --python-version 3.11 -q)
"${compile[@]}" -o requirements.lock
"${compile[@]}" --extra test -o requirements-test.lock
echo "requirements.lock and requirements-test.lock refreshed"
