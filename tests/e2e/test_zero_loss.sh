#!/usr/bin/env bash
# Zero loss while the datapath changes. During a bounded stream of numbered
# UDP datagrams from one VM to another, each of:
#   - apply of the same state (must write nothing),
#   - apply of a change to other ports (a port removed, an address pair added),
#   - `neutrino apply` killed with SIGKILL half-way through a large change
#     (10,000 rules; 3,000 in the TCG guest), then apply again (must converge and re-adopt the pinned
#     maps and hooks),
#   - upgrade of the programs to another build (bpf_variant), and back;
# the receiver accounts for every sequence number: 0 missing, 0 duplicates
# (20,000 datagrams at 4,000/s; 6,000 at 600/s in the TCG guest).
# A TCP conversation whose replies pass only as established (conntrack) runs
# across the restart and the upgrades and must not stall. Runs in every TC
# mode the kernel has: tcx (what auto picks on 6.6+) and cls_bpf. Then: a
# datapath of another ABI version under the instance is refused, naming both
# versions, and an upgrade whose map layout differs is refused, naming the map.
source "$(dirname "$0")/lib.sh"

: "${NT_BPF_VARIANT_DIR:?set NT_BPF_VARIANT_DIR to the second build of the BPF objects (ctest does)}"
[ -f "$NT_BPF_VARIANT_DIR/tap.bpf.o" ] && [ -f "$NT_BPF_VARIANT_DIR/uplink.bpf.o" ] \
  || fail "no BPF objects in $NT_BPF_VARIANT_DIR: build the bpf_variant target"
COUNT=${NT_ZL_COUNT:-20000}
RATE=${NT_ZL_RATE:-4000}
RULES=${NT_ZL_RULES:-10000}   # of the large change that apply is killed in
KILL_STREAMS=2                # the kill's stream is 2 x COUNT: compiling 10,000 rules takes a while
if [ -n "${NT_VM_GUEST:-}" ]; then   # under TCG everything is ~10x slower
  COUNT=${NT_ZL_COUNT:-6000}; RATE=${NT_ZL_RATE:-600}; RULES=${NT_ZL_RULES:-3000}; KILL_STREAMS=4
fi
STREAM_SECS=$(( (COUNT + RATE - 1) / RATE ))
SERVER=10.1.0.10
ABI=$(sed -n 's/^#define NT_ABI_VERSION \([0-9]*\).*/\1/p' "$NT_SOURCE_DIR/include/neutrino/abi.h")

# --- states: base (+ a UDP rule for the stream), other ports changed, and a large change ---
python3 - "$NT_SOURCE_DIR/tests/fixtures/e2e-secgroups.json" "$NT_TMP" "$RULES" <<'PY'
import copy, json, sys
s = json.load(open(sys.argv[1]))
out, rules = sys.argv[2], int(sys.argv[3])
web = next(g for g in s["security_groups"] if g["name"] == "web")
web["security_group_rules"].append({
    "id": "web-udp", "direction": "ingress", "ethertype": "IPv4", "protocol": "udp",
    "port_range_min": 5001, "port_range_max": 5001, "remote_ip_prefix": "0.0.0.0/0", "remote_group_id": None})
json.dump(s, open(f"{out}/base.json", "w"))
# Other ports: nosec leaves (its hooks go, flood slots shift), vip1 gets an address pair.
o = copy.deepcopy(s)
o["ports"] = [p for p in o["ports"] if p["name"] != "nosec"]
next(p for p in o["ports"] if p["name"] == "vip1")["allowed_address_pairs"] = [{"ip_address": "10.1.0.101"}]
json.dump(o, open(f"{out}/other.json", "w"))
# Large: 10,000 rules (RULES) in a new group on vip2.
b = copy.deepcopy(o)
bulk = {"id": "e2e0000b-0000-4000-8000-00000000000b", "name": "bulk", "security_group_rules": []}
for i in range(rules):
    bulk["security_group_rules"].append({
        "id": f"bulk-{i}", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
        "port_range_min": 20000 + i % 5000, "port_range_max": 20000 + i % 5000,
        "remote_ip_prefix": f"10.{200 + i // 5000}.{(i // 250) % 20}.{i % 250}/32", "remote_group_id": None})
b["security_groups"].append(bulk)
next(p for p in b["ports"] if p["name"] == "vip2")["security_groups"].append(bulk["id"])
json.dump(b, open(f"{out}/big.json", "w"))
PY

jq_py() { python3 -c "import json,sys; r=json.load(sys.stdin); $1"; }
ntm() { "$NEUTRINO" --instance "$PFX" --netns "$PFX-host" --tc-mode "$MODE" "$@"; }
plan_size() { ntm diff "$1" -o json 2>/dev/null | jq_py 'print(r["writes"] + r["deletes"])'; }
wait_udp_listen() {  # ns port
  for _ in $(seq 1 100); do
    in_ns "$1" ss -lunH "sport = :$2" 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  fail "nothing listens on udp/$2 in $1"
}

