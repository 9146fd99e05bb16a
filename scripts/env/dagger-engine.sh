#!/usr/bin/env bash
# A real Dagger engine for this machine, idempotently:
#   1. the Dagger CLI and engine binaries, built once per machine from Go modules (the Go module proxy);
#   2. the engine image, its root filesystem made of Debian packages with mmdebstrap and `docker import`ed
#      (no image pull: registry.dagger.io and Docker Hub are unreachable);
#   3. the engine container, started when it does not answer (privileged, state in a named volume,
#      host network so that 127.0.0.1:5000 is the local registry, reached over plain HTTP);
#   4. a wait until the CLI opens a session on it.
# stdout carries only `export` lines, so a shell is prepared with:
#   eval "$(bash scripts/env/dagger-engine.sh)"
# Logs go to stderr and to /var/cache/airbyte-ci/dagger-<version>/logs. A second run takes about a second.
#
# Environment (all optional):
#   DAGGER_ENGINE_VERSION    engine and CLI version (default v0.21.8, see "Version" in docs/dagger-engine.md)
#   DAGGER_ENGINE_CACHE_BASE machine-wide cache root (default /var/cache/airbyte-ci): the Go module and
#                            build caches, and dagger-<version>/ with the binaries, the Debian root
#                            filesystem and logs
#   DAGGER_ENGINE_BUILD_ONLY 1: build the binaries and the image, start nothing, print nothing
#   DAGGER_ENGINE_IPTABLES   nft|legacy; default: the backend holding dockerd's rules
#   GO                       the go command (default /usr/local/go/bin/go; the module needs Go >= 1.26.1,
#                            newer than Debian bookworm's golang)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/scripts/env/dagger-engine"
DOCKER=/usr/bin/docker
GO="${GO:-/usr/local/go/bin/go}"

VERSION="${DAGGER_ENGINE_VERSION:-v0.21.8}"
CACHE_BASE="${DAGGER_ENGINE_CACHE_BASE:-/var/cache/airbyte-ci}"
CACHE="$CACHE_BASE/dagger-$VERSION"
NAME="airbyte-ci-dagger-engine-$VERSION"
IMAGE_REPO=airbyte-ci/dagger-engine
SOCKET_DIR="/run/airbyte-ci/dagger-engine-$VERSION"
RUNNER_HOST="unix://$SOCKET_DIR/engine.sock"
# Bump when the build steps below change in a way the hashed inputs do not show.
GO_RECIPE_REVISION=1
IMAGE_RECIPE_REVISION=1
DEBIAN_SUITE=bookworm
# The engine's runtime, upstream taken from Wolfi, here from Debian.
DEBIAN_PACKAGES=(runc tini containernetworking-plugins dnsmasq-base iptables nftables git openssh-client
  pigz xz-utils e2fsprogs fuse-overlayfs ca-certificates procps)

START_ALL=$(date +%s.%N)
log() { printf '[dagger-engine] %s\n' "$*" >&2; }
die() { printf '[dagger-engine] error: %s\n' "$*" >&2; exit 1; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }'; }

case "$VERSION" in
  v[0-9]*.[0-9]*.[0-9]*) ;;
  *) printf '[dagger-engine] error: DAGGER_ENGINE_VERSION=%s: expected a release tag like v0.21.8\n' "$VERSION" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || die "builds into $CACHE_BASE and runs a privileged container: run it as root"
for tool in "$GO":"Go >= 1.26.1 from go.dev" "$DOCKER":docker.io /usr/bin/mmdebstrap:mmdebstrap /usr/bin/flock:util-linux /usr/bin/sha256sum:coreutils; do
  [ -x "${tool%%:*}" ] || die "missing ${tool%%:*} (${tool#*:})"
done
"$DOCKER" info >/dev/null 2>&1 || die "dockerd does not answer: run scripts/env/setup.sh first"

mkdir -p "$CACHE/logs"
ROOTFS_TMP=
trap 'if [ -n "$ROOTFS_TMP" ]; then rm -rf "$ROOTFS_TMP"; fi' EXIT
# One run at a time per machine: several test processes may call this script at once.
exec 9>"$CACHE/.lock"
flock 9

