#!/usr/bin/env bash
# Kernel feature fallback, checked for real on whatever kernel this runs on
# (CTest: e2e.tc_mode_auto, so it runs on the host kernel and again inside
# every vm-tests guest): with the default --tc-mode auto the loader attaches
# with tcx links where the kernel has them (6.6+) and falls back to clsact +
# cls_bpf where it does not (6.1); forwarding works either way; forcing tcx
# on a kernel without it fails rather than pretending.
source "${NT_SOURCE_DIR:?set NT_SOURCE_DIR (ctest does)}/tests/e2e/lib.sh"

rel=$(uname -r)
IFS=.- read -r maj min _ <<<"$rel"
if (( maj > 6 || (maj == 6 && min >= 6) )); then expect=tcx; else expect=cls_bpf; fi
echo "kernel $rel: expecting $expect attachments from --tc-mode auto"

"$NEUTRINO" -v demo up --prefix "$PFX" >"$NT_TMP/up.txt" 2>&1 || { cat "$NT_TMP/up.txt"; fail "demo up"; }
grep -i 'tcx' "$NT_TMP/up.txt" | head -n 2 || true
status=$(nt status -o json)
modes=$(python3 -c 'import json,sys; print(" ".join(sorted({a["mode"] for a in json.load(sys.stdin)["attachments"]})))' <<<"$status")
count=$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["attachments"]))' <<<"$status")
[ "$count" -gt 0 ] || fail "no attachments after demo up: $status"
[ "$modes" = "$expect" ] || fail "kernel $rel: attachments are '$modes', expected '$expect'"
progs=$(instance_prog_ids)
tap=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["attachments"][0]["interface"])' <<<"$status")
if [ "$expect" = tcx ]; then
  [ "$(links_of_progs $progs)" -eq "$count" ] || fail "$count tcx attachments but $(links_of_progs $progs) BPF links"
else
  [ "$(links_of_progs $progs)" -eq 0 ] || fail "cls_bpf attachments but $(links_of_progs $progs) BPF links"
  ip netns exec "$PFX-host" tc qdisc show dev "$tap" | grep -q clsact || fail "no clsact qdisc on $tap"
  ip netns exec "$PFX-host" tc filter show dev "$tap" ingress | grep -q 'bpf' || fail "no cls_bpf filter on $tap"
fi
pass "--tc-mode auto attached $count hooks as $expect on $rel"

in_ns red-vm1 ping -c 2 -W 5 -q 10.0.0.12 >/dev/null || fail "red-vm1 -> red-vm2 over $expect"
in_ns blue-vm1 ping -c 1 -W 2 -q 10.0.0.13 >/dev/null 2>&1 && fail "blue-vm1 reached red's 10.0.0.13 over $expect"
pass "forwarding and isolation over $expect"

"$NEUTRINO" demo down --prefix "$PFX" >/dev/null || fail "demo down"
if [ "$expect" = cls_bpf ]; then
  set +e; out=$("$NEUTRINO" --tc-mode tcx demo up --prefix "$PFX" 2>&1); rc=$?; set -e
  "$NEUTRINO" demo down --prefix "$PFX" >/dev/null 2>&1 || true
  [ "$rc" -ne 0 ] || fail "--tc-mode tcx succeeded on $rel, which has no tcx links"
  echo "$out" | grep -i 'tcx' | head -n 1
  pass "--tc-mode tcx fails on $rel (exit $rc) instead of pretending"
fi
