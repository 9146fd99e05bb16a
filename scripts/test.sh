#!/usr/bin/env bash
# README command 2: set everything up, then run the whole test suite (typecheck, vitest against the
# real local Docker engine, registry and Dagger engine, publint --strict, attw --pack); the suites
# that do not need the Dagger engine start at once, the Dagger suite when the engine is ready.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Turbo prints a telemetry notice on a first run and would send usage data: off in every project script.
export TURBO_TELEMETRY_DISABLED=1
# cosign, for test/trust-cosign.test.ts only (a Go build of about 18 min on a busy fresh machine, under a
# second afterwards), built in the background while the setup runs; the main job does not need it.
mkdir -p .local/logs
rm -f .local/cosign.status
( status=0; bash scripts/env/cosign.sh >.local/cosign.path 2>.local/logs/cosign.log || status=$?; echo "$status" >.local/cosign.status ) </dev/null &
# The Dagger engine (a Go build of about 14 min on a fresh machine, about 1 s afterwards) is started in
# the background by the setup, so that its build overlaps the rest of the setup. AIRBYTE_CI_TEST_TOOLS:
# the setup also installs what only the tests use (Debian's chromium, for the fleet report page).
# AIRBYTE_CI_TEST_BASES=1: the bases only the tests use (2.0.0, the Python 3.9 line), once per machine.
AIRBYTE_CI_DAGGER_ENGINE=background AIRBYTE_CI_TEST_TOOLS=1 AIRBYTE_CI_TEST_BASES=1 bash scripts/bootstrap.sh
# Builds install Python dependencies through the PyPI proxy on loopback that the setup started.
AIRBYTE_CI_PIP_INDEX_URL="${AIRBYTE_CI_PIP_INDEX_URL:-$(cat .local/env/pip-index-url)}"
export AIRBYTE_CI_PIP_INDEX_URL

# Two runs at once, so that no test waits for the Dagger engine but the ones that use it:
# - `pnpm test` (turbo: typecheck, every vitest suite except the Dagger one, publint, attw, eslint,
#   knip) starts now, while the engine may still be building in the background;
# - the Dagger suite (`test:dagger` of packages/connector-build: the test files that read
#   AIRBYTE_CI_DAGGER_*, see test/test-suites.test.ts) starts when scripts/wait-dagger-engine.sh says
#   the engine is ready, with the engine's variables under names only those files read.
# On 2 cores this is at most two vitest workers (each suite runs one file at a time there) next to the
# engine's Go build on a fresh machine; the Dagger suite's builds run inside the engine, so the two
# runs mostly contend for CPU, not for a lock, and the Docker builds of the main suite are cached
# after their first run. When the engine could not be had, the Dagger suite still runs, without an
# engine: it then fails with CI=true and is reported skipped elsewhere.
# Each run is its own process group (set -m) so that an interrupt stops both trees, and nothing else.
set -m
pnpm test &
main_pid=$!
(
  set -o pipefail
  {
    if dagger_env="$(bash scripts/wait-dagger-engine.sh)"; then
      eval "$dagger_env"
      echo "[test] the Dagger engine is ready"
    else
      echo "[test] warning: no Dagger engine; the real-engine Dagger tests fail in CI (see above)"
    fi
    # Under a name only the cosign test files read; without it they fail with CI=true and are
    # skipped (reported as such) elsewhere.
    while [ ! -s .local/cosign.status ]; do sleep 5; done
    if [ "$(cat .local/cosign.status)" = 0 ] && [ -s .local/cosign.path ]; then
      AIRBYTE_CI_COSIGN_BIN="$(cat .local/cosign.path)"
      export AIRBYTE_CI_COSIGN_BIN
      echo "[test] cosign is ready: running the suites that need the Dagger engine or cosign"
    else
      echo "[test] warning: no cosign (log: .local/logs/cosign.log); the cosign tests fail in CI"
    fi
    pnpm --silent --filter @airbyte-ci/connector-build run test:late
  } 2>&1 | sed -u 's/^/[late suites] /'
) &
dagger_pid=$!
stop() {
  kill -TERM -- "-$main_pid" "-$dagger_pid" 2>/dev/null || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
main_rc=0
wait "$main_pid" || main_rc=$?
dagger_rc=0
wait "$dagger_pid" || dagger_rc=$?
trap - INT TERM
echo "[test] main suites: exit $main_rc; Dagger suite: exit $dagger_rc" >&2
[ "$main_rc" = 0 ] && [ "$dagger_rc" = 0 ]
