#!/usr/bin/env bash
# Everything both README commands need, idempotently: the local build environment (Debian packages,
# dockerd, registry, fixture root images), pnpm, dependencies, a build, and the local fixture catalog.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# `--catalog local` names the fixture catalog this script writes.
export CONNECTOR_BUILD_LOCAL_CATALOG="${CONNECTOR_BUILD_LOCAL_CATALOG:-$ROOT/.local/fixture/catalog.json}"

bash scripts/env/setup.sh

if ! command -v pnpm >/dev/null 2>&1; then
  echo "[bootstrap] installing pnpm with npm (corepack cannot be used here)" >&2
  npm install -g pnpm@9.15.9 >/dev/null 2>&1 || { echo "[bootstrap] error: npm install -g pnpm@9.15.9 failed" >&2; exit 1; }
fi
echo "[bootstrap] installing dependencies" >&2
pnpm install --frozen-lockfile --reporter=silent
echo "[bootstrap] building packages" >&2
pnpm run --silent build --output-logs=errors-only >&2
echo "[bootstrap] writing the local fixture catalog" >&2
pnpm --silent --filter @airbyte-ci/connector-build exec tsx scripts/write-fixture-catalog.ts
echo "[bootstrap] publishing the local fixture base image 1.0.0 (once per machine)" >&2
node packages/connector-build/bin/connector-build.js base publish 1.0.0 --catalog local --if-unpublished --force >&2