# ---------------------------------------------------------------------------------------------
# 1. Go binaries. Inputs: the version, our stand-in modules, the build recipe revision.
go_hash="$(cd "$HERE/go" && { printf '%s %s\n' "$VERSION" "$GO_RECIPE_REVISION"; find . -type f | LC_ALL=C sort | xargs sha256sum; } | sha256sum | cut -c1-16)"
BIN="$CACHE/bin-$go_hash"
BINARIES=(dagger dagger-engine dagger-init dnsname)

# Downloads module@version into the module cache and prints its directory.
module_dir() {
  local json dir
  json="$(cd / && "$GO" mod download -json "$1" 2>>"$2")" || true
  dir="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    printf '%s\n' "$json" >>"$2"
    die "go mod download -json $1 failed: $(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Error": "\(.*\)"$/\1/p' | sed 's/\\n\\t/ /g') (see $2)"
  fi
  printf '%s' "$dir"
}

build_binaries() {
  local started src sdk work ldflags out
  started=$(date +%s.%N)
  out="$CACHE/logs/go-build.log"
  : >"$out"
  export GOMODCACHE="$CACHE_BASE/gomod" GOCACHE="$CACHE_BASE/gocache" GOFLAGS=-mod=mod GOTOOLCHAIN=local \
    CGO_ENABLED=0 GOSUMDB=off GOPROXY="${GOPROXY:-https://proxy.golang.org}"
  # GOSUMDB=off: sum.golang.org is unreachable here. The module zips still come from the proxy, and
  # every dependency is checked against the go.sum of the dagger module itself.
  log "Go build of dagger $VERSION (log: $out); 14 min measured on 2 busy shared cores with empty caches"
  src="$(module_dir "github.com/dagger/dagger@$VERSION" "$out")" || exit 1
  sdk="$(module_dir "dagger.io/dagger@$VERSION" "$out")" || exit 1

  work="$CACHE/src-$go_hash"
  rm -rf "$work" "$CACHE/go-$go_hash"
  cp -r "$src" "$work"
  chmod -R u+w "$work"
  cp -r "$HERE/go" "$CACHE/go-$go_hash"
  # The module's go.mod points its sub-modules at ./sdk/go and ./engine/distconsts, which a module zip
  # does not contain: the SDK comes from its own module download, distconsts from our copy of its
  # values. Four dependencies are refused by the proxy here (403 "This module version is not
  # available"): github.com/vito/midterm at a pseudo-version (its v0.2.5 release is served and used),
  # github.com/vito/tuist and tuist/teav1 (the interactive terminal UI; stand-ins with the same API,
  # see go/tuist) and github.com/vito/dang/v2 (the Dang v2 module SDK, replaced by a package that
  # reports it unavailable).
  (
    cd "$work"
    "$GO" mod edit \
      -replace "dagger.io/dagger=$sdk" \
      -replace "github.com/dagger/dagger/engine/distconsts=$CACHE/go-$go_hash/distconsts" \
      -replace "github.com/vito/tuist=$CACHE/go-$go_hash/tuist" \
      -replace "github.com/vito/tuist/teav1=$CACHE/go-$go_hash/teav1" \
      -replace "github.com/vito/midterm=github.com/vito/midterm@v0.2.5" \
      -droprequire github.com/vito/dang/v2
    rm -f core/sdk/dang/v2/*.go
    cp "$CACHE/go-$go_hash/dangv2/unavailable.go" core/sdk/dang/v2/
  ) >>"$out" 2>&1 || die "preparing the dagger module failed (see $out)"

  ldflags="-s -w -X github.com/dagger/dagger/engine.Version=$VERSION -X github.com/dagger/dagger/engine.Tag=$VERSION"
  mkdir -p "$BIN.tmp"
  local pkg name t
  for pkg in cmd/dagger:dagger cmd/engine:dagger-engine cmd/init:dagger-init cmd/dnsname:dnsname; do
    name="${pkg#*:}"
    t=$(date +%s.%N)
    (cd "$work" && "$GO" build -trimpath -tags dfexcludepatterns,dfparents -ldflags "$ldflags" \
      -o "$BIN.tmp/$name" "./${pkg%%:*}") >>"$out" 2>&1 \
      || die "go build ./${pkg%%:*} failed: $(grep -v '^go: downloading' "$out" | tail -3 | tr '\n' ' ') (see $out)"
    log "built $name in $(since "$t")"
  done
  rm -rf "$BIN"
  mv "$BIN.tmp" "$BIN"
  rm -rf "$work"
  log "Go binaries ready in $(since "$started")"
}

have_binaries() {
  local b
  for b in "${BINARIES[@]}"; do [ -x "$BIN/$b" ] || return 1; done
}
if have_binaries; then
  log "Go binaries: reusing $BIN"
else
  build_binaries
fi
CLI="$BIN/dagger"

# ---------------------------------------------------------------------------------------------
# 2. Engine image. Inputs: the binaries, the Debian package list, the entrypoint and config files.
image_hash="$( { printf '%s %s %s %s\n' "$go_hash" "$IMAGE_RECIPE_REVISION" "$DEBIAN_SUITE" "${DEBIAN_PACKAGES[*]}";
  sha256sum "$HERE/entrypoint.sh" "$HERE/engine.json" "$HERE/engine.toml" | cut -d' ' -f1; } | sha256sum | cut -c1-16)"
IMAGE="$IMAGE_REPO:$VERSION-$image_hash"

build_image() {
  local started rootfs out includes debian_tar
  started=$(date +%s.%N)
  out="$CACHE/logs/image-build.log"
  : >"$out"
  # The Debian part alone, cached by its inputs, so that changing the files added below is quick.
  debian_tar="$CACHE/debian-$(printf '%s %s %s\n' "$DEBIAN_SUITE" "$(dpkg --print-architecture)" "${DEBIAN_PACKAGES[*]}" | sha256sum | cut -c1-16).tar"
  if [ ! -s "$debian_tar" ]; then
    includes="$(IFS=,; printf '%s' "${DEBIAN_PACKAGES[*]}")"
    log "engine root filesystem from Debian $DEBIAN_SUITE with mmdebstrap (log: $out)"
    mmdebstrap --variant=essential --mode=root --architectures="$(dpkg --print-architecture)" \
      --include="$includes" \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      "$DEBIAN_SUITE" "$debian_tar.partial.tar" >>"$out" 2>&1 || { rm -rf "$debian_tar.partial.tar"; die "mmdebstrap failed (see $out)"; }
    mv "$debian_tar.partial.tar" "$debian_tar"
    log "Debian root filesystem ready in $(since "$started")"
  else
    log "Debian root filesystem: reusing $debian_tar"
  fi
  rootfs="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
  ROOTFS_TMP="$rootfs"
  tar -C "$rootfs" -xf "$debian_tar"

  # The engine's layout (see go/distconsts): binaries in /usr/local/bin, runc at /usr/local/bin/runc,
  # CNI plugins in /opt/cni/bin (Debian: /usr/lib/cni), config in /etc/dagger.
  install -m 0755 "$BIN/dagger-engine" "$BIN/dagger-init" "$rootfs/usr/local/bin/"
  install -m 0755 "$HERE/entrypoint.sh" "$rootfs/usr/local/bin/dagger-entrypoint"
  ln -sf /usr/sbin/runc "$rootfs/usr/local/bin/runc"
  install -m 0755 "$BIN/dnsname" "$rootfs/usr/lib/cni/dnsname"
  mkdir -p "$rootfs/opt/cni" "$rootfs/etc/dagger" "$rootfs/var/lib/dagger" "$rootfs/run/dagger"
  ln -sfn /usr/lib/cni "$rootfs/opt/cni/bin"
  install -m 0644 "$HERE/engine.json" "$HERE/engine.toml" "$rootfs/etc/dagger/"
  local p
  for p in /usr/sbin/runc /usr/bin/tini /usr/sbin/dnsmasq /usr/sbin/xtables-nft-multi /usr/sbin/xtables-legacy-multi \
    /usr/lib/cni/bridge /usr/lib/cni/loopback /usr/lib/cni/firewall /usr/lib/cni/host-local /usr/bin/git /usr/bin/pigz; do
    [ -e "$rootfs$p" ] || die "engine root filesystem lacks $p"
  done

  local t=$(date +%s.%N)
  tar -C "$rootfs" -c . | "$DOCKER" import \
    --change 'ENTRYPOINT ["/usr/local/bin/dagger-entrypoint"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'VOLUME /var/lib/dagger' \
    --change "LABEL org.opencontainers.image.version=$VERSION" \
    --change "LABEL airbyte-ci.dagger-engine.recipe=$image_hash" \
    - "$IMAGE" >>"$out" 2>&1 || die "docker import failed (see $out)"
  rm -rf "$rootfs"
  ROOTFS_TMP=
  log "imported $IMAGE in $(since "$t"); image built in $(since "$started")"
}

if "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  log "engine image: reusing $IMAGE"
else
  build_image
fi

if [ "${DAGGER_ENGINE_BUILD_ONLY:-}" = 1 ]; then
  log "built in $(since "$START_ALL") (DAGGER_ENGINE_BUILD_ONLY=1: not starting the engine)"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# 3. Engine container.
iptables_backend() {
  if [ -n "${DAGGER_ENGINE_IPTABLES:-}" ]; then
    case "$DAGGER_ENGINE_IPTABLES" in
      nft|legacy) printf '%s' "$DAGGER_ENGINE_IPTABLES"; return ;;
      *) printf '[dagger-engine] error: DAGGER_ENGINE_IPTABLES=%s: expected nft or legacy\n' "$DAGGER_ENGINE_IPTABLES" >&2; exit 2 ;;
    esac
  fi
  # Where dockerd put its rules; else what the host's `iptables` is.
  if command -v iptables-nft >/dev/null 2>&1 && iptables-nft -n -L DOCKER >/dev/null 2>&1; then printf nft; return; fi
  if command -v iptables-legacy >/dev/null 2>&1 && iptables-legacy -n -L DOCKER >/dev/null 2>&1; then printf legacy; return; fi
  case "$(iptables --version 2>/dev/null)" in *legacy*) printf legacy ;; *) printf nft ;; esac
}

# Opens a session and asks the engine its version (from /, so that no module is looked up).
session_ok() {
  local answer
  answer="$(cd / && _EXPERIMENTAL_DAGGER_RUNNER_HOST="$RUNNER_HOST" DO_NOT_TRACK=1 DAGGER_NO_NAG=1 \
    timeout 60 "$CLI" --progress=plain query <<<'{ version }' 2>"$CACHE/logs/probe.log")" || return 1
  [[ "$answer" == *"\"$VERSION\""* ]]
}

# `docker run --privileged` asks for every capability the kernel knows; where dockerd's own bounding
# set lacks one (this project's VMs have no CAP_SYS_RESOURCE), runc fails with "unable to apply caps:
# operation not permitted". There the same powers are granted one by one instead.
set_privilege_flags() {
  local last bnd full
  last="$(cat /proc/sys/kernel/cap_last_cap)"
  bnd="$(sed -n 's/^CapBnd:[[:space:]]*//p' "/proc/$(pgrep -o -x dockerd)/status" 2>/dev/null || true)"
  full="$(printf '%x' $(( (1 << (last + 1)) - 1 )))"
  PRIVILEGE_FLAGS=(--privileged)
  if [ -z "$bnd" ] || [ "$(printf '%x' $((16#$bnd)))" = "$full" ]; then
    return
  fi
  local names=([24]=SYS_RESOURCE [38]=PERFMON [39]=BPF [40]=CHECKPOINT_RESTORE) cap missing=()
  PRIVILEGE_FLAGS=(--cap-add=ALL)
  for cap in $(seq 0 "$last"); do
    (( (16#$bnd >> cap) & 1 )) && continue
    [ -n "${names[$cap]:-}" ] || die "dockerd lacks capability number $cap, which this script does not know how to drop"
    missing+=("${names[$cap]}")
    PRIVILEGE_FLAGS+=("--cap-drop=${names[$cap]}")
  done
  log "dockerd's bounding set lacks ${missing[*]}: granting the privileged set one by one instead of --privileged"
  PRIVILEGE_FLAGS+=(--security-opt=seccomp=unconfined --security-opt=apparmor=unconfined
    --security-opt=systempaths=unconfined "--device-cgroup-rule=a *:* rwm" --volume=/sys/fs/cgroup:/sys/fs/cgroup:rw)
}

# The engine's CNI plugins put rules for its "dagger" network (10.87.0.0/16) in the host's tables,
# since the engine runs on the host network; a clean stop removes them, a killed engine leaves them.
# With no engine running, every rule tagged with that network is stale: remove it before starting.
clear_stale_cni_rules() {
  local ipt="/usr/sbin/iptables-$1" line chain n=0
  [ -x "$ipt" ] || return 0
  while IFS= read -r line; do
    eval "$ipt -t nat -D ${line#-A }" && n=$((n + 1))
  done < <("$ipt" -t nat -S POSTROUTING 2>/dev/null | grep -F 'name: \"dagger\"')
  for chain in $("$ipt" -t nat -S 2>/dev/null | sed -n 's/^-N \(CNI-[0-9a-f]\{24\}\)$/\1/p'); do
    "$ipt" -t nat -S "$chain" 2>/dev/null | grep -qF 'name: \"dagger\"' || continue
    "$ipt" -t nat -F "$chain" && "$ipt" -t nat -X "$chain" && n=$((n + 1))
  done
  while IFS= read -r line; do
    eval "$ipt -t filter -D ${line#-A }" && n=$((n + 1))
  done < <("$ipt" -t filter -S CNI-FORWARD 2>/dev/null | grep -E -- '-[sd] 10\.87\.[0-9]+\.[0-9]+/32')
  if [ "$n" -gt 0 ]; then log "removed $n stale iptables ($1) rules and chains of a previous engine's network"; fi
}

running_image="$("$DOCKER" inspect -f '{{if .State.Running}}{{.Config.Image}}{{end}}' "$NAME" 2>/dev/null || true)"
answering=false
if [ "$running_image" = "$IMAGE" ]; then
  # Other processes may be using this engine: on a busy machine give it three chances before
  # replacing it.
  for attempt in 1 2 3; do
    if session_ok; then answering=true; break; fi
    log "engine $NAME did not answer (attempt $attempt of 3, see $CACHE/logs/probe.log)"
    sleep 2
  done
fi
if [ "$answering" = true ]; then
  log "engine $NAME answers on $RUNNER_HOST"
else
  started=$(date +%s.%N)
  if "$DOCKER" inspect "$NAME" >/dev/null 2>&1; then
    log "recreating engine container $NAME (was: ${running_image:-not running}; wanted: $IMAGE)"
    # A clean stop keeps the engine's cache (a killed engine wipes it on the next start) and removes
    # its network rules.
    "$DOCKER" stop -t 60 "$NAME" >/dev/null 2>&1 || true
    "$DOCKER" rm -f "$NAME" >/dev/null
  fi
  backend="$(iptables_backend)"
  clear_stale_cni_rules "$backend"
  mkdir -p "$SOCKET_DIR"
  rm -f "$SOCKET_DIR/engine.sock"
  set_privilege_flags
  log "starting $NAME (iptables backend $backend, state in volume $NAME, log: docker logs $NAME)"
  "$DOCKER" run -d --name "$NAME" "${PRIVILEGE_FLAGS[@]}" --network host --restart unless-stopped \
    -e DAGGER_IPTABLES_BACKEND="$backend" \
    -v "$NAME:/var/lib/dagger" -v "$SOCKET_DIR:/run/dagger" \
    "$IMAGE" >/dev/null || die "docker run of $IMAGE failed"
  for _ in $(seq 1 120); do
    if [ -S "$SOCKET_DIR/engine.sock" ] && session_ok; then break; fi
    if [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$NAME" 2>/dev/null)" != true ]; then
      "$DOCKER" logs --tail 30 "$NAME" >&2 2>&1 || true
      die "engine container $NAME stopped (see docker logs $NAME)"
    fi
    sleep 1
  done
  session_ok || { "$DOCKER" logs --tail 30 "$NAME" >&2 2>&1 || true; die "the CLI cannot open a session on $RUNNER_HOST after 120 s (see $CACHE/logs/probe.log, docker logs $NAME)"; }
  log "engine started and answering in $(since "$started")"
  # Earlier images of this version (other inputs) are no longer needed once this one answers.
  for old in $("$DOCKER" images --format '{{.Repository}}:{{.Tag}}' "$IMAGE_REPO" | grep -F "$IMAGE_REPO:$VERSION-" | grep -vxF "$IMAGE"); do
    if "$DOCKER" rmi "$old" >/dev/null 2>&1; then log "removed the superseded image $old"; fi
  done
fi

log "ready in $(since "$START_ALL")"
printf 'export _EXPERIMENTAL_DAGGER_RUNNER_HOST=%s\n' "$RUNNER_HOST"
printf 'export _EXPERIMENTAL_DAGGER_CLI_BIN=%s\n' "$CLI"