# Runs "$@" one second into a stream client -> server:5001 and fails unless
# every datagram arrived exactly once, and the stream outlasted the command.
# STREAMS (default 1) makes the stream that many times COUNT long.
stream_during() {  # label command...
  local label=$1; shift
  local count=$((COUNT * ${STREAMS:-1}))
  local limit=$((STREAM_SECS * ${STREAMS:-1} + 30))
  in_ns server timeout $((limit + 5)) python3 "$HELPERS/udp_seq.py" recv 5001 "$count" "$limit" \
    >"$NT_TMP/recv.json" 2>&1 &
  local rpid=$!
  NT_PIDS+=("$rpid")
  wait_udp_listen server 5001
  in_ns client timeout $((limit + 5)) python3 "$HELPERS/udp_seq.py" send $SERVER 5001 "$count" "$RATE" &
  local spid=$!
  NT_PIDS+=("$spid")
  sleep 1
  "$@"
  kill -0 "$spid" 2>/dev/null || fail "$MODE: $label: the stream ended before the operation did (raise NT_ZL_COUNT)"
  wait "$spid" || fail "$MODE: $label: sender failed"
  wait "$rpid" || fail "$MODE: $label: receiver failed: $(cat "$NT_TMP/recv.json")"
  local r; r=$(cat "$NT_TMP/recv.json")
  jq_py 'sys.exit(0 if r["missing"] == 0 and r["duplicates"] == 0 and r["received"] == r["count"] else 1)' <<<"$r" \
    || fail "$MODE: $label: datagrams lost or duplicated: $r"
  pass "$MODE: $label during a stream of $count datagrams at $RATE/s: 0 missing, 0 duplicates ($r)"
}

op_reapply() {
  local out; out=$(ntm apply "$NT_TMP/base.json" -o json 2>/dev/null) || fail "$MODE: re-apply"
  jq_py 'assert r["writes"] == 0 and r["deletes"] == 0 and not r["attached"] and not r["detached"], r' <<<"$out" \
    || fail "$MODE: re-apply of the same state was not a no-op: $out"
}

op_other() {
  local out; out=$(ntm apply "$NT_TMP/other.json" -o json 2>/dev/null) || fail "$MODE: apply other.json"
  jq_py 'assert len(r["detached"]) == 2 and r["writes"] > 0 and r["deletes"] > 0, r' <<<"$out" \
    || fail "$MODE: change of other ports: $out"
}

# SIGKILL `neutrino apply big.json` while it writes: the kill comes as soon
# as the first map it writes (nt_rule_info: names go first) holds more
# entries than before, so the later maps (classifier, ports) are not written
# yet. Checked: something was written (the watcher saw it) and not all.
kill_apply_midway() {
  local pin="/sys/fs/bpf/neutrino/$PFX/abi$ABI/maps/nt_rule_info"
  python3 "$HELPERS/kill_when_writing.py" "$pin" 120 \
    "$NEUTRINO" --instance "$PFX" --netns "$PFX-host" --tc-mode "$MODE" apply "$NT_TMP/big.json" \
    || fail "$MODE: apply of big.json was not killed while writing"
  local to_big; to_big=$(plan_size "$NT_TMP/big.json")
  [ "$to_big" -gt 0 ] || fail "$MODE: the kill came after apply had written everything"
  KILLED_AT="$to_big writes/deletes were left"
}
# During the stream: the kill and the apply after it; checked after it.
op_kill_restart() {
  kill_apply_midway
  ntm apply "$NT_TMP/big.json" -o json >"$NT_TMP/restart.json" 2>/dev/null || fail "$MODE: apply after the kill"
}
check_restart() {
  [ "$(plan_size "$NT_TMP/big.json")" -eq 0 ] || fail "$MODE: apply after the kill did not converge"
  jq_py 'assert not r["attached"] and not r["detached"], r' <"$NT_TMP/restart.json" \
    || fail "$MODE: the restarted apply re-attached hooks instead of adopting them: $(cat "$NT_TMP/restart.json")"
  [ "$(instance_prog_ids)" = "$1" ] || fail "$MODE: programs changed across the restart"
}

op_upgrade() {  # [--objects DIR]
  local out; out=$(ntm upgrade "$@" -o json 2>/dev/null) || fail "$MODE: upgrade $*"
  local hooks; hooks=$(ntm status -o json | jq_py 'print(len(r["attachments"]))')
  jq_py "assert len(r['programs']) == 4 and len(r['updated']) == $hooks, r" <<<"$out" \
    || fail "$MODE: upgrade $* did not replace every program and hook ($hooks hooks): $out"
}

ct_flow() { ntm ct list --port client 2>/dev/null | grep -c "10.1.0.11:.* -> $SERVER:22" || true; }

