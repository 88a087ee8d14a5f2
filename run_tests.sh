#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine, then runs them all:
# lint, pytest (including the browser tests in Debian's Chromium) and the web unit tests.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing Debian's chromium"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium
fi

echo "== python environment"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[dev]' 2>&1 | grep -v "is ignored" || true
.venv/bin/python -c "import engine, actor, learner, torch, onnxruntime, numba, pyspiel"

if [ -f web/package.json ]; then
  echo "== web build"
  (cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build)
fi

echo "== lint"
.venv/bin/ruff check .
.venv/bin/black --check -q .

if [ -f web/package.json ]; then
  echo "== web unit tests"
  (cd web && npm run check && npm test)
fi

echo "== pytest"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
