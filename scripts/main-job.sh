#!/usr/bin/env bash
# README command 1: set everything up, then run the main job on a real connector: build
# examples/source-tickets (a Python CDK source, airbyte-cdk from PyPI pinned in poetry.lock) from its
# metadata with the common build, FROM the local registry's latest published base image, print its
# spec, then run check and read against the example tickets API served on loopback and print a
# one-line summary (records per stream). Quick on a second run (every layer is cached).
set -euo pipefail
# Turbo prints a telemetry notice on a first run and would send usage data: off in every project script.
export TURBO_TELEMETRY_DISABLED=1
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# `--catalog local` names the fixture catalog this script writes.
export CONNECTOR_BUILD_LOCAL_CATALOG="${CONNECTOR_BUILD_LOCAL_CATALOG:-$ROOT/.local/fixture/catalog.json}"
bash scripts/bootstrap.sh
# Builds install Python dependencies through the PyPI proxy on loopback that the setup started.
AIRBYTE_CI_PIP_INDEX_URL="${AIRBYTE_CI_PIP_INDEX_URL:-$(cat .local/env/pip-index-url)}"
export AIRBYTE_CI_PIP_INDEX_URL
DOCKER=/usr/bin/docker

# The example's metadata names the production base image, which is not published here: a working
# copy is moved to the latest published local base with bump-base, then built from its metadata.
image="$(bash scripts/build-local.sh examples/source-tickets)"
echo "--- spec of $image ---" >&2
"$DOCKER" run --rm "$image" spec

# The tickets API on loopback; the connector container uses the host network to reach it.
api_log="$(mktemp)"
node examples/tickets-api/server.mjs --port 0 --token demo-token >"$api_log" &
api_pid=$!
trap 'kill "$api_pid" 2>/dev/null || true; rm -rf "$api_log" "${data:-}"' EXIT
for _ in $(seq 1 50); do grep -q '^listening ' "$api_log" && break; sleep 0.1; done
api_url="$(sed -n 's/^listening //p' "$api_log")"
[ -n "$api_url" ] || { echo "main-job: the tickets API did not start" >&2; exit 1; }

data="$(mktemp -d)"
# Readable by the connector's user: on base 2.0.0 it runs as airbyte (uid 1000), not root.
chmod 755 "$data"
printf '{"api_url":"%s","api_token":"demo-token","start_date":"2024-01-01T00:00:00Z"}\n' "$api_url" >"$data/config.json"
cat >"$data/catalog.json" <<'JSON'
{"streams":[
 {"stream":{"name":"tickets","json_schema":{},"supported_sync_modes":["full_refresh","incremental"],"source_defined_cursor":true,"default_cursor_field":["updated_at"]},"sync_mode":"incremental","cursor_field":["updated_at"],"destination_sync_mode":"append"},
 {"stream":{"name":"users","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}
JSON
run() { "$DOCKER" run --rm --network host -v "$data:/data:ro" "$image" "$@"; }
echo "--- check against $api_url ---" >&2
run check --config /data/config.json | grep '"CONNECTION_STATUS"'
echo "--- read ---" >&2
run read --config /data/config.json --catalog /data/catalog.json >"$data/read.jsonl"
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter((l) => l.startsWith("{"));
  const counts = {}; let state = "";
  for (const l of lines) {
    const m = JSON.parse(l);
    if (m.type === "RECORD") counts[m.record.stream] = (counts[m.record.stream] ?? 0) + 1;
    if (m.type === "STATE" && m.state.stream?.stream_descriptor.name === "tickets") state = m.state.stream.stream_state.updated_at;
  }
  const per = Object.entries(counts).map(([s, n]) => `${s}=${n}`).join(" ");
  console.log(`read ${Object.values(counts).reduce((a, b) => a + b, 0)} records (${per}); tickets cursor at ${state}`);
' "$data/read.jsonl"
