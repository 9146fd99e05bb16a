#!/usr/bin/env bash
# Everything both README commands need, idempotently: the local build environment (Debian packages,
# dockerd, registry, fixture root images, PyPI proxy), pnpm, dependencies, a build, the local fixture
# catalog and its base images 1.0.0 and 1.1.0 published to the local registry. With
# AIRBYTE_CI_TEST_BASES=1 (what scripts/test.sh asks for; the main job does not need them), also the
# bases only the tests use: 2.0.0 (non-root) and the Python 3.9 line (root image and bases).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Turbo prints a telemetry notice on a first run and would send usage data: off in every project script.
export TURBO_TELEMETRY_DISABLED=1
# `--catalog local` names the fixture catalog this script writes.
export CONNECTOR_BUILD_LOCAL_CATALOG="${CONNECTOR_BUILD_LOCAL_CATALOG:-$ROOT/.local/fixture/catalog.json}"

bash scripts/env/setup.sh

# The local Dagger engine (docs/dagger-engine.md), built once per machine (about 14 min of Go build on
# a fresh machine) and started when it does not answer (about 1 s when it does). Its environment goes
# to a file rather than this shell's environment, because a runner host in the environment makes
# `--engine auto` pick Dagger:
#   . .local/dagger-engine.env   (two export lines)
# AIRBYTE_CI_DAGGER_ENGINE=1: here, before anything else. =background (what scripts/test.sh asks
# for): started now and left running while the rest of the setup goes on; it writes its exit status
# to .local/dagger-engine.status when done (log: .local/logs/dagger-engine.log), which
# scripts/wait-dagger-engine.sh waits for.
mkdir -p .local/logs
case "${AIRBYTE_CI_DAGGER_ENGINE:-0}" in
  1)
    echo "[bootstrap] the local Dagger engine (AIRBYTE_CI_DAGGER_ENGINE=1)" >&2
    bash scripts/env/dagger-engine.sh >.local/dagger-engine.env.tmp
    mv .local/dagger-engine.env.tmp .local/dagger-engine.env
    ;;
  background)
    echo "[bootstrap] starting the local Dagger engine in the background (log: .local/logs/dagger-engine.log)" >&2
    rm -f .local/dagger-engine.status
    (
      status=0
      bash scripts/env/dagger-engine.sh >.local/dagger-engine.env.tmp 2>.local/logs/dagger-engine.log || status=$?
      if [ "$status" = 0 ]; then mv .local/dagger-engine.env.tmp .local/dagger-engine.env; fi
      echo "$status" >.local/dagger-engine.status
    ) </dev/null >/dev/null 2>&1 &
    ;;
  0) ;;
  *) echo "[bootstrap] error: AIRBYTE_CI_DAGGER_ENGINE=${AIRBYTE_CI_DAGGER_ENGINE}: expected 0, 1 or background" >&2; exit 2 ;;
esac

if ! command -v pnpm >/dev/null 2>&1; then
  echo "[bootstrap] installing pnpm with npm (corepack cannot be used here)" >&2
  npm install -g pnpm@9.15.9 >/dev/null 2>&1 || { echo "[bootstrap] error: npm install -g pnpm@9.15.9 failed" >&2; exit 1; }
fi
echo "[bootstrap] installing dependencies" >&2
pnpm install --frozen-lockfile --reporter=silent
echo "[bootstrap] building packages" >&2
pnpm run --silent build --output-logs=errors-only >&2
case "${AIRBYTE_CI_TEST_BASES:-0}" in
  0) ;;
  1)
    # Debian bullseye's python3.9 (3.9.2), amd64 only: an emulated arm64 build would add minutes to
    # every fresh machine for a line the tests build on amd64.
    echo "[bootstrap] the Python 3.9 fixture root image (AIRBYTE_CI_TEST_BASES=1; built once per machine)" >&2
    bash scripts/env/fixture-root-image.sh linux/amd64 3.9
    ;;
  *) echo "[bootstrap] error: AIRBYTE_CI_TEST_BASES=${AIRBYTE_CI_TEST_BASES}: expected 0 or 1" >&2; exit 2 ;;
esac
echo "[bootstrap] writing the local fixture catalogs" >&2
pnpm --silent --filter @airbyte-ci/connector-build exec tsx scripts/write-fixture-catalog.ts
# Dependency installs inside builds go through the PyPI proxy the setup started on loopback.
AIRBYTE_CI_PIP_INDEX_URL="${AIRBYTE_CI_PIP_INDEX_URL:-$(cat .local/env/pip-index-url)}"
export AIRBYTE_CI_PIP_INDEX_URL
publish() { # <catalog> <version>
  echo "[bootstrap] publishing the local fixture base image $2 of $1 (built, checked and published once per machine)" >&2
  node packages/connector-build/bin/connector-build.js base publish "$2" --catalog "$1" --if-unpublished --force >&2
}
for version in 1.0.0 1.1.0; do publish local "$version"; done
if [ "${AIRBYTE_CI_TEST_BASES:-0}" = 1 ]; then
  # 2.0.0 runs connectors as airbyte (uid 1000); the Python 3.9 line (.local/fixture/catalog-py3.9.json)
  # has 1.1.0 (root, what 2023 connectors ran as) and 2.0.0.
  publish local 2.0.0
  for version in 1.1.0 2.0.0; do publish "$ROOT/.local/fixture/catalog-py3.9.json" "$version"; done
fi
