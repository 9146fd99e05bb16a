#!/usr/bin/env bash
# Builds a fixture root image for one platform with mmdebstrap: "Python 3.11 on Debian bookworm"
# (the default line; recorded in .local/fixture/root-<arch>.json) or, with the line 3.9, "Python 3.9
# on Debian bullseye" (Debian's python3.9, 3.9.2: the Python line of the production bases; recorded in
# .local/fixture/root-py3.9-<arch>.json). Imports it with the environment an official python image
# declares (values read from the rootfs itself), pushes it to the local registry as
# 127.0.0.1:5000/python:<line>-<suite> and records its address by digest. Reused when the recorded
# digest is still in the registry.
#   usage: fixture-root-image.sh linux/amd64|linux/arm64 [3.11|3.9]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="$ROOT/.local"
STATE_DIR="$LOCAL/fixture"
REGISTRY=127.0.0.1:5000
REPOSITORY=python
DOCKER=/usr/bin/docker

log() { printf '[fixture] %s\n' "$*" >&2; }
die() { printf '[fixture] error: %s\n' "$*" >&2; exit 1; }

platform="${1:-}"
case "$platform" in
  linux/amd64) arch=amd64 ;;
  linux/arm64) arch=arm64 ;;
  *) die "unknown platform '$platform': expected linux/amd64 or linux/arm64" ;;
esac
# Per line: the Debian release whose python3 is that Python, and the key that signs its CPython
# releases (the GPG_KEY official python:<line> images declare).
line="${2:-3.11}"
case "$line" in
  3.11) suite=bookworm; gpg_key=A035C8C19219BA821ECEA86B64E628F8D684696D; state_name="root-$arch.json" ;;
  3.9) suite=bullseye; gpg_key=E3FF2839C048B25C084DEBE9B26995E310250568; state_name="root-py3.9-$arch.json" ;;
  *) die "unknown Python line '$line': expected 3.11 or 3.9" ;;
esac
TAG="$line-$suite"
mkdir -p "$STATE_DIR"
state="$STATE_DIR/$state_name"
accept='application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json'

if [ -s "$state" ]; then
  digest="$(sed -n 's/.*"digest": *"\(sha256:[0-9a-f]\{64\}\)".*/\1/p' "$state")"
  if [ -n "$digest" ] && curl -fsS -o /dev/null -H "Accept: $accept" "http://$REGISTRY/v2/$REPOSITORY/manifests/$digest"; then
    log "$platform: reusing $REGISTRY/$REPOSITORY:$TAG@$digest"
    exit 0
  fi
  log "$platform: recorded image is gone from the registry, rebuilding"
fi

if [ "$arch" != "$(dpkg --print-architecture)" ] && [ ! -e "/proc/sys/fs/binfmt_misc/qemu-aarch64" ]; then
  die "$platform: building needs qemu-user-static emulation (binfmt_misc qemu-aarch64 is not registered)"
fi

work="$(mktemp -d "$LOCAL/fixture-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log "$platform: building rootfs with mmdebstrap (about 30 s natively, a few minutes emulated)"
# python-is-python3 gives the `python` command an official image has; removing EXTERNALLY-MANAGED
# makes pip behave as in an official image (pip installs into the system interpreter).
mmdebstrap --variant=minbase --architectures="$arch" \
  --include=bash,tzdata,ca-certificates,python3,python3-pip,python3-venv,python3-setuptools,python3-wheel,python-is-python3 \
  --customize-hook='rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
  --customize-hook="chroot \"\$1\" python3 -c 'import platform; from importlib.metadata import version as v; print(platform.python_version(), v(\"pip\"), v(\"setuptools\"), v(\"wheel\"))' > '$work/versions'" \
  "$suite" "$work/rootfs.tar" \
  "deb http://deb.debian.org/debian $suite main" \
  "deb http://deb.debian.org/debian $suite-updates main" \
  "deb http://deb.debian.org/debian-security $suite-security main" \
  >"$LOCAL/logs/mmdebstrap-$TAG-$arch.log" 2>&1 || die "$platform: mmdebstrap failed, see $LOCAL/logs/mmdebstrap-$TAG-$arch.log"

read -r python_version pip_version setuptools_version wheel_version <"$work/versions"
[ -n "$wheel_version" ] || die "$platform: could not read Python/pip versions from the rootfs"
log "$platform: Python $python_version, pip $pip_version, setuptools $setuptools_version"

local_tag="$REGISTRY/$REPOSITORY:$TAG-$arch"
# The environment an official python:<line> image declares, with values true for this rootfs.
# GPG_KEY is the key that signs that line's CPython releases (the value python:<line> images carry).
# Imported through BuildKit (ADD of the rootfs tarball onto scratch) rather than `docker import`:
# Debian's docker 20.10 import ignores --platform, and the image config must say arm64 for arm64.
cat >"$work/Dockerfile" <<DOCKERFILE
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ENV LANG=C.UTF-8
ENV HOME=/root
ENV GPG_KEY=$gpg_key
ENV PYTHON_VERSION=$python_version
ENV PYTHON_PIP_VERSION=$pip_version
ENV PYTHON_SETUPTOOLS_VERSION=$setuptools_version
ENV PYTHON_WHEEL_VERSION=$wheel_version
LABEL org.opencontainers.image.description="fixture root image: Python $python_version on Debian $suite ($platform), built with mmdebstrap"
CMD ["python3"]
DOCKERFILE
DOCKER_BUILDKIT=1 "$DOCKER" build --platform "$platform" -t "$local_tag" "$work" >"$LOCAL/logs/fixture-import-$TAG-$arch.log" 2>&1 \
  || die "$platform: importing the rootfs failed, see $LOCAL/logs/fixture-import-$TAG-$arch.log"
built_arch="$("$DOCKER" image inspect --format '{{.Architecture}}' "$local_tag")"
[ "$built_arch" = "$arch" ] || die "$platform: imported image says architecture $built_arch, expected $arch"

push_out="$("$DOCKER" push "$local_tag" 2>&1)" || die "$platform: push of $local_tag failed: $push_out"
digest="$(printf '%s\n' "$push_out" | sed -n 's/.*digest: \(sha256:[0-9a-f]\{64\}\).*/\1/p' | tail -n1)"
[ -n "$digest" ] || die "$platform: could not read the pushed digest from: $push_out"

tmp="$state.tmp.$$"
cat >"$tmp" <<EOF
{
  "platform": "$platform",
  "address": "$REGISTRY/$REPOSITORY:$TAG@$digest",
  "digest": "$digest",
  "pythonVersion": "$python_version",
  "pipVersion": "$pip_version",
  "setuptoolsVersion": "$setuptools_version",
  "wheelVersion": "$wheel_version",
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
EOF
mv "$tmp" "$state"
log "$platform: pushed $REGISTRY/$REPOSITORY:$TAG@$digest"
