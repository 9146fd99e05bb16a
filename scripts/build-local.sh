#!/usr/bin/env bash
# Builds a connector folder as the main job does, on the local fixture catalog: a working copy under
# .local/work/<name> is moved to the latest published local base image with bump-base (the example's
# own metadata names the production base image, which is not published here), then built with the
# common build, dependencies from PyPI through the loopback proxy, and loaded into the local Docker as
# <dockerRepository>:<dockerImageTag>. Prints that reference on stdout.
#   usage: scripts/build-local.sh <connector-dir> [extra `connector-build build` options]
# Needs scripts/bootstrap.sh to have run (the main job runs it first).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$(cd "${1:?usage: scripts/build-local.sh <connector-dir> [build options]}" && pwd)"
shift
name="$(basename "$src")"
[ -f "$src/metadata.yaml" ] || { echo "build-local: $src/metadata.yaml does not exist: expected a connector folder" >&2; exit 2; }
cd "$ROOT"
CLI=(node packages/connector-build/bin/connector-build.js)
AIRBYTE_CI_PIP_INDEX_URL="${AIRBYTE_CI_PIP_INDEX_URL:-$(cat .local/env/pip-index-url)}"
export AIRBYTE_CI_PIP_INDEX_URL
work=".local/work/$name"
rm -rf "$work"
mkdir -p .local/work
cp -r "$src" "$work"
"${CLI[@]}" bump-base "$work" --catalog local >&2
"${CLI[@]}" build "$work" --catalog local --output docker "$@" >&2
repository="$(sed -n 's/^  dockerRepository: *//p' "$work/metadata.yaml" | head -n1)"
tag="$(sed -n 's/^  dockerImageTag: *//p' "$work/metadata.yaml" | head -n1)"
echo "$repository:$tag"
