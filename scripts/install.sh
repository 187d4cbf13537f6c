#!/usr/bin/env bash
# Create a virtual environment and install modelops-core with every first-party plugin
# (editable, with test extras). Usage: scripts/install.sh [VENV_DIR] [--core-only]
# With uv on PATH, the versions pinned in uv.lock are installed (uv sync --frozen); without it,
# pip resolves the ranges in the pyproject.toml files.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv}"
python="${PYTHON:-python3}"
if command -v uv >/dev/null 2>&1 && [ -f uv.lock ] && [ -z "${MODELOPS_INSTALL_WITH_PIP:-}" ]; then
  if [ "${2:-}" = "--core-only" ]; then
    scope=(--package modelops-core)
  else
    scope=(--all-packages)
  fi
  UV_PROJECT_ENVIRONMENT="$venv" uv sync --frozen --quiet --python "$python" "${scope[@]}" --extra test
  exit 0
fi
packages=(-e ".[test]")
if [ "${2:-}" != "--core-only" ]; then
  for plugin in plugins/*/; do
    [ -f "$plugin/pyproject.toml" ] && packages+=(-e "${plugin%/}[test]")
  done
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip
"$venv/bin/python" -m pip install --disable-pip-version-check -q "${packages[@]}"
