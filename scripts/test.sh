#!/usr/bin/env bash
# README command 2: set everything up, then run the whole test suite (typecheck, vitest against the
# real local Docker engine, registry and Dagger engine, publint --strict, attw --pack).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# The Dagger engine (a Go build of about 14 min on a fresh machine, about 1 s afterwards) is started in
# the background by the setup, so that its build overlaps the rest of the setup.
# AIRBYTE_CI_TEST_BASES=1: the bases only the tests use (2.0.0, the Python 3.9 line), once per machine.
AIRBYTE_CI_DAGGER_ENGINE=background AIRBYTE_CI_TEST_BASES=1 bash scripts/bootstrap.sh
# Builds install Python dependencies through the PyPI proxy on loopback that the setup started.
AIRBYTE_CI_PIP_INDEX_URL="${AIRBYTE_CI_PIP_INDEX_URL:-$(cat .local/env/pip-index-url)}"
export AIRBYTE_CI_PIP_INDEX_URL
# Under names only test/dagger-real.test.ts reads (see scripts/wait-dagger-engine.sh). When the engine
# could not be had, nothing is exported: the Dagger tests then fail with CI=true, and are skipped
# (reported as such) elsewhere.
if dagger_env="$(bash scripts/wait-dagger-engine.sh)"; then
  eval "$dagger_env"
else
  echo "[test] warning: no Dagger engine; the real-engine Dagger tests fail in CI (see above)" >&2
fi
pnpm test
