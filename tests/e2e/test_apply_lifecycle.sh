#!/usr/bin/env bash
# apply/diff/destroy against taps made the way Nova makes them (outside
# Neutrino): invalid input touches nothing, missing taps are pending, ports
# come and go, both TC attach modes, and only Neutrino's own hooks are removed.
source "$(dirname "$0")/lib.sh"

STATE="$NT_TMP/state.json"
cp "$NT_SOURCE_DIR/examples/demo.json" "$STATE"
tap_of() { echo "tap${1:0:11}"; }
RED1=a1000001-0000-4000-8000-00000000a011
RED2=a1000002-0000-4000-8000-00000000a012
RED3=a1000003-0000-4000-8000-00000000a013

# --- invalid input: rejected whole, named precisely, nothing created --------
python3 - "$STATE" "$NT_TMP/bad.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["ports"][1]["fixed_ips"][0]["ip_address"] = "10.9.9.9"
s["networks"][0]["provider:network_type"] = "vlan"
s["networks"][0]["provider:segmentation_id"] = 5000
json.dump(s, open(sys.argv[2], "w"))
PY
set +e; out=$("$NEUTRINO" --instance "$PFX" apply "$NT_TMP/bad.json" 2>&1); rc=$?; set -e
[ "$rc" -eq 2 ] || fail "invalid state: exit $rc, expected 2 ($out)"
echo "$out" | grep -q "port $RED2" || fail "message does not name the port: $out"
echo "$out" | grep -q '\$.ports\[1\].fixed_ips\[0\].ip_address' || fail "message lacks the JSON path: $out"
echo "$out" | grep -q '\$.networks\[0\]' || fail "second problem not reported: $out"
[ ! -e "/sys/fs/bpf/neutrino/$PFX" ] || fail "invalid apply created pins"
pass "invalid state rejected whole with resource and path, nothing pinned"

# --- a host namespace with two of the three red taps -------------------------
ip netns add "$PFX-host"
ip -n "$PFX-host" link set lo up
mkvm() {  # name mac ip tap
  ip netns add "$PFX-$1"
  ip -n "$PFX-host" link add "$4" type veth peer name eth0 netns "$PFX-$1"
  ip -n "$PFX-$1" link set eth0 address "$2"
  ip -n "$PFX-$1" addr add "$3/24" dev eth0
  ip -n "$PFX-$1" link set eth0 up
  ip -n "$PFX-$1" link set lo up
  ip -n "$PFX-host" link set "$4" up
}
mkvm red-vm1 fa:16:3e:00:a0:11 10.0.0.11 "$(tap_of $RED1)"
mkvm red-vm2 fa:16:3e:00:a0:12 10.0.0.12 "$(tap_of $RED2)"

out=$(nt diff "$STATE" -o json)
[ ! -e "/sys/fs/bpf/neutrino/$PFX" ] || fail "diff created pins"
echo "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["dry_run"] and r["writes"]>0 and len(r["pending"])==4, r' \
  || fail "diff on a fresh instance: $out"
pass "diff shows the plan and changes nothing"

out=$(nt apply "$STATE" -o json 2>/dev/null)
echo "$out" | python3 -c '
import json,sys; r=json.load(sys.stdin)
assert len(r["ports"])==2 and len(r["pending"])==4 and len(r["attached"])==4, r' || fail "first apply: $out"
in_ns red-vm1 ping -c 1 -W 2 -q 10.0.0.12 >/dev/null || fail "red-vm1 -> red-vm2 after apply"
pass "apply wires the taps that exist, reports the rest as pending"

# --- the third tap appears: apply wires it -----------------------------------
mkvm red-vm3 fa:16:3e:00:a0:13 10.0.0.13 "$(tap_of $RED3)"
in_ns red-vm1 ping -c 1 -W 1 -q 10.0.0.13 >/dev/null 2>&1 && fail "red-vm3 reachable before apply"
out=$(nt apply "$STATE" -o json 2>/dev/null)
echo "$out" | python3 -c '
import json,sys; r=json.load(sys.stdin); assert len(r["attached"])==2 and r["deletes"]==0, r' || fail "second apply: $out"
in_ns red-vm1 ping -c 1 -W 2 -q 10.0.0.13 >/dev/null || fail "red-vm1 -> red-vm3"
pass "a new tap is wired by the next apply"

