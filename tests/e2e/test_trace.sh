#!/usr/bin/env bash
# `neutrino trace` against what really happens: the routing sandbox of
# test_routing.sh (two hosts, VXLAN/GRE, router-1 with SNAT and a floating IP
# for a1, the outside on the flat "public" network), its security group
# narrowed to ingress tcp/22 and ICMP. For each case the trace's verdict is
# checked, then the same packet is really sent and must do what the trace
# said. Finally: tracing changes no live state (conntrack, NAT, counters).
source "$(dirname "$0")/lib.sh"

python3 - "$NT_SOURCE_DIR/tests/fixtures/e2e-routing.json" >"$NT_TMP/state.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
sg = d["security_groups"][0]
rule = lambda i, proto, lo, hi: {"id": i, "direction": "ingress", "ethertype": "IPv4", "protocol": proto,
    "port_range_min": lo, "port_range_max": hi, "remote_ip_prefix": "0.0.0.0/0", "remote_group_id": None}
sg["security_group_rules"] = [r for r in sg["security_group_rules"] if r["direction"] == "egress"] + [
    rule("rt-ssh", "tcp", 22, 22), rule("rt-icmp", "icmp", None, None)]
print(json.dumps(d))
PY
"$NEUTRINO" demo up --state "$NT_TMP/state.json" --prefix "$PFX" >"$NT_TMP/up.txt" 2>&1 || { cat "$NT_TMP/up.txt"; fail "sandbox up"; }
h1() { "$NEUTRINO" --instance "$PFX-compute-1" --netns "$PFX-compute-1" "$@"; }
h2() { "$NEUTRINO" --instance "$PFX-compute-2" --netns "$PFX-compute-2" "$@"; }
drops() { h1 stats -o json | python3 -c "
import json,sys
print(sum(r['packets'] for r in json.load(sys.stdin) if r['reason'] == '$1'))"; }
# A TCP server in a VM that answers with the peer's address:port (lib.sh).
serve() { peer_server "$1" "$2" "$3"; }  # vm addr port
# Connects from a VM (optionally from a fixed source port); prints what the server saw.
connect() {  # vm addr port [sport]
  in_ns "$1" timeout 5 python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.settimeout(3)
if len(sys.argv) > 3: s.bind(("", int(sys.argv[3])))
s.connect((sys.argv[1], int(sys.argv[2]))); print(s.recv(64).decode().strip())' "$2" "$3" ${4:+"$4"}
}
# Checks a trace's JSON: python assertions over `t` (the whole result), `st` (its stages).
check() {  # json assertions...
  local j=$1; shift
  python3 -c '
import json, os, sys
t = json.loads(sys.argv[1]); st = t["stages"]
for a in sys.argv[2:]:
    assert eval(a), "%s\n%s" % (a, json.dumps(t, indent=1))' "$j" "$@"
}

for vm in a1:10.1.0.1 b1:10.2.0.1 b2:10.2.0.1 a2:10.1.0.1; do
  in_ns "${vm%%:*}" ip route replace default via "${vm##*:}"
done

# --- an allowed flow, routed on one host ------------------------------------------
t=$(h1 -o json trace --from-port a1 --dst 10.2.0.12 --proto tcp --dport 22) || fail "trace a1 -> b1:22"
check "$t" 't["outcome"] == "delivered"' 'len(st) == 2' \
  'st[0]["program"] == "tap_ingress" and st[0]["port"] == "a1" and st[0]["verdict"] == "redirect"' \
  'st[0]["policy"] == "new" and st[0]["rule"]["id"] == "rt-egress" and st[0]["rule"]["group"] == "open"' \
  'any("routed by router router-1" in n for n in st[0]["notes"])' \
  '[l for l in st[0]["out"] if l["proto"] == "ipv4"][0]["ttl"] == "63"' \
  'st[1]["program"] == "tap_egress" and st[1]["port"] == "b1" and st[1]["verdict"] == "deliver"' \
  'st[1]["rule"]["id"] == "rt-ssh"' || fail "trace of an allowed flow"
h1 trace --from-port a1 --dst 10.2.0.12 --proto tcp --dport 22 | grep -q "^result: delivered: delivered to port b1" \
  || fail "text output: $(h1 trace --from-port a1 --dst 10.2.0.12 --proto tcp --dport 22)"
serve b1 10.2.0.12 22
seen=$(connect a1 10.2.0.12 22) || fail "a1 -> b1:22 really fails, the trace said delivered"
[ "${seen%%:*}" = 10.1.0.11 ] || fail "b1 saw $seen"
pass "allowed: trace says a1 -> router-1 -> b1, admitted by rt-egress then rt-ssh; real TCP connects"

# --- denied by a security group -------------------------------------------------------
t=$(h1 -o json trace --from-port a1 --dst 10.2.0.12 --proto tcp --dport 23) || fail "trace a1 -> b1:23"
check "$t" 't["outcome"] == "dropped"' 'len(st) == 2' 'st[0]["rule"]["id"] == "rt-egress"' \
  'st[1]["program"] == "tap_egress" and st[1]["port"] == "b1"' \
  'st[1]["verdict"] == "drop" and st[1]["reason"] == "sg-no-match" and st[1]["rule"] is None' \
  '"no security-group rule of port b1 allows it" in t["summary"]' || fail "trace of a denied flow"
serve b1 10.2.0.12 23
before=$(drops sg-no-match)
! connect a1 10.2.0.12 23 >/dev/null 2>&1 || fail "a1 -> b1:23 really connects, the trace said sg-no-match"
[ "$(drops sg-no-match)" -gt "$before" ] || fail "the real tcp/23 SYN was not counted as sg-no-match"
pass "denied: trace says sg-no-match at b1's tap egress (no rule allows it); the real SYN is dropped and counted so"

# --- a cross-host tunnel ------------------------------------------------------------
t=$(h1 -o json trace --from-port a1 --dst 10.1.0.15 --proto tcp --dport 22) || fail "trace a1 -> a2"
check "$t" 't["outcome"] == "leaves"' 'len(st) == 1' '"to VTEP 192.0.2.12" in t["summary"]' \
  '"VXLAN VNI 3001" in t["summary"]' \
  '[l for l in st[0]["out"] if l["proto"] == "ipv4"][0]["dst"] == "192.0.2.12"' \
  '[l for l in st[0]["out"] if l["proto"] == "vxlan"][0]["vni"] == "3001"' || fail "trace to another host"
t=$(h1 -o json trace --from-port a1 --dst 10.1.0.15 --proto tcp --dport 22 --peer-instance "$PFX-compute-2") \
  || fail "trace a1 -> a2 into compute-2"
check "$t" 't["outcome"] == "delivered"' 'len(st) == 3' \
  'st[1]["host"].endswith("compute-2") and st[1]["program"] == "uplink_ingress" and st[1]["verdict"] == "redirect"' \
  'any(n.startswith("decapsulated: VXLAN VNI 3001") for n in st[1]["notes"])' \
  'st[2]["host"].endswith("compute-2") and st[2]["port"] == "a2" and st[2]["verdict"] == "deliver"' \
  'st[2]["rule"]["id"] == "rt-ssh"' || fail "trace followed into compute-2"
# Routed, then GRE to compute-2: one stage rewrites, routes and encapsulates.
t=$(h1 -o json trace --from-port a1 --dst 10.2.0.13 --proto icmp --peer-instance "$PFX-compute-2") || fail "trace a1 -> b2"
check "$t" 't["outcome"] == "delivered"' 'st[-1]["port"] == "b2"' 'st[-1]["rule"]["id"] == "rt-icmp"' \
  '[l for l in st[0]["out"] if l["proto"] == "gre"][0]["key"] == "3002"' || fail "trace a1 -> b2 (routed + GRE)"
serve a2 10.1.0.15 22
seen=$(connect a1 10.1.0.15 22) || fail "a1 -> a2:22 over VXLAN really fails"
[ "${seen%%:*}" = 10.1.0.11 ] || fail "a2 saw $seen"
in_ns a1 ping -c 1 -W 2 -q 10.2.0.13 >/dev/null || fail "a1 -> b2 (routed, GRE) really fails"
pass "tunnel: trace leaves to VTEP 192.0.2.12 (VXLAN 3001), with --peer-instance continues to a2's tap on compute-2; real TCP and ping pass"

# --- NAT: floating IP out and in, SNAT ---------------------------------------------------
routing_outside_up
in_ns ext sysctl -qw net.ipv6.conf.all.disable_ipv6=1  # no router solicitations etc. while state is compared
serve ext 198.51.100.7 7007
# Before the router knows the upstream's MAC, a trace says so (no-neighbour);
# the first real packet becomes the ARP request that teaches it.
t=$(h1 -o json trace --from-port a1 --dst 198.51.100.7 --proto tcp --dport 7007)
check "$t" 't["outcome"] in ("dropped", "leaves")' || fail "trace before the upstream is known"
for _ in 1 2 3; do in_ns a1 ping -c 1 -W 1 -q 198.51.100.7 >/dev/null 2>&1 && break; done

t=$(h1 -o json trace --from-port a1 --dst 198.51.100.7 --proto tcp --dport 7007) || fail "trace a1 -> outside"
check "$t" 't["outcome"] == "leaves"' '"via uplink eth2 (network public)" in t["summary"]' \
  'any(n == "source NAT 10.1.0.11 -> 172.31.208.110 (floating IP)" for n in st[0]["notes"])' \
  '[l for l in st[0]["out"] if l["proto"] == "ipv4"][0]["src"] == "172.31.208.110"' \
  '[l for l in st[0]["out"] if l["proto"] == "ipv4"][0]["csum"] == "ok"' \
  '[l for l in st[0]["out"] if l["proto"] == "tcp"][0]["csum"] == "ok"' || fail "trace of a floating-IP flow"
seen=$(connect a1 198.51.100.7 7007) || fail "a1 -> outside really fails"
[ "${seen%%:*}" = 172.31.208.110 ] || fail "the outside saw a1 as $seen, the trace said 172.31.208.110"

t=$(h1 -o json trace --from-uplink eth2 --src 172.31.208.1 --dst 172.31.208.110 --proto tcp --dport 22) \
  || fail "trace outside -> floating IP"
check "$t" 't["outcome"] == "delivered"' 'len(st) == 2' 'st[0]["program"] == "uplink_ingress"' \
  'any(n == "destination NAT 172.31.208.110 -> 10.1.0.11 (floating IP)" for n in st[0]["notes"])' \
  'st[1]["port"] == "a1" and st[1]["rule"]["id"] == "rt-ssh"' || fail "trace inbound through the floating IP"
t=$(h1 -o json trace --from-uplink eth2 --src 172.31.208.1 --dst 172.31.208.110 --proto tcp --dport 23)
check "$t" 't["outcome"] == "dropped"' 'st[-1]["reason"] == "sg-no-match"' || fail "trace inbound to a closed port"
serve a1 10.1.0.11 22
seen=$(in_ns ext timeout 5 python3 -c '
import socket; s = socket.create_connection(("172.31.208.110", 22), timeout=3); print(s.recv(64).decode())') \
  || fail "outside -> floating IP:22 really fails"
[ "${seen%%:*}" = 172.31.208.1 ] || fail "a1 saw $seen"

# SNAT: a new flow has no binding and a trace makes none; once a real flow
# made one, the trace of that flow shows the translation the server saw.
t=$(h1 -o json trace --from-port b1 --dst 198.51.100.7 --proto tcp --dport 7007 --sport 45001) || fail "trace b1 -> outside"
check "$t" 't["outcome"] == "leaves"' 'any(n.startswith("SNAT: no binding for this flow yet") for n in st[0]["notes"])' \
  || fail "trace of a new SNAT flow"
seen=$(connect b1 198.51.100.7 7007 45001) || fail "b1 -> outside (SNAT) really fails"
t=$(h1 -o json trace --from-port b1 --dst 198.51.100.7 --proto tcp --dport 7007 --sport 45001 --tcp-flags A) \
  || fail "trace b1 -> outside with its binding"
SEEN=$seen check "$t" 't["outcome"] == "leaves"' \
  'any(n == "source NAT 10.2.0.12 -> 172.31.208.102 (SNAT binding)" for n in st[0]["notes"])' \
  '"%s:%s" % ([l for l in st[0]["out"] if l["proto"] == "ipv4"][0]["src"], [l for l in st[0]["out"] if l["proto"] == "tcp"][0]["sport"]) == os.environ["SEEN"]' \
  || fail "trace of the SNAT flow does not show what the server saw ($seen)"
pass "NAT: floating IP out (source 172.31.208.110) and in (to a1, rt-ssh), SNAT as the server saw it ($seen); the real flows agree"

# b2 on compute-2: its SNAT flow goes, as sent, over GRE to compute-1 (the
# router's SNAT host), which routes it out of its uplink; the real flow
# leaves with the router's address.
t=$(h2 -o json trace --from-port b2 --dst 198.51.100.7 --proto tcp --dport 7007 --peer-instance "$PFX-compute-1") \
  || fail "trace b2 -> outside"
check "$t" 't["outcome"] == "leaves"' 'len(st) == 2' \
  'any(n.startswith("SNAT: translated on the router'"'"'s SNAT host 192.0.2.11") for n in st[0]["notes"])' \
  '[l for l in st[0]["out"] if l["proto"] == "ipv4"][0]["dst"] == "192.0.2.11"' \
  'st[1]["host"].endswith("compute-1") and st[1]["program"] == "uplink_ingress"' \
  '"via uplink eth2 (network public)" in t["summary"]' || fail "trace of compute-2's SNAT flow through compute-1"
seen=$(connect b2 198.51.100.7 7007) || fail "b2 -> outside (through the SNAT host) really fails"
[ "${seen%%:*}" = 172.31.208.102 ] || fail "the outside saw b2 as $seen"
pass "SNAT from compute-2: the trace follows the frame to compute-1, the SNAT host, and out of its uplink; the server saw $seen"

# --- tracing changes no live state -----------------------------------------------------
# Raw dumps of every map the datapath writes, both hosts, before and after a
# group of traces. Noise is kept out: conntrack holds only TCP flows (no
# 30-second ICMP entry for the GC to expire mid-check; a fresh flow b1:45003
# has a conntrack entry and a SNAT binding for the traces to leave alone),
# and a group is retried when an idle VM or the outside sent a stray packet
# between two dumps (slow guests); a trace that wrote anything would differ
# every time.
h1 ct flush >/dev/null
h2 ct flush >/dev/null
seen=$(connect b1 198.51.100.7 7007 45003) || fail "b1 -> outside from port 45003"
sleep 2  # the connection's FINs
h1 ct list | grep -q ":45003" || fail "no tracked flow b1:45003: $(h1 ct list)"
h1 nat list | grep -q "10.2.0.12:45003" || fail "no SNAT binding b1:45003: $(h1 nat list)"
snapshot() {
  local inst m
  for inst in "$PFX-compute-1" "$PFX-compute-2"; do
    for m in nt_ct nt_nat nt_frags nt_ext_neigh nt_drop_stats nt_port_stats nt_rule_stats nt_uplink_stats; do
      echo "== $inst $m"
      bpftool -j map dump pinned /sys/fs/bpf/neutrino/"$inst"/abi*/maps/"$m"
      echo
    done
  done
}
traces_l3() {
  h1 trace --from-port a1 --dst 10.2.0.12 --proto tcp --dport 22
  h1 trace --from-port a1 --dst 10.2.0.12 --proto tcp --dport 23
  h1 trace --from-port a1 --dst 10.1.0.1 --proto icmp
  h1 trace --from-port a1 --dst 10.2.0.12 --proto icmp --ttl 1
}
traces_remote() {
  h1 trace --from-port a1 --dst 10.1.0.15 --proto udp --dport 53 --peer-instance "$PFX-compute-2"
  h1 trace --from-port a1 --dst 10.2.0.13 --proto tcp --dport 22 --peer-instance "$PFX-compute-2"
}
traces_nat() {
  h1 trace --from-port b1 --dst 198.51.100.7 --proto tcp --dport 7007 --sport 45002
  h1 trace --from-port b1 --dst 198.51.100.7 --proto tcp --dport 7007 --sport 45003 --tcp-flags A
  h1 trace --from-port a1 --dst 198.51.100.7 --proto icmp
}
traces_uplink() {
  h1 trace --from-uplink eth2 --src 172.31.208.1 --dst 172.31.208.110 --proto tcp --dport 22
  h1 trace --from-uplink eth2 --src 198.51.100.7 --dst 172.31.208.102 --proto tcp --dport "${seen##*:}" --sport 7007 --tcp-flags A
  h1 trace --from-uplink vtep0 --outer-src 192.0.2.99 --network net-a --src 10.1.0.15 --dst 10.1.0.11 --proto icmp
}
leaves_state_alone() {  # traces function
  local try
  for try in 1 2 3 4 5; do
    snapshot >"$NT_TMP/before.txt"
    "$1" >"$NT_TMP/$1.txt" 2>&1 || { cat "$NT_TMP/$1.txt"; fail "a trace of $1 failed"; }
    snapshot >"$NT_TMP/after.txt"
    cmp -s "$NT_TMP/before.txt" "$NT_TMP/after.txt" && return 0
    echo "  $1: state changed during attempt $try (retrying):"
    diff "$NT_TMP/before.txt" "$NT_TMP/after.txt" | cut -c1-300 | head -6 || true
    sleep 1
  done
  fail "tracing ($1) changed live state (conntrack, NAT or counters)"
}
for group in traces_l3 traces_remote traces_nat traces_uplink; do leaves_state_alone "$group"; done
grep -q "source NAT 10.2.0.12 -> 172.31.208.102 (SNAT binding)" "$NT_TMP/traces_nat.txt" || fail "the tracked SNAT flow: $(cat "$NT_TMP/traces_nat.txt")"
grep -q "destination NAT 172.31.208.102 -> 10.2.0.12 (SNAT binding)" "$NT_TMP/traces_uplink.txt" || fail "its reply: $(cat "$NT_TMP/traces_uplink.txt")"
grep -q "dropped by uplink_ingress of vtep0 .*unknown-vtep" "$NT_TMP/traces_uplink.txt" || fail "tunnel from an unknown host: $(cat "$NT_TMP/traces_uplink.txt")"
grep -q "answered by tap_ingress .* back out of tapa1000001-0e as an ICMP error (ttl-exceeded)" "$NT_TMP/traces_l3.txt" \
  || fail "TTL 1: $(cat "$NT_TMP/traces_l3.txt")"
pass "12 traces (new and tracked flows, SNAT both ways, floating IP, tunnel drop, ICMP) leave conntrack, NAT and every counter byte-identical"

"$NEUTRINO" demo down --state "$NT_TMP/state.json" --prefix "$PFX" >/dev/null || fail "sandbox down"
pass "sandbox removed"
