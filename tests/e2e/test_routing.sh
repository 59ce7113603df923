#!/usr/bin/env bash
# Distributed routing on two hosts: router-1 joins net-a (VXLAN) and net-b
# (GRE), router-2 serves net-c alone. Every host routes for its own VMs: the
# gateway answers ARP and ping from BPF on each host, routed frames go to a
# local tap or over the tunnel to the destination's host, TTL and
# unreachable errors come back as ICMP, a static route leads through a VM,
# and the two routers' subnets stay apart.
source "$(dirname "$0")/lib.sh"

STATE="$NT_SOURCE_DIR/tests/fixtures/e2e-routing.json"
"$NEUTRINO" demo up --state "$STATE" --prefix "$PFX" >"$NT_TMP/up.txt" 2>&1 || { cat "$NT_TMP/up.txt"; fail "sandbox up"; }
h1() { "$NEUTRINO" --instance "$PFX-compute-1" --netns "$PFX-compute-1" "$@"; }
pings() { in_ns "$1" ping -c 2 -W 2 -q "$2" >/dev/null 2>&1; }
drops() { h1 stats -o json | python3 -c "
import json,sys
print(sum(r['packets'] for r in json.load(sys.stdin) if r['reason'] == '$1'))"; }

# The VMs' default routes point at their subnet's gateway (the router port).
for vm in a1:10.1.0.1 b1:10.2.0.1 b2:10.2.0.1 c1:10.3.0.1 a2:10.1.0.1; do
  in_ns "${vm%%:*}" ip route replace default via "${vm##*:}"
done

# --- the gateway is answered on every host -------------------------------------
pings a1 10.1.0.1 || fail "a1 (compute-1) cannot ping its gateway"
pings a2 10.1.0.1 || fail "a2 (compute-2) cannot ping its gateway"
[ "$(in_ns a1 ip neigh show 10.1.0.1 | awk '{print $5}')" = "fa:16:3e:aa:00:01" ] || fail "gateway ARP: wrong MAC"
pings a1 10.2.0.1 || fail "the router's address on the other subnet does not answer"
pass "gateway ARP and ICMP echo answered in BPF on both hosts"

# --- routed between networks -----------------------------------------------------
pings a1 10.2.0.12 || fail "a1 -> b1: routed on one host"
pings a1 10.2.0.13 || fail "a1 -> b2: routed, then GRE to compute-2"
pings b2 10.1.0.11 || fail "b2 -> a1: routed on compute-2, then VXLAN back"
pings a2 10.2.0.12 || fail "a2 -> b1: routed on compute-2"
ttl=$(in_ns a1 ping -c 1 -W 2 10.2.0.13 | sed -n 's/.*ttl=\([0-9]*\).*/\1/p')
[ "$ttl" = 63 ] || fail "routed reply TTL $ttl, expected 63 (one router hop)"
pass "subnets on two networks behind one router reach each other, one hop, across hosts"

in_ns b2 timeout 20 iperf3 -s -1 -B 10.2.0.13 >/dev/null 2>&1 &
NT_PIDS+=($!)
sleep 0.5
bps=$(in_ns a1 timeout 20 iperf3 -c 10.2.0.13 -t 2 -J 2>/dev/null | python3 -c '
import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))' || echo 0)
[ "$bps" -gt 10000000 ] || fail "iperf3 a1 -> b2 routed: $bps bit/s"
pass "TCP routed across hosts with TSO: $((bps / 1000000)) Mbit/s"

# --- ICMP errors from the router ----------------------------------------------------
before=$(drops ttl-exceeded)
out=$(in_ns a1 ping -c 1 -W 2 -t 1 10.2.0.13 2>&1 || true)
grep -q 'From 10.1.0.1 .*Time to live exceeded' <<<"$out" || fail "TTL 1: no time-exceeded from the gateway: $out"
[ "$(drops ttl-exceeded)" -gt "$before" ] || fail "ttl-exceeded not counted"
out=$(in_ns a1 ping -c 1 -W 2 10.77.0.1 2>&1 || true)
grep -q 'From 10.1.0.1 .*Destination Net Unreachable' <<<"$out" || fail "no route: no net-unreachable: $out"
pass "TTL exceeded and net unreachable come back as ICMP from the gateway, counted"

# A VM whose MTU is above the egress network's gets "fragmentation needed"
# from the router (net-b 1458 -> net-a 1450).
in_ns b1 ip link set eth0 mtu 1458
out=$(in_ns b1 ping -c 1 -W 2 -M do -s 1430 10.1.0.11 2>&1 || true)
grep -q 'From 10.2.0.1 .*Frag needed and DF set (mtu = 1450)' <<<"$out" || fail "routed, too big: $out"
pass "routed into a smaller MTU: ICMP frag-needed from the router"

# --- a static route through a VM ------------------------------------------------------
in_ns b2 ip addr add 10.9.0.1/32 dev lo
pings a1 10.9.0.1 || fail "10.9.0.0/24 via 10.2.0.13 (router-1's static route)"
pass "router routes: 10.9.0.0/24 via a VM on net-b"

# --- isolation between routers -----------------------------------------------------------
! pings a1 10.3.0.14 || fail "router-1's subnet reaches router-2's"
! pings c1 10.1.0.11 || fail "router-2's subnet reaches router-1's"
pass "subnets of different routers do not reach each other"

# --- inspection -------------------------------------------------------------------------
h1 router list | grep -q router-1 || fail "router list lacks router-1"
h1 route list | grep -q '10.9.0.0/24' || fail "route list lacks the static route"
h1 route list -o json | python3 -c '
import json,sys
rows = json.load(sys.stdin)
assert any(r["destination"] == "10.2.0.0/24" and r["type"] == "connected" for r in rows), rows' || fail "route list -o json"
pass "router list / route list"
