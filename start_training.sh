#!/usr/bin/env bash
# The main job: trains GAME from nothing (or resumes its run) with the actor and the learner side
# by side, the page at http://127.0.0.1:PORT. The first run sets itself up.
#   ./start_training.sh [GAME] [--data-dir DIR] [--port PORT] [hyperparameter overrides...]
# Overrides go to whichever process knows the flag, e.g. --lr 0.01 (learner), --simulations 200
# (actor); `./start_training.sh GAME --help` lists them with the values GAME uses.
# Ctrl-C stops both; if one dies, the other is stopped and the script exits non-zero.
set -euo pipefail
# Relative paths on the command line are the user's: the launcher resolves them from here.
export CARTRIDGE_CWD="$PWD"
cd "$(dirname "$0")"

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import engine, actor, learner" 2>/dev/null; then
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "[setup] Python 3.11 or newer is needed as python3; found $(python3 --version 2>&1)" >&2
    exit 1
  fi
  case " $* " in
    *" --help "* | *" -h "*) echo "[setup] the help shows each game's values, read from the project's own code: installing it first" ;;
  esac
  echo "[setup] creating .venv (first run only, a few seconds)"
  python3 -m venv .venv
  # pip, with what to expect and its progress (standard library only: nothing is installed yet)
  .venv/bin/python scripts/install.py || exit 1
elif [ pyproject.toml -nt .venv/setup.log ]; then
  echo "[setup] pyproject.toml changed since .venv was set up: updating it"
  .venv/bin/python scripts/install.py || exit 1
fi
# The page is built again where it is missing or older than its sources (after a git pull).
if [ -f web/package.json ] && { [ ! -f web/dist/index.html ] ||
  [ -n "$(find web/src web/index.html web/package-lock.json -newer web/dist/index.html | head -n 1)" ]; }; then
  if command -v npm >/dev/null; then
    echo "[setup] building the web page (npm ci, then vite; under a minute)"
    if ! (cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build); then
      echo "[setup] building the web page failed (above): training runs, the page is missing" >&2
    fi
  else
    echo "[setup] npm not found: the API runs, but the web page is not built" >&2
  fi
fi

exec .venv/bin/python scripts/launch.py "$@"