run_mode() {
  MODE=$1
  "$NEUTRINO" --tc-mode "$MODE" demo up --state "$NT_TMP/base.json" --prefix "$PFX" >/dev/null 2>&1 \
    || fail "$MODE: sandbox up"
  local modes; modes=$(ntm status -o json | jq_py 'print(" ".join(sorted({a["mode"] for a in r["attachments"]})))')
  echo "# mode $MODE: hooks attached as $modes"
  bg_in_ns server 300 python3 "$HELPERS/tcp_echo.py" server 22
  wait_listen server 22
  in_ns client ping -c 1 -W 2 -q $SERVER >/dev/null || fail "$MODE: client -> server"
  in_ns server ping -c 1 -W 1 -q 10.1.0.11 >/dev/null 2>&1 \
    && fail "$MODE: server reaches client unsolicited: the TCP replies below would not need conntrack"

  stream_during "re-apply of the same state (writes nothing)" op_reapply
  stream_during "apply of a change to other ports" op_other

  # The TCP conversation spans the restart and both upgrades.
  local secs=$(( (KILL_STREAMS + 2) * (STREAM_SECS + 6) + 10 ))
  in_ns client timeout $((secs + 20)) python3 "$HELPERS/tcp_echo.py" client $SERVER 22 "$secs" >"$NT_TMP/echo.txt" &
  local tpid=$!
  NT_PIDS+=("$tpid")
  for _ in $(seq 1 50); do [ "$(ct_flow)" -ge 1 ] && break; sleep 0.2; done
  [ "$(ct_flow)" -ge 1 ] || fail "$MODE: no conntrack entry for the TCP conversation"

  local ids_before; ids_before=$(instance_prog_ids)
  STREAMS=$KILL_STREAMS stream_during "SIGKILL of apply half-way + apply again" op_kill_restart
  check_restart "$ids_before"
  pass "$MODE: apply killed while writing ($KILLED_AT), the next apply converged and adopted the maps and hooks"
  [ "$(ct_flow)" -ge 1 ] || fail "$MODE: the conntrack entry did not survive the restart"
  stream_during "upgrade to another build" op_upgrade --objects "$NT_BPF_VARIANT_DIR"
  stream_during "upgrade back to the built-in programs" op_upgrade
  [ "$(ct_flow)" -ge 1 ] || fail "$MODE: the conntrack entry did not survive the upgrades"
  local out; out=$(ntm upgrade -o json 2>/dev/null)
  jq_py 'assert not r["programs"] and not r["updated"], r' <<<"$out" || fail "$MODE: a second upgrade changed something: $out"

  wait "$tpid" || true
  python3 - "$NT_TMP/echo.txt" "$secs" <<'PY' || fail "$MODE: the TCP conversation stalled: $(tr '\n' ' ' <"$NT_TMP/echo.txt" | tail -c 300)"
import sys
t = [float(x) for x in open(sys.argv[1]).read().split()]
secs = float(sys.argv[2])
gaps = [b - a for a, b in zip(t, t[1:])]
assert t and t[0] < 1.5 and t[-1] > secs - 1.5, (t[:3], t[-3:])
assert max(gaps) < 1.0, max(gaps)
PY
  pass "$MODE: a TCP flow admitted by conntrack only kept going across restart and upgrades ($(wc -l <"$NT_TMP/echo.txt") echoes, entry kept)"
}

down() { "$NEUTRINO" demo down --state "$NT_TMP/base.json" --prefix "$PFX" >/dev/null 2>&1 || fail "sandbox down"; }

MODES="auto"
[ -z "${NT_VM_GUEST:-}" ] && MODES="auto cls"   # the 6.1 guest's auto is cls already
LAST=${MODES##* }
for m in $MODES; do
  run_mode "$m"
  [ "$m" = "$LAST" ] || down   # the last mode's sandbox stays for the refusals
done

# --- refusals (on the last mode's instance) ---------------------------------------
OLD=$(( ABI > 0 ? ABI - 1 : ABI + 1 ))
old_dir="/sys/fs/bpf/neutrino/$PFX/abi$OLD"
mkdir -p "$old_dir/maps"
bpftool map create "$old_dir/maps/nt_ports" type hash key 4 value 8 entries 1 name nt_ports
for cmd in "apply $NT_TMP/base.json" "upgrade"; do
  set +e; out=$(ntm $cmd 2>&1); rc=$?; set -e
  [ "$rc" -eq 1 ] || fail "$cmd with ABI $OLD pins present: exit $rc ($out)"
  grep -q "ABI version $OLD pinned under $old_dir" <<<"$out" && grep -q "uses ABI version $ABI" <<<"$out" \
    && grep -q "destroy" <<<"$out" || fail "$cmd: refusal does not name the versions and the way out: $out"
done
rm -rf "$old_dir"
pass "another ABI version's datapath is refused by apply and upgrade, naming ABI $OLD and $ABI"

pins="/sys/fs/bpf/neutrino/$PFX/abi$ABI/maps"
rm "$pins/nt_rule_info"
bpftool map create "$pins/nt_rule_info" type hash key 4 value 4 entries 1 name nt_rule_info
set +e; out=$(ntm upgrade --objects "$NT_BPF_VARIANT_DIR" 2>&1); rc=$?; set -e
[ "$rc" -eq 1 ] && grep -q "map nt_rule_info .*value size" <<<"$out" \
  || fail "upgrade onto a map of another layout: exit $rc: $out"
pass "an upgrade onto maps of another layout is refused, naming the map"
down
