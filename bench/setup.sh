#!/usr/bin/env bash
# Packages the benchmarks need beyond tools/setup.sh: the Neutron reference is
# rebuilt from stock parts (iptables with both backends; bridges and veths from
# iproute2), traffic comes from iperf3 and bench's own nt_udp_flood.
# Idempotent and quick when everything is present; bench/run runs it when a
# tool is missing.
set -euo pipefail

packages=(iptables iperf3 iproute2 procps util-linux)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "bench/setup: need root to install: ${missing[*]}" >&2; exit 1; }
  echo "bench/setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
for tool in iptables-legacy-restore iptables-legacy-save iperf3 ip ss taskset python3; do
  command -v "$tool" >/dev/null || { echo "bench/setup: '$tool' missing" >&2; exit 1; }
done
