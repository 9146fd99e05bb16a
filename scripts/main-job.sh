#!/usr/bin/env bash
# README command 1: set everything up, then run the main job: build the local fixture base image
# on the local Docker engine and run its sanity checks.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh
node packages/connector-build/bin/connector-build.js base check 1.0.0 --catalog local
