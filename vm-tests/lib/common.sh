# Shared by vm-tests/setup.sh and vm-tests/run (sourced, bash).

# Unpacked kernels: $NT_VM_CACHE/<version>/{boot/vmlinuz-<version>,lib/modules/<version>}
: "${NT_VM_CACHE:=/var/cache/neutrino/vm-kernels}"

note() { echo "vm-tests: $*" >&2; }
die()  { echo "vm-tests: error: $*" >&2; exit "${NT_DIE_STATUS:-2}"; }

# Prints the cache directory of the newest cached kernel whose version is WANT
# or starts with WANT followed by '.' or '-' ("6.1" -> 6.1.0-54-amd64).
resolve_cached_kernel() {  # want
  local want=$1 d v best=
  [ -d "$NT_VM_CACHE" ] || return 1
  for d in "$NT_VM_CACHE"/*/; do
    v=$(basename "$d")
    [[ $v == "$want" || $v == "$want".* || $v == "$want"-* ]] || continue
    [ -f "$d/boot/vmlinuz-$v" ] && [ -f "$d/lib/modules/$v/modules.dep" ] || continue
    best=$(printf '%s\n%s\n' "$best" "$v" | sed '/^$/d' | sort -V | tail -n 1)
  done
  [ -n "$best" ] || return 1
  echo "$NT_VM_CACHE/$best"
}

# Kernel release of a bzImage, read from its setup header (no `file` needed):
# the 16-bit pointer at 0x20e, plus 0x200, locates a NUL-terminated string
# that starts with the release ("6.1.0-54-amd64 (debian-kernel@...) #1 ...").
bzimage_release() {  # image
  local img=$1 off
  [ "$(dd if="$img" bs=1 skip=514 count=4 2>/dev/null)" = HdrS ] || return 1
  off=$(od -An -tu2 -j 526 -N 2 "$img" | tr -d ' ')
  dd if="$img" bs=1 skip=$((off + 512)) count=128 2>/dev/null | tr '\0' '\n' | head -n 1 | awk '{print $1}'
}
