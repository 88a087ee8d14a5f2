#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine (Debian's chromium, .venv, the web page),
# then runs five stages: lint (ruff, black), type check (svelte-check), web tests (vitest),
# Python tests and browser tests (pytest). Arguments go to both pytest runs, e.g.
#   ./run_tests.sh -k replay
# A failed stage does not stop the others: the run ends with a summary of the stages, then one
# line in pytest's format for the whole run (both pytest runs added up, each other failed stage
# counted as an error), last, since CI judges a run by that line. Exits non-zero if a stage failed.
set -uo pipefail
cd "$(dirname "$0")"

setup_failed() {
  echo "[setup] $1" >&2
  exit 1
}

if [ ! -x /usr/bin/chromium ]; then
  echo "== installing Debian's chromium: the browser tests (tests/test_browser.py) drive it"
  echo "   apt-get install --no-install-recommends chromium, as root (through sudo otherwise):"
  echo "   on Debian 12, 25 to 150 packages (fewer where its libraries are there already),"
  echo "   a download of 125 to 200 MB, 415 to 710 MB on disk; apt lists them first"
  if command -v apt-get >/dev/null; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    if ! { $SUDO apt-get update -q && $SUDO env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends chromium; }; then
      echo "[setup] installing chromium failed (above): the browser tests will fail" >&2
    fi
  else
    echo "[setup] no apt-get here: put Chromium at /usr/bin/chromium, or the browser tests fail" >&2
  fi
fi

echo "== python environment"
[ -x .venv/bin/python ] || python3 -m venv .venv || setup_failed "python3 -m venv failed (above)"
# pip only where .venv lacks the packages or pyproject.toml changed since the last install
IMPORTS="import engine, actor, learner, torch, onnxruntime, numba, pyspiel, pytest, playwright"
if [ pyproject.toml -nt .venv/setup.log ] || ! .venv/bin/python -c "$IMPORTS" 2>/dev/null; then
  .venv/bin/python scripts/install.py dev || exit 1
else
  echo "[setup] .venv is up to date"
fi

echo "== web build"
command -v npm >/dev/null || setup_failed "npm not found: Node 20+ builds and tests the web page"
(cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build) ||
  setup_failed "building the web page failed (above)"

STAGES=()   # one line per stage for the summary
FAILED=()   # the stages that failed
ERRORS=0    # failed stages with no pytest counts of their own
PYTEST_LINES=()
SELECTED=0  # pytest runs that found a test to run
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT

record() {  # record NAME STATUS START [DETAIL]
  local line
  line=$(printf '  %-14s %-13s %5d s   %s' "$1" "$2" $((SECONDS - $3)) "${4:-}")
  STAGES+=("${line%"${line##*[! ]}"}")  # without trailing spaces
  [ "$2" != failed ] || FAILED+=("$1")
}

stage() {  # stage NAME COMMAND...: runs it and records whether it passed
  local name=$1 start=$SECONDS
  shift
  echo "== $name"
  if "$@"; then
    record "$name" passed "$start"
  else
    record "$name" failed "$start"
    ERRORS=$((ERRORS + 1))
  fi
}

lint() {
  local code=0
  .venv/bin/ruff check . || code=1
  .venv/bin/black --check -q . || code=1
  return $code
}

pytest_stage() {  # pytest_stage NAME MARKER [ARGS...]: pytest, keeping its summary line
  local name=$1 marker=$2 start=$SECONDS log="$LOGS/$2.log" code line color=""
  shift 2
  [ -t 1 ] && color=--color=yes  # tee is no terminal: pytest would drop its colours
  echo "== $name"
  .venv/bin/python -m pytest -q -p no:cacheprovider $color -m "$marker" "$@" 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  line=$(sed 's/\x1b\[[0-9;]*m//g' "$log" |
    grep -E '^=* ?(([0-9]+ [a-z]+(, )?)+|no tests ran) in [0-9.]+s' | tail -n 1 |
    sed -E 's/^=+ //; s/ =+$//')
  if [ "$code" -eq 5 ] && [ $# -gt 0 ]; then
    record "$name" "none selected" "$start" "$line"  # the arguments chose tests of the other run
    return
  fi
  [ "$code" -eq 5 ] || SELECTED=$((SELECTED + 1))
  if [ "$code" -eq 0 ]; then
    record "$name" passed "$start" "$line"
  else
    record "$name" failed "$start" "${line:-(pytest stopped without its summary line)}"
    # a failure that pytest's line does not count (no tests collected, a crash) is an error
    echo "$line" | grep -qE '[0-9]+ (failed|errors?)' || ERRORS=$((ERRORS + 1))
  fi
  [ -z "$line" ] || PYTEST_LINES+=("$line")
}

# pytest's summary lines added up, in its order and format; deselected tests are left out, since
# each run deselects the other's. `extra_errors` adds the failed stages that have no counts.
total_line() {
  printf '%s\n' "$@" | awk -v extra_errors="$ERRORS" '
    {
      time = $0
      sub(/.* in /, "", time)
      seconds += time + 0
      counts = $0
      sub(/ in [0-9.]+s.*/, "", counts)
      n = split(counts, parts, ", ")
      for (i = 1; i <= n; i++) {
        split(parts[i], count, " ")
        word = count[2] == "errors" ? "error" : count[2] == "warnings" ? "warning" : count[2]
        if (count[1] ~ /^[0-9]+$/) total[word] += count[1]
      }
    }
    END {
      total["error"] += extra_errors
      split("failed passed skipped xfailed xpassed warning error", order, " ")
      for (i = 1; i in order; i++) {
        word = order[i]
        if (!total[word]) continue
        plural = (word == "warning" || word == "error") && total[word] > 1 ? "s" : ""
        text = text (text ? ", " : "") total[word] " " word plural
      }
      printf "%s in %.2fs", (text ? text : "no tests ran"), seconds
      if (seconds >= 60) printf " (%d:%02d:%02d)", seconds / 3600, seconds % 3600 / 60, seconds % 60
      printf "\n"
    }'
}

stage lint lint
stage "type check" npm --prefix web run check
stage "web tests" npm --prefix web test
pytest_stage "Python tests" "not browser" "$@"
pytest_stage "browser tests" browser "$@"
if [ $# -gt 0 ] && [ "$SELECTED" -eq 0 ]; then  # the arguments chose no test at all
  FAILED+=("pytest $* (no test matched)")
  ERRORS=$((ERRORS + 1))
fi

echo "== summary"
printf '%s\n' "${STAGES[@]}"
if [ ${#FAILED[@]} -eq 0 ]; then
  echo "all stages passed"
else
  echo "failed: $(printf '%s, ' "${FAILED[@]}" | sed 's/, $//')"
fi
total_line "${PYTEST_LINES[@]}"
[ ${#FAILED[@]} -eq 0 ]
