#!/usr/bin/env bash
# README command 2: set everything up, then run the whole test suite (typecheck, vitest against the
# real local Docker engine and registry, publint --strict, attw --pack).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh
# Builds install Python dependencies through the PyPI proxy on loopback that the setup started.
AIRBYTE_CI_PIP_INDEX_URL="${AIRBYTE_CI_PIP_INDEX_URL:-$(cat .local/env/pip-index-url)}"
export AIRBYTE_CI_PIP_INDEX_URL
pnpm test
