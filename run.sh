#!/usr/bin/env bash
# ./run.sh demo   start the service with demo data on SQLite (http://127.0.0.1:8000, docs at /docs)
# ./run.sh test   run the whole test suite (SQLite, and PostgreSQL when reachable; required with CI=true)
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY=${PYTHON:-python3}

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
  fi
  # Reinstall only when pyproject.toml changed since the last install.
  if [ ! -f "$VENV/.installed" ] || [ pyproject.toml -nt "$VENV/.installed" ]; then
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet -e '.[test]'
    touch "$VENV/.installed"
  fi
}

ensure_spectral() {
  if [ ! -x node_modules/.bin/spectral ] || [ package.json -nt node_modules/.installed ]; then
    if command -v npm >/dev/null 2>&1; then
      npm ci --no-audit --no-fund --loglevel=error
      touch node_modules/.installed
    fi
  fi
}

ensure_chromium() {
  # The browser tests drive Debian's Chromium through Playwright (no browser download): installed
  # here when missing and this user may (CI runs as root); without it they are skipped, outside CI.
  if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
  fi
}

case "${1:-}" in
  demo)
    ensure_venv
    export DEMO_MODE=true
    export DATABASE_URL="${DATABASE_URL:-sqlite:///./data/casusregister.db}"
    "$VENV/bin/casusregister" migrate
    "$VENV/bin/casusregister" seed-demo
    exec "$VENV/bin/casusregister" serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
    ;;
  test)
    ensure_venv
    ensure_spectral
    ensure_chromium
    shift
    # One worker per core; a module's tests stay on one worker (their module-scoped records are built once).
    exec "$VENV/bin/python" -m pytest -n auto --dist loadscope "$@"
    ;;
  *)
    echo "usage: ./run.sh demo | ./run.sh test [pytest args]" >&2
    exit 2
    ;;
esac
