#!/bin/sh
# Engine container entrypoint. The engine picks its iptables backend itself (legacy whenever the
# kernel has legacy tables, looking for /usr/bin/xtables-*-multi), while the CNI plugins run the
# `iptables` found on PATH. Both must use the backend dockerd uses on the host, or the two rule sets
# disagree (dockerd's FORWARD policy DROP in one backend drops the engine bridge's traffic accepted
# in the other). DAGGER_IPTABLES_BACKEND (nft|legacy) comes from scripts/env/dagger-engine.sh.
set -eu
backend="${DAGGER_IPTABLES_BACKEND:-nft}"
case "$backend" in
  nft|legacy) ;;
  *) echo "dagger-entrypoint: DAGGER_IPTABLES_BACKEND='$backend': expected nft or legacy" >&2; exit 2 ;;
esac
for name in iptables ip6tables; do
  update-alternatives --quiet --set "$name" "/usr/sbin/$name-$backend"
done
# Debian installs xtables-*-multi in /usr/sbin; both names the engine may pick lead to the chosen one.
for flavour in legacy nft; do
  ln -sf "/usr/sbin/xtables-$backend-multi" "/usr/bin/xtables-$flavour-multi"
done
exec /usr/bin/tini -s -- /usr/local/bin/dagger-engine --config /etc/dagger/engine.toml "$@"
