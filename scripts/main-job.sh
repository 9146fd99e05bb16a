#!/usr/bin/env bash
# README command 1: set everything up, then run the main job: build the first example connector
# (examples/source-hello) with the common build on the local fixture base image, and print its spec.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# `--catalog local` names the fixture catalog this script writes.
export CONNECTOR_BUILD_LOCAL_CATALOG="${CONNECTOR_BUILD_LOCAL_CATALOG:-$ROOT/.local/fixture/catalog.json}"
bash scripts/bootstrap.sh
# Builds install Python dependencies through the PyPI proxy on loopback that the setup started.
AIRBYTE_CI_PIP_INDEX_URL="${AIRBYTE_CI_PIP_INDEX_URL:-$(cat .local/env/pip-index-url)}"
export AIRBYTE_CI_PIP_INDEX_URL
CLI=(node packages/connector-build/bin/connector-build.js)
# The example's metadata names the production base image; a working copy is pointed at the local
# fixture catalog's published 1.0.0 with bump-base (comment-preserving), then built from metadata.
WORK=.local/work
rm -rf "$WORK/source-hello"
mkdir -p "$WORK"
cp -r examples/source-hello "$WORK/source-hello"
"${CLI[@]}" bump-base "$WORK/source-hello" --catalog local --to 1.0.0
"${CLI[@]}" build "$WORK/source-hello" --catalog local --output docker
echo "--- spec of airbyte/source-hello:0.1.0 ---" >&2
/usr/bin/docker run --rm airbyte/source-hello:0.1.0 spec
