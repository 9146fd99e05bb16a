#!/usr/bin/env bash
# Installs and starts the local build environment, idempotently:
#   Debian packages (docker.io, docker-registry, mmdebstrap, qemu-user-static, python3-venv),
#   arm64 emulation, dockerd, an OCI registry on 127.0.0.1:5000 (no auth, storage under .local/),
#   the fixture root image "Python 3.11 on Debian bookworm", pushed and addressed by digest,
#   a PyPI proxy on 127.0.0.1:3141 (devpi-server) for dependency installs inside builds,
#   and uv (the resolver of `connector-build lock --as-of`) in /opt/airbyte-ci.
# A second run finds everything in place and takes a few seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="$ROOT/.local"
mkdir -p "$LOCAL/logs"

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "this script installs Debian packages and starts dockerd: run it as root"

# ---------------------------------------------------------------------------------------------
# 1. Debian packages
PACKAGES=(docker.io docker-registry mmdebstrap arch-test qemu-user-static binfmt-support curl ca-certificates python3 python3-venv)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq >"$LOCAL/logs/apt.log" 2>&1 || die "apt-get update failed, see $LOCAL/logs/apt.log"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >>"$LOCAL/logs/apt.log" 2>&1 || die "apt-get install ${missing[*]} failed, see $LOCAL/logs/apt.log"
fi

# Only for the test command (scripts/test.sh sets AIRBYTE_CI_TEST_TOOLS=1): a headless browser that
# renders the fleet report page (`connector-build report --html`) in a test.
if [ "${AIRBYTE_CI_TEST_TOOLS:-}" = 1 ] && ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed"; then
  log "installing Debian's chromium for the browser test (log: $LOCAL/logs/apt.log)"
  apt-get update -qq >>"$LOCAL/logs/apt.log" 2>&1 || die "apt-get update failed, see $LOCAL/logs/apt.log"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium \
    >>"$LOCAL/logs/apt.log" 2>&1 || die "apt-get install chromium failed, see $LOCAL/logs/apt.log"
fi

