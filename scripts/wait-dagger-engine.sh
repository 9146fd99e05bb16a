#!/usr/bin/env bash
# Waits for the Dagger engine that `AIRBYTE_CI_DAGGER_ENGINE=background bash scripts/bootstrap.sh`
# started, then prints its two variables under the names the Dagger tests read
# (AIRBYTE_CI_DAGGER_RUNNER_HOST, AIRBYTE_CI_DAGGER_CLI_BIN), as export lines:
#   eval "$(bash scripts/wait-dagger-engine.sh)"
# Not the SDK's own names (_EXPERIMENTAL_DAGGER_*): with those set, `--engine auto` picks Dagger in
# every test; only test/dagger-real.test.ts maps them back. Prints nothing and exits 1 when the engine
# could not be had (the Dagger tests then fail in CI, saying so); logs go to stderr.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TIMEOUT="${AIRBYTE_CI_DAGGER_ENGINE_TIMEOUT:-2700}"
waited=0
while [ ! -f .local/dagger-engine.status ]; do
  if [ "$waited" -ge "$TIMEOUT" ]; then
    echo "[dagger-engine] error: still not ready after ${TIMEOUT} s (log: .local/logs/dagger-engine.log)" >&2
    exit 1
  fi
  if [ $((waited % 60)) = 0 ]; then
    echo "[dagger-engine] waiting for the engine being built in the background (${waited} s; $(tail -n 1 .local/logs/dagger-engine.log 2>/dev/null || echo 'no log yet'))" >&2
  fi
  sleep 5
  waited=$((waited + 5))
done
status="$(cat .local/dagger-engine.status)"
if [ "$status" != 0 ] || [ ! -f .local/dagger-engine.env ]; then
  echo "[dagger-engine] error: scripts/env/dagger-engine.sh exited with $status; last lines of .local/logs/dagger-engine.log:" >&2
  tail -n 20 .local/logs/dagger-engine.log >&2 || true
  exit 1
fi
# Rename the SDK's variables; the values are printed quoted as dagger-engine.sh printed them.
sed -n 's/^export _EXPERIMENTAL_DAGGER_\(RUNNER_HOST\|CLI_BIN\)=/export AIRBYTE_CI_DAGGER_\1=/p' .local/dagger-engine.env
