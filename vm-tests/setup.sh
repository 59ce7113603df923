#!/usr/bin/env bash
# Prepares this machine (Debian 12, as root) for vm-tests/run: installs qemu,
# busybox-static and kmod when missing, and fetches the test kernels into the
# cache, unpacked with `dpkg -x` (never installed into /boot).
#
#   vm-tests/setup.sh                  # the default set: Debian 12's 6.1 LTS
#   vm-tests/setup.sh 6.1 6.1.0-50-amd64
#
# A KERNEL argument is a version prefix ("6.1": the newest 6.1 in the apt
# lists) or an exact version ("6.1.0-50-amd64"). Only the `amd64` flavour is
# used: it has 9p, which the runner shares the root filesystem with (the
# `cloud-amd64` flavour has no 9p and would need virtiofsd).
#
# Idempotent and quiet when everything is present: it asks apt nothing then.
# Called by tools/setup.sh before the build is configured.
set -euo pipefail
cd "$(dirname "$0")"
source lib/common.sh

kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1)

as_root() { [ "$(id -u)" -eq 0 ] || die "need root to $* (run tools/setup.sh as root)"; }

# ---- packages -------------------------------------------------------------------
packages=(qemu-system-x86 busybox-static kmod)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
apt_quiet() {  # apt-get ARGS...: silent unless it fails
  local log; log=$(mktemp)
  if DEBIAN_FRONTEND=noninteractive apt-get "$@" >"$log" 2>&1; then rm -f "$log"; return 0; fi
  cat "$log" >&2; rm -f "$log"; return 1
}
if [ ${#missing[@]} -gt 0 ]; then
  as_root "install ${missing[*]}"
  note "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { apt_quiet update -q && apt_quiet install -y -q --no-install-recommends "${missing[@]}"; } \
    || die "apt-get install ${missing[*]} failed"
fi

# ---- kernels --------------------------------------------------------------------
# Newest package name in the apt lists for a version prefix or exact version.
package_for() {
  local want=$1 re
  if [[ $want =~ ^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+-amd64$ ]]; then
    echo "linux-image-$want-unsigned"; return
  fi
  re="^linux-image-${want//./\\.}[.0-9]*-[0-9]+-amd64-unsigned\$"
  apt-cache search --names-only "$re" 2>/dev/null | awk '{print $1}' | sort -V | tail -n 1
}

fetch_kernel() {  # package
  local pkg=$1 ver tmp deb
  ver=${pkg#linux-image-}; ver=${ver%-unsigned}
  as_root "fetch $pkg into $NT_VM_CACHE"
  mkdir -p "$NT_VM_CACHE"
  tmp=$(mktemp -d "$NT_VM_CACHE/.fetch.XXXXXX")
  FETCH_TMP=$tmp
  chmod 755 "$tmp"   # apt-get download drops privileges to _apt
  note "downloading $pkg"
  if ! (cd "$tmp" && apt_quiet download -q "$pkg" 2>/dev/null); then
    apt_quiet update -q || die "apt-get update failed"
    (cd "$tmp" && apt_quiet download -q "$pkg") || die "apt-get download $pkg failed"
  fi
  deb=$(ls "$tmp"/*.deb)
  dpkg -x "$deb" "$tmp/root"
  # Merged-/usr packages ship usr/lib/modules; the runner expects lib/modules.
  if [ ! -d "$tmp/root/lib/modules/$ver" ] && [ -d "$tmp/root/usr/lib/modules/$ver" ]; then
    mkdir -p "$tmp/root/lib"; mv "$tmp/root/usr/lib/modules" "$tmp/root/lib/modules"
  fi
  [ -f "$tmp/root/boot/vmlinuz-$ver" ] || die "$pkg has no boot/vmlinuz-$ver"
  [ -d "$tmp/root/lib/modules/$ver" ] || die "$pkg has no lib/modules/$ver"
  # The .deb ships no modules.dep (the postinst would make it).
  depmod -b "$tmp/root" "$ver"
  rm -rf "${NT_VM_CACHE:?}/$ver"
  mv "$tmp/root" "$NT_VM_CACHE/$ver"
  rm -rf "$tmp"; FETCH_TMP=
  note "kernel $ver ready in $NT_VM_CACHE/$ver"
}
FETCH_TMP=
trap '[ -z "$FETCH_TMP" ] || rm -rf "$FETCH_TMP"' EXIT

locked=0
for k in "${kernels[@]}"; do
  # Already cached (any build of that version)? Then ask apt nothing.
  if resolve_cached_kernel "$k" >/dev/null 2>&1; then continue; fi
  if [ "$locked" = 0 ]; then
    # One fetcher at a time; the leftovers of an interrupted one go.
    as_root "fetch kernels into $NT_VM_CACHE"
    mkdir -p "$NT_VM_CACHE"
    exec 9>"$NT_VM_CACHE/.lock"
    flock 9
    rm -rf "$NT_VM_CACHE"/.fetch.*
    locked=1
    if resolve_cached_kernel "$k" >/dev/null 2>&1; then continue; fi
  fi
  pkg=$(package_for "$k")
  if [ -z "$pkg" ]; then
    as_root "refresh the apt lists"
    apt_quiet update -q || die "apt-get update failed"
    pkg=$(package_for "$k")
  fi
  [ -n "$pkg" ] || die "no Debian package linux-image-$k*-amd64-unsigned in the apt lists"
  fetch_kernel "$pkg"
done
