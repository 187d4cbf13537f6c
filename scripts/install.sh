#!/usr/bin/env bash
# Create a virtual environment and install modelops-core with every first-party plugin
# (editable, with test extras). Usage: scripts/install.sh [VENV_DIR] [--core-only]
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-.venv}"
python="${PYTHON:-python3}"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
packages=(-e ".[test]")
if [ "${2:-}" != "--core-only" ]; then
  for plugin in plugins/*/; do
    [ -f "$plugin/pyproject.toml" ] && packages+=(-e "${plugin%/}[test]")
  done
fi
"$venv/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip
"$venv/bin/python" -m pip install --disable-pip-version-check -q "${packages[@]}"
