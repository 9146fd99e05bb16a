#!/usr/bin/env bash
# README command 2: set everything up, then run the whole test suite (typecheck, vitest against the
# real local Docker engine and registry, publint --strict, attw --pack).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh
pnpm test
