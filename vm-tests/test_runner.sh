#!/usr/bin/env bash
# The runner's own tests (CTest: vm.runner). Each case boots the guest:
# exit statuses come back (0, non-zero, killed by a signal), the environment,
# directory and a writable root arrive, megabytes of binary output arrive
# intact, a guest kernel crash and a hang are reported clearly and bounded.
#
#   vm-tests/test_runner.sh [--kernel VERSION|IMAGE]     (default 6.1)
set -uo pipefail
HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
RUN=$HERE/run
KERNEL=6.1
[ "${1:-}" = --kernel ] && KERNEL=$2

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok - $*"; }
show() { echo "  --- stdout:"; sed 's/^/  | /' "$T/out" | head -c 4000; echo "  --- stderr:"; sed 's/^/  | /' "$T/err"; }

# vm OPTIONS... -- COMMAND...: runs the runner, stdout/stderr to $T/out,$T/err; sets rc, secs.
vm() {
  local t0=$SECONDS
  "$RUN" --kernel "$KERNEL" "$@" </dev/null >"$T/out" 2>"$T/err"
  rc=$?
  secs=$((SECONDS - t0))
}

# --- preflight: without a kernel or qemu, fail here and say what to do -------
NT_VM_CACHE=$T/no-cache "$RUN" --kernel "$KERNEL" -- true </dev/null >"$T/out" 2>"$T/err"; rc=$?
if [ "$rc" -eq 2 ] && grep -q "tools/setup.sh" "$T/err"; then
  pass "a missing kernel fails with exit 2 and names tools/setup.sh"
else
  fail "missing kernel: exit $rc"; show
fi
vm -- true
if [ "$rc" -ne 0 ]; then
  fail "the guest does not boot (exit $rc); nothing else can be tested"; show
  exit 1
fi
banner=$(head -n 1 "$T/out")
[[ $banner == "vm-tests: kernel $KERNEL"* || -f $KERNEL ]] \
  || fail "first line is not the kernel banner: '$banner'"
pass "boots and exits 0 in ${secs}s: $banner"

# --- exit statuses ----------------------------------------------------------
vm -- bash -c 'exit 3'
if [ "$rc" -eq 3 ]; then pass "exit 3 comes back as 3"; else fail "exit 3 came back as $rc"; show; fi

vm -- bash -c 'kill -9 $$'
if [ "$rc" -eq 137 ]; then pass "a command killed by SIGKILL comes back as 128+9"
else fail "SIGKILL came back as $rc"; show; fi

# --- cwd, environment, writable root, fresh /tmp, modules on demand ---------
cd "$HERE" || exit 1
NT_VMTEST_VALUE="a b'c" vm --env EXTRA=1 -- bash -c '
  echo "cwd=$PWD"; echo "value=$NT_VMTEST_VALUE"; echo "extra=$EXTRA"; echo "guest=$NT_VM_GUEST"
  touch /usr/.vm-tests-write-probe /tmp/x /run/x && echo writable
  mountpoint -q /sys/fs/bpf && echo bpffs
  ip link add nt-vmtest0 type veth peer name nt-vmtest1 && echo veth
  tc qdisc add dev nt-vmtest0 clsact && echo clsact'
out=$(cat "$T/out")
for want in "cwd=$HERE" "value=a b'c" "extra=1" "guest=1" writable bpffs veth clsact; do
  grep -qxF "$want" <<<"$out" || { fail "guest environment: no line '$want'"; show; break; }
done
[ -e /usr/.vm-tests-write-probe ] && fail "a write in the guest reached the host's /usr"
if [ "$rc" -eq 0 ]; then pass "cwd, environment, writable overlay, bpffs, veth and clsact modules on demand"
else fail "environment check exited $rc"; show; fi

# --- output intact ------------------------------------------------------------
# 6 MiB of random bytes, then a line with their SHA-256 computed in the guest.
size=$((6 * 1024 * 1024))
vm -- bash -c "head -c $size /dev/urandom > /tmp/blob
  cat /tmp/blob; printf '\nSUM %s\n' \"\$(sha256sum < /tmp/blob | cut -d' ' -f1)\""
want=$(tail -n 1 "$T/out" | sed -n 's/^SUM //p')
got=$(tail -n +2 "$T/out" | head -c "$size" | sha256sum | cut -d' ' -f1)
total=$(stat -c %s "$T/out")
if [ "$rc" -eq 0 ] && [ -n "$want" ] && [ "$want" = "$got" ]; then
  pass "6 MiB of binary output intact (sha256 matches, $total bytes in ${secs}s)"
else
  fail "output damaged: exit $rc, $total bytes, guest sha256 '$want', received '$got'"
  tail -n 5 "$T/err"
fi

# --- a crashing guest kernel ------------------------------------------------
vm --timeout 120 -- bash -c 'echo c > /proc/sysrq-trigger; sleep 60'
if [ "$rc" -eq 125 ] && grep -q "without reporting an exit status" "$T/err" && grep -q "Kernel panic" "$T/err"; then
  pass "a kernel crash is reported (exit 125) with the kernel log's tail, in ${secs}s"
else
  fail "kernel crash: exit $rc after ${secs}s"; show
fi

# --- a hang -------------------------------------------------------------------
vm --timeout 20 -- sleep 1000
qpid=$(sed -n 's/.*qemu (pid \([0-9]*\)) was killed.*/\1/p' "$T/err")
if [ "$rc" -eq 124 ] && grep -q "TIMEOUT: the guest (kernel .*) did not finish within 20s" "$T/err" \
   && grep -q "the guest's kernel log" "$T/err" && [ "$secs" -le 45 ]; then
  pass "a hang is detected after 20s (exit 124, ${secs}s in all) with the kernel log's tail"
else
  fail "hang: exit $rc after ${secs}s"; show
fi
if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then fail "qemu $qpid still runs after the timeout"; fi

if [ "$failures" -gt 0 ]; then echo "$failures runner check(s) failed"; exit 1; fi
echo "all runner checks passed"
