#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) for Neutrino: installs the build,
# test and benchmark dependencies with apt-get, then configures and builds
# into build/ (the benchmarks included: CTest's bench.smoke runs them).
# Safe to run again: it installs only what is missing and rebuilds what changed.
#   tools/setup.sh                  packages, then the build
#   tools/setup.sh --packages-only  packages only (what bench/run calls)
set -euo pipefail
cd "$(dirname "$0")/.."
packages_only=0
case "${1:-}" in
  "") ;;
  --packages-only) packages_only=1 ;;
  *) echo "usage: tools/setup.sh [--packages-only]" >&2; exit 2 ;;
esac

packages=(
  # build
  cmake ninja-build clang llvm pkg-config g++
  libclang-rt-14-dev   # libFuzzer and the sanitizers of the fuzz target (clang only recommends it)
  libbpf-dev bpftool libxdp-dev xdp-tools libnl-3-dev libnl-route-3-dev
  libcli11-dev nlohmann-json3-dev libspdlog-dev libgtest-dev libtins-dev libpcap-dev
  # tests and demo: real tools as oracles and peers
  iproute2 iputils-ping arping tcpdump iperf3 netcat-openbsd ethtool python3 kmod
  isc-dhcp-client udhcpc   # udhcpc needs busybox or busybox-static (vm-tests uses the latter)
  # bench: the Neutron reference rebuilt from stock parts (iptables with both
  # backends; bridges and veths from iproute2), sysctl inside its namespaces,
  # CPU pinning of the traffic (taskset)
  iptables procps util-linux
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "setup: need root to install: ${missing[*]}" >&2; exit 1; }
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ $packages_only -eq 1 ]; then exit 0; fi

# Extra setup of the suites that need more than packages (kernel images for
# vm-tests, ...). Each script is idempotent and installs its own packages.
for extra in vm-tests/setup.sh; do
  if [ -x "$extra" ]; then "$extra"; fi
done

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNEUTRINO_WERROR=ON -DNEUTRINO_BENCH=ON >/dev/null
ninja -C build
echo "setup: built build/neutrino"