# ---------------------------------------------------------------------------------------------
# 2. arm64 emulation (binfmt_misc with qemu-aarch64-static, "F" flag so it works inside containers)
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || log "warning: cannot mount binfmt_misc; arm64 emulation unavailable"
fi
if [ -e /proc/sys/fs/binfmt_misc/register ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
  if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    # Register by hand with the fix-binary flag so the interpreter is found inside any rootfs.
    printf '%s' ':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64-static:F' \
      >/proc/sys/fs/binfmt_misc/register || log "warning: cannot register qemu-aarch64"
  fi
fi

# ---------------------------------------------------------------------------------------------
# 3. dockerd. Debian's client (/usr/bin/docker) has BuildKit built in; the preinstalled v28 client
#    on PATH has no buildx plugin, so everything here uses /usr/bin/docker explicitly.
DOCKER=/usr/bin/docker
if ! "$DOCKER" info >/dev/null 2>&1; then
  log "starting dockerd (log: $LOCAL/logs/dockerd.log)"
  nohup /usr/sbin/dockerd >"$LOCAL/logs/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    "$DOCKER" info >/dev/null 2>&1 && break
    sleep 1
  done
  "$DOCKER" info >/dev/null 2>&1 || die "dockerd did not answer within 60 s, see $LOCAL/logs/dockerd.log"
fi

# ---------------------------------------------------------------------------------------------
# 4. OCI registry on 127.0.0.1:5000 with the project's own config (no auth, storage in .local/)
REGISTRY=127.0.0.1:5000
mkdir -p "$LOCAL/registry"
sed "s#@STORAGE@#$LOCAL/registry#" "$ROOT/scripts/env/registry.yml" >"$LOCAL/registry.yml"
if ! curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1; then
  log "starting docker-registry on $REGISTRY (log: $LOCAL/logs/registry.log)"
  nohup /usr/bin/docker-registry serve "$LOCAL/registry.yml" >"$LOCAL/logs/registry.log" 2>&1 &
  for _ in $(seq 1 30); do
    curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1 || die "registry did not answer on $REGISTRY, see $LOCAL/logs/registry.log"
fi

# ---------------------------------------------------------------------------------------------
# 5. Fixture root image(s), once per machine
PLATFORMS="${FIXTURE_PLATFORMS:-linux/amd64 linux/arm64}"
for platform in $PLATFORMS; do
  "$ROOT/scripts/env/fixture-root-image.sh" "$platform"
done

# ---------------------------------------------------------------------------------------------
# 6. PyPI proxy on loopback. Build containers reach pypi.org at TCP level but do not trust this
#    machine's egress CA, so dependency installs inside builds go through devpi-server on
#    127.0.0.1:3141 (builds use host networking). devpi runs on the host, where the CA is trusted,
#    and serves PyPI's simple index and files over plain http, caching both in .local/devpi.
#    Installed once per machine in its own virtual environment under /opt.
DEVPI_VERSION=6.20.3
DEVPI_VENV="/opt/airbyte-ci/devpi-server-$DEVPI_VERSION"
PYPI_PROXY_PORT="${PYPI_PROXY_PORT:-3141}"
PYPI_PROXY_URL="http://127.0.0.1:$PYPI_PROXY_PORT/root/pypi/+simple/"
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
if [ ! -e "$DEVPI_VENV/.installed" ]; then
  log "installing devpi-server $DEVPI_VERSION from PyPI into $DEVPI_VENV (log: $LOCAL/logs/devpi-install.log)"
  rm -rf "$DEVPI_VENV"
  mkdir -p "$(dirname "$DEVPI_VENV")"
  { /usr/bin/python3 -m venv "$DEVPI_VENV" \
    && PIP_CERT="$CA_BUNDLE" "$DEVPI_VENV/bin/python" -m pip install --disable-pip-version-check --no-input \
      "devpi-server==$DEVPI_VERSION"; } >"$LOCAL/logs/devpi-install.log" 2>&1 \
    || { rm -rf "$DEVPI_VENV"; die "installing devpi-server failed, see $LOCAL/logs/devpi-install.log"; }
  touch "$DEVPI_VENV/.installed"
fi
if ! curl -fsS -o /dev/null "$PYPI_PROXY_URL" 2>/dev/null; then
  DEVPI_DIR="$LOCAL/devpi"
  if [ ! -e "$DEVPI_DIR/.serverversion" ]; then
    "$DEVPI_VENV/bin/devpi-init" --serverdir "$DEVPI_DIR" >"$LOCAL/logs/devpi-init.log" 2>&1 \
      || die "devpi-init failed, see $LOCAL/logs/devpi-init.log"
  fi
  log "starting devpi-server on 127.0.0.1:$PYPI_PROXY_PORT (log: $LOCAL/logs/devpi.log)"
  REQUESTS_CA_BUNDLE="$CA_BUNDLE" SSL_CERT_FILE="$CA_BUNDLE" nohup "$DEVPI_VENV/bin/devpi-server" \
    --serverdir "$DEVPI_DIR" --host 127.0.0.1 --port "$PYPI_PROXY_PORT" >"$LOCAL/logs/devpi.log" 2>&1 &
  # The first page also loads PyPI's project list: wait for it here, not in a build's pip timeout.
  for _ in $(seq 1 120); do
    curl -fsS -o /dev/null --max-time 60 "$PYPI_PROXY_URL" 2>/dev/null && break
    sleep 1
  done
fi
curl -fsS -o /dev/null --max-time 120 "${PYPI_PROXY_URL}pip/" \
  || die "the PyPI proxy does not serve ${PYPI_PROXY_URL}pip/, see $LOCAL/logs/devpi.log"
mkdir -p "$LOCAL/env"
printf '%s\n' "$PYPI_PROXY_URL" >"$LOCAL/env/pip-index-url"

# uv, the resolver of `connector-build lock --as-of` (packages/connector-build/src/supply-chain/as-of.ts
# names the same version and path), from PyPI by a pinned version into its own virtual environment.
UV_VERSION=0.13.9
UV_VENV="/opt/airbyte-ci/uv-$UV_VERSION"
if [ ! -e "$UV_VENV/.installed" ]; then
  log "installing uv $UV_VERSION from PyPI into $UV_VENV (log: $LOCAL/logs/uv-install.log)"
  rm -rf "$UV_VENV"
  mkdir -p "$(dirname "$UV_VENV")"
  { /usr/bin/python3 -m venv "$UV_VENV" \
    && PIP_CERT="$CA_BUNDLE" "$UV_VENV/bin/python" -m pip install --disable-pip-version-check --no-input "uv==$UV_VERSION"; } \
    >"$LOCAL/logs/uv-install.log" 2>&1 || { rm -rf "$UV_VENV"; die "installing uv failed, see $LOCAL/logs/uv-install.log"; }
  touch "$UV_VENV/.installed"
fi

# ---------------------------------------------------------------------------------------------
# 7. Every tool the setup and the engines use, checked by name; a missing one names its package.
declare -A TOOL_PACKAGE=(
  [/usr/bin/docker]=docker.io [/usr/sbin/dockerd]=docker.io [/usr/bin/docker-registry]=docker-registry
  [/usr/bin/mmdebstrap]=mmdebstrap [/usr/bin/arch-test]=arch-test [/usr/bin/qemu-aarch64-static]=qemu-user-static
  [/usr/sbin/update-binfmts]=binfmt-support [/usr/bin/curl]=curl [/usr/bin/python3]=python3
)
absent=()
for tool in "${!TOOL_PACKAGE[@]}"; do
  [ -x "$tool" ] || absent+=("$tool (Debian package ${TOOL_PACKAGE[$tool]})")
done
if [ "${#absent[@]}" -gt 0 ]; then
  die "missing after setup: ${absent[*]}"
fi
