#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. lint and types (ruff, mypy --strict on the core and on every plugin), uv.lock up to date;
#   2. the core's tests with no plugin installed (.venv-core);
#   3. every test with every first-party plugin installed (.venv).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== core alone =="
bash scripts/install.sh .venv-core --core-only
.venv-core/bin/python -m pytest -q -p no:cacheprovider tests

echo "== core + every plugin =="
bash scripts/install.sh .venv
.venv/bin/uv lock --check --quiet  # uv.lock matches every pyproject.toml of the workspace
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy --strict src/modelops_core
.venv/bin/mypy --strict plugins/*/src
plugin_tests=()
for tests in plugins/*/tests; do [ -d "$tests" ] && plugin_tests+=("$tests"); done
.venv/bin/python -m pytest -q -p no:cacheprovider tests "${plugin_tests[@]}"
