#!/usr/bin/env bash
# cosign for this machine, built once from Go modules (the Go module proxy; GitHub release downloads
# are unreachable here), idempotently. Used only by the trust tests (test/trust-cosign.test.ts), which
# check that cosign itself verifies what the toolkit signs. stdout carries only the binary's path:
#   AIRBYTE_CI_COSIGN_BIN="$(bash scripts/env/cosign.sh)"
# Logs go to stderr and to /var/cache/airbyte-ci/cosign/logs. A second run takes well under a second.
#
# Versions are tried in order: v2.6.5 (github.com/sigstore/cosign/v2), then v3.1.3
# (github.com/sigstore/cosign/v3); the first that builds is kept.
#
# Environment (all optional):
#   COSIGN_VERSIONS          space-separated versions to try (default "v2.6.5 v3.1.3")
#   COSIGN_GO_CACHE_BASE     Go module and build caches (default /var/cache/airbyte-ci, shared with the
#                            Dagger engine build)
#   GO                       the go command (default /usr/local/go/bin/go)
set -euo pipefail

GO="${GO:-/usr/local/go/bin/go}"
VERSIONS="${COSIGN_VERSIONS:-v2.6.5 v3.1.3}"
GO_CACHE_BASE="${COSIGN_GO_CACHE_BASE:-/var/cache/airbyte-ci}"
# Machine-wide, like the Dagger engine: a clean clone on the same machine reuses the binary.
CACHE="$GO_CACHE_BASE/cosign"
# Bump when the build steps below change.
RECIPE_REVISION=1

log() { printf '[cosign] %s\n' "$*" >&2; }
die() { printf '[cosign] error: %s\n' "$*" >&2; exit 1; }

for v in $VERSIONS; do
  case "$v" in
    v[0-9]*.[0-9]*.[0-9]*) ;;
    *) printf '[cosign] error: COSIGN_VERSIONS: %s: expected release tags like v2.6.5\n' "$v" >&2; exit 2 ;;
  esac
done
[ -x "$GO" ] || die "missing $GO (Go from go.dev)"
command -v flock >/dev/null || die "missing flock (util-linux)"

mkdir -p "$CACHE/logs"
# One run at a time per machine: several test processes may call this script at once.
exec 9>"$CACHE/.lock"
flock 9

# A version already built wins (in the order of preference).
for v in $VERSIONS; do
  bin="$CACHE/$v-r$RECIPE_REVISION/cosign"
  if [ -x "$bin" ]; then
    log "reusing $bin"
    printf '%s\n' "$bin"
    exit 0
  fi
done

for v in $VERSIONS; do
  major="${v%%.*}"
  module="github.com/sigstore/cosign/$major"
  dest="$CACHE/$v-r$RECIPE_REVISION"
  out="$CACHE/logs/go-install-$v.log"
  started=$(date +%s)
  log "go install $module/cmd/cosign@$v (log: $out); several minutes on a busy machine with empty caches"
  rm -rf "$dest.tmp"
  mkdir -p "$dest.tmp"
  # GOSUMDB=off: sum.golang.org is unreachable here. The module zips still come from the proxy, and
  # every dependency is checked against the go.sum of the cosign module itself.
  if (cd / && GOBIN="$dest.tmp" GOMODCACHE="$GO_CACHE_BASE/gomod" GOCACHE="$GO_CACHE_BASE/gocache" \
      GOTOOLCHAIN=local CGO_ENABLED=0 GOSUMDB=off GOFLAGS=-mod=mod GOPROXY="${GOPROXY:-https://proxy.golang.org}" \
      "$GO" install -trimpath -ldflags "-s -w -X sigs.k8s.io/release-utils/version.gitVersion=$v" \
      "$module/cmd/cosign@$v") >"$out" 2>&1; then
    "$dest.tmp/cosign" version >>"$out" 2>&1 || die "the built cosign $v does not run (see $out)"
    rm -rf "$dest"
    mv "$dest.tmp" "$dest"
    log "built cosign $v in $(( $(date +%s) - started )) s"
    printf '%s\n' "$dest/cosign"
    exit 0
  fi
  rm -rf "$dest.tmp"
  # Which modules the proxy refused, if that is why.
  refused="$(grep -oE '[^ ]+@[^ :]+: (reading|verifying) [^ ]+: (403|404|410)[^"]*' "$out" | sort -u | head -5 || true)"
  log "cosign $v failed to build${refused:+; refused by the proxy: $refused} (see $out)"
done
die "no cosign version could be built (tried: $VERSIONS; logs in $CACHE/logs)"
