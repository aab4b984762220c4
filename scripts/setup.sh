#!/usr/bin/env bash
# Create .venv with Python 3.10 and install GridReach with pinned versions (constraints.txt).
# A no-op when pyproject.toml and constraints.txt have not changed since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  local candidates=()
  [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
  candidates+=(python3.10)
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=("$(pyenv root)"/versions/3.10*/bin/python3.10)
  fi
  candidates+=("$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10)
  for c in "${candidates[@]}"; do
    if "$c" -c 'import sys, venv; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
      echo "$c"; return 0
    fi
  done
  return 1
}

stamp=.venv/.gridreach-installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

if [ ! -x .venv/bin/python ]; then
  if ! py=$(find_python310); then
    cat >&2 <<'MSG'
GridReach needs Python 3.10 (Rasa 3.6 supports 3.8-3.10) and none was found.
Get one, then run make again:
  - pyenv:   pyenv install 3.10   (make finds $(pyenv root)/versions/3.10*)
  - Debian:  apt-get install python3.10 python3.10-venv
  - or point at one:  make PYTHON=/path/to/python3.10 setup
MSG
    exit 1
  fi
  echo "Creating .venv with $py"
  "$py" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade "pip<27"
echo "Installing GridReach and its pinned dependencies (first time: several minutes)"
.venv/bin/python -m pip install --quiet -c constraints.txt -e '.[dev]'
echo "$want" > "$stamp"