# --- a port leaves the state: its hooks and entries go -----------------------
python3 - "$STATE" "$NT_TMP/less.json" "$RED2" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["ports"] = [p for p in s["ports"] if p["id"] != sys.argv[3]]
json.dump(s, open(sys.argv[2], "w"))
PY
progs=$(instance_prog_ids)
taps="$(tap_of $RED1) $(tap_of $RED2) $(tap_of $RED3)"
[ "$(attached_hooks $progs -- $taps)" -eq 6 ] || fail "expected 6 hooks before removal, got $(attached_hooks $progs -- $taps)"
out=$(nt apply "$NT_TMP/less.json" -o json 2>/dev/null)
echo "$out" | python3 -c '
import json,sys; r=json.load(sys.stdin); assert len(r["detached"])==2 and r["deletes"]>=4, r' || fail "removal: $out"
[ "$(attached_hooks $progs -- $taps)" -eq 4 ] || fail "hooks of the removed tap remain: $(attached_hooks $progs -- $taps)"
in_ns red-vm1 ping -c 1 -W 1 -q 10.0.0.12 >/dev/null 2>&1 && fail "removed port still reachable"
in_ns red-vm1 ping -c 1 -W 2 -q 10.0.0.13 >/dev/null || fail "remaining port lost connectivity"
pass "removing a port detaches its tap and deletes its entries"

out=$(nt apply "$NT_TMP/less.json" -o json 2>/dev/null)
echo "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["writes"]==0 and r["deletes"]==0, r' \
  || fail "re-apply not a no-op: $out"
nt destroy >/dev/null
[ ! -e "/sys/fs/bpf/neutrino/$PFX" ] || fail "destroy left pins"
[ "$(attached_hooks $progs -- $taps)" -eq 0 ] || fail "destroy left $(attached_hooks $progs -- $taps) hooks"
tap1=$(tap_of $RED1)
pass "destroy removes links and pins"

# --- cls_bpf fallback (what kernels before 6.6 get) ----------------------------
"$NEUTRINO" --instance "$PFX" --netns "$PFX-host" --tc-mode cls apply "$NT_TMP/less.json" >/dev/null 2>&1 \
  || fail "apply --tc-mode cls"
nt status -o json | python3 -c '
import json,sys; r=json.load(sys.stdin); assert r["attachments"] and all(a["mode"]=="cls_bpf" for a in r["attachments"]), r' \
  || fail "attachments are not cls_bpf"
ip netns exec "$PFX-host" tc filter show dev "$tap1" ingress | grep -q tap_ingress || fail "no cls_bpf filter on $tap1"
in_ns red-vm1 ping -c 1 -W 2 -q 10.0.0.13 >/dev/null || fail "ping over cls_bpf"
pass "cls_bpf mode forwards"

# A clsact that someone else made stays; the one Neutrino made goes.
tap3=$(tap_of $RED3)
nt destroy >/dev/null
ip netns exec "$PFX-host" tc qdisc show dev "$tap1" | grep -q clsact && fail "destroy left Neutrino's clsact on $tap1"
ip netns exec "$PFX-host" tc qdisc add dev "$tap3" clsact
"$NEUTRINO" --instance "$PFX" --netns "$PFX-host" --tc-mode cls apply "$NT_TMP/less.json" >/dev/null 2>&1
nt destroy >/dev/null
ip netns exec "$PFX-host" tc qdisc show dev "$tap3" | grep -q clsact || fail "destroy removed a clsact it did not create"
ip netns exec "$PFX-host" tc filter show dev "$tap3" ingress | grep -q tap_ingress && fail "filter left on $tap3"
pass "destroy removes only the clsact Neutrino created"
