#!/usr/bin/env bash
# Distributed routing on two hosts: router-1 joins net-a (VXLAN) and net-b
# (GRE) and has an external gateway on the flat network "public" (SNAT, and
# a floating IP for a1), router-2 serves net-c alone. Every host routes for its own VMs: the
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

bps=$(iperf_bps a1 b2 10.2.0.13)
[ "$bps" -gt 10000000 ] || fail "iperf3 a1 -> b2 routed: $bps bit/s"
pass "TCP routed across hosts with TSO: $((bps / 1000000)) Mbit/s"

# --- ICMP errors from the router ----------------------------------------------------
before=$(drops ttl-exceeded)
out=$(in_ns a1 ping -c 1 -W 2 -t 1 10.2.0.13 2>&1 || true)
grep -q 'From 10.1.0.1 .*Time to live exceeded' <<<"$out" || fail "TTL 1: no time-exceeded from the gateway: $out"
[ "$(drops ttl-exceeded)" -gt "$before" ] || fail "ttl-exceeded not counted"
# router-2 has no external gateway, so no default route.
out=$(in_ns c1 ping -c 1 -W 2 10.77.0.1 2>&1 || true)
grep -q 'From 10.3.0.1 .*Destination Net Unreachable' <<<"$out" || fail "no route: no net-unreachable: $out"
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

# --- north-south: SNAT and floating IPs ------------------------------------------
# The outside: the sandbox's namespace on the "public" physnet bridge (lib.sh).
routing_outside_up
peer_server ext 198.51.100.7 7007
peer() { peer_seen "$1" 198.51.100.7 7007; }

seen=$(peer b1) || { h1 stats; h1 nat list; fail "b1 (no floating IP) cannot reach the outside"; }
[ "${seen%%:*}" = 172.31.208.102 ] || fail "b1 seen as $seen, expected the router's SNAT address"
port=${seen##*:}
[ "$port" -ge 1024 ] && [ "$port" -le 65535 ] || fail "SNAT port $port outside the range 1024-65535"
seen=$(peer a1) || fail "a1 (floating IP) cannot reach the outside"
[ "${seen%%:*}" = 172.31.208.110 ] || fail "a1 seen as $seen, expected its floating IP"
pings b1 198.51.100.7 || fail "ICMP echo through SNAT"
# An ICMP error about a SNATed flow (port unreachable from the server) comes
# back translated, quote included: b1's UDP socket sees the refusal.
got=$(udp_probe b1 198.51.100.7 9)
[ "$got" = refused ] || fail "ICMP port unreachable through SNAT: the VM saw '$got'"
pass "outbound: SNAT to the router's address (port from 1024-65535), floating IP for a1, ICMP errors translated back"

pings ext 172.31.208.110 || fail "outside -> floating IP -> a1"
# TCP in through the floating IP: a1 sees the real outside source.
peer_server a1 10.1.0.11 7008 20
seen=$(peer_seen ext 172.31.208.110 7008) || fail "outside -> floating IP -> a1 over TCP"
seen=${seen%%:*}
[ "$seen" = 172.31.208.1 ] || fail "a1 saw the outside connection from $seen, expected 172.31.208.1"
# a1's own ICMP error about traffic that came in through its floating IP
# leaves quoting the floating IP: the outside's UDP socket sees the refusal.
got=$(udp_probe ext 172.31.208.110 9)
[ "$got" = refused ] || fail "a1's port unreachable through its floating IP: the outside saw '$got'"
# The router's own error about inbound traffic (TTL 1 to the floating IP)
# quotes the datagram as the outside sent it, so the outside's socket (with
# IP_RECVERR (11), as traceroute uses) matches it: EHOSTUNREACH, not a timeout.
got=$(in_ns ext timeout 5 python3 -c '
import errno, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.setsockopt(socket.IPPROTO_IP, 11, 1)  # IP_RECVERR
s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
s.connect(("172.31.208.110", 33434)); s.send(b"ttl")
try:
    s.recv(64); print("answered")
except socket.timeout:
    print("timeout")
except OSError as e:
    print("unreachable" if e.errno == errno.EHOSTUNREACH else e.strerror)' 2>&1)
[ "$got" = unreachable ] || fail "TTL 1 to the floating IP: the outside's socket saw '$got', expected the router's time-exceeded"
pings ext 172.31.208.102 || fail "the router's external address does not answer ping"
! in_ns ext timeout 3 bash -c 'echo > /dev/tcp/172.31.208.102/7007' 2>/dev/null || fail "unsolicited TCP to the SNAT address got through"
pass "inbound: floating IP to a1 (ping, TCP with the real source, its ICMP errors translated), router address answers ping, nothing else gets in"

bps=$(iperf_bps b1 ext 198.51.100.7)
[ "$bps" -gt 10000000 ] || fail "iperf3 through SNAT: $bps bit/s"
pass "TCP through SNAT: $((bps / 1000000)) Mbit/s"

h1 nat list | grep -q 172.31.208.102 || fail "nat list shows no SNAT binding"
h1 fip list -o json | python3 -c '
import json,sys
rows = json.load(sys.stdin)
assert any(r["floating_ip"] == "172.31.208.110" and r["fixed_ip"] == "10.1.0.11" for r in rows), rows' || fail "fip list"
pass "nat list / fip list"

# Disassociating the floating IP ends its sessions at once (OSSN-0020):
# the translation is stateless, nothing of it outlives the apply.
python3 - "$STATE" >"$NT_TMP/nofip.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["floatingips"][0]["port_id"] = None; d["floatingips"][0]["fixed_ip_address"] = None
print(json.dumps(d))
PY
in_ns ext ping -c 1 -W 2 -q 172.31.208.110 >/dev/null || fail "floating IP not reachable before disassociation"
h1 apply --host compute-1 "$NT_TMP/nofip.json" >/dev/null || fail "apply without the floating IP association"
! pings ext 172.31.208.110 || fail "the disassociated floating IP still reaches a1"
seen=$(peer a1) || fail "a1 lost the outside after disassociation"
[ "${seen%%:*}" = 172.31.208.102 ] || fail "a1 seen as $seen after disassociation, expected SNAT"
pass "disassociating the floating IP: inbound ends at once, a1 falls back to SNAT"

# Two VMs SNAT to the same server address and port: distinct external ports
# (a1's binding to it is still held, so b1's new flow cannot take its port).
seen_b=$(peer b1) || fail "b1 through SNAT"
[ "${seen_b%%:*}" = 172.31.208.102 ] && [ "${seen_b##*:}" != "${seen##*:}" ] \
  || fail "a1 as $seen and b1 as $seen_b: not distinct ports of the SNAT address"
pass "two VMs to one server port through SNAT: $seen and $seen_b"

# --- the other host: SNAT through the SNAT host, a floating IP of its own -----------
# compute-1 is router-1's SNAT host (r1-gw is unbound: the first host with VMs
# behind the router). compute-2's VMs go out through it, as Neutron's DVR
# does: b2 over net-b's GRE tunnel, a2 over net-a's VXLAN. One host binds
# every port, so they never collide with compute-1's VMs' ports.
h2() { "$NEUTRINO" --instance "$PFX-compute-2" --netns "$PFX-compute-2" "$@"; }
seen_b2=$(peer b2) || { h2 stats; h1 nat list; fail "b2 (compute-2) cannot reach the outside through the SNAT host"; }
[ "${seen_b2%%:*}" = 172.31.208.102 ] || fail "b2 seen as $seen_b2, expected the router's SNAT address"
[ "${seen_b2##*:}" != "${seen_b##*:}" ] || fail "b1 and b2 (two hosts) got the same SNAT port ${seen_b##*:}"
seen_a2=$(peer a2) || fail "a2 (compute-2, VXLAN) cannot reach the outside through the SNAT host"
[ "${seen_a2%%:*}" = 172.31.208.102 ] || fail "a2 seen as $seen_a2"
pings b2 198.51.100.7 || fail "ICMP echo from compute-2 through the SNAT host"
got=$(udp_probe a2 198.51.100.7 9)
[ "$got" = refused ] || fail "ICMP port unreachable to compute-2's VM through the SNAT host: '$got'"
h1 nat list | grep -q '10\.2\.0\.13' || fail "b2's binding is not on compute-1: $(h1 nat list)"
! h2 nat list | grep -q '172\.31\.208\.102' || fail "compute-2 bound SNAT ports itself: $(h2 nat list)"
h1 router show router-1 | grep -q '^default SNAT: 172.31.208.102 here, ports 1024-65535$' \
  || fail "router show on compute-1 does not say it is the SNAT host: $(h1 router show router-1)"
h2 router list -o json | python3 -c '
import json,sys
r = [r for r in json.load(sys.stdin) if r["name"] == "router-1"][0]
assert r["snat"] == {"address": "172.31.208.102", "host": "192.0.2.11"}, r' \
  || fail "router list on compute-2 does not name the SNAT host: $(h2 router list)"
bps=$(iperf_bps b2 ext 198.51.100.7)
[ "$bps" -gt 10000000 ] || fail "iperf3 from compute-2 through the SNAT host: $bps bit/s"
pass "compute-2's VMs (GRE and VXLAN) go out through compute-1, the SNAT host: $seen_b2 and $seen_a2, ping, ICMP errors, TCP $((bps / 1000000)) Mbit/s; compute-2 binds nothing"

# A floating IP on compute-2 (a2: 172.31.208.111) while compute-1 keeps
# translating SNAT: each host answers ARP and sends behind its own MAC on
# the external network, so the outside's bridge never moves one between them.
python3 - "$NT_TMP/nofip.json" >"$NT_TMP/fip2.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
f = dict(d["floatingips"][0], id="f1000002-0000-4000-8000-0000000000f2", floating_ip_address="172.31.208.111",
         port_id="a1000005-0e70-4000-8000-000000000001", fixed_ip_address="10.1.0.15")
d["floatingips"].append(f)
print(json.dumps(d))
EOF
h1 apply --host compute-1 "$NT_TMP/fip2.json" >/dev/null || fail "apply (compute-1) with a2's floating IP"
h2 apply --host compute-2 "$NT_TMP/fip2.json" >/dev/null || fail "apply (compute-2) with a2's floating IP"
for round in 1 2 3; do
  seen=$(peer a2) || fail "round $round: a2 (floating IP on compute-2) cannot reach the outside"
  [ "${seen%%:*}" = 172.31.208.111 ] || fail "round $round: a2 seen as $seen, expected its floating IP"
  seen=$(peer b1) || fail "round $round: b1 (compute-1, SNAT) after compute-2's traffic"
  [ "${seen%%:*}" = 172.31.208.102 ] || fail "round $round: b1 seen as $seen"
  pings ext 172.31.208.111 || fail "round $round: outside -> a2's floating IP on compute-2"
  pings ext 172.31.208.102 || fail "round $round: outside -> the SNAT address on compute-1"
done
peer_server a2 10.1.0.15 7009 20
seen=$(peer_seen ext 172.31.208.111 7009) || fail "outside -> a2's floating IP over TCP"
[ "${seen%%:*}" = 172.31.208.1 ] || fail "a2 saw the outside connection from $seen"
mac_of() { in_ns ext ip neigh show "$1" dev ext0 | awk '{print $3}'; }
[ "$(mac_of 172.31.208.102)" = fa:16:3e:aa:00:0e ] || fail "the SNAT address resolves to '$(mac_of 172.31.208.102)'"
case "$(mac_of 172.31.208.111)" in
  06:4e:*) ;;
  *) fail "a2's floating IP resolves to '$(mac_of 172.31.208.111)', expected compute-2's own 06:4e:... MAC" ;;
esac
pass "a floating IP on compute-2 beside compute-1's SNAT: both ways, 3 rounds in turn, each host behind its own MAC"

# net-b becomes VLAN 300 on the physnet "public" (a trunk beside the flat
# external network): no tunnel reaches the SNAT host any more, so compute-2
# sends b2's SNAT flows out of its uplink to router-1's SNAT MAC, which only
# compute-1 routes; the replies come back over the VLAN.
python3 - "$NT_TMP/fip2.json" >"$NT_TMP/vlan.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for n in d["networks"]:
    if n["name"] == "net-b":
        n.update({"provider:network_type": "vlan", "provider:segmentation_id": 300, "provider:physical_network": "public"})
print(json.dumps(d))
EOF
h1 apply --host compute-1 "$NT_TMP/vlan.json" >/dev/null || fail "apply (compute-1) with net-b on VLAN 300"
h2 apply --host compute-2 "$NT_TMP/vlan.json" >/dev/null || fail "apply (compute-2) with net-b on VLAN 300"
pings b1 10.2.0.13 || fail "b1 -> b2 over VLAN 300"
seen=$(peer b2) || { h2 stats; fail "b2 (compute-2, VLAN net-b) cannot reach the outside through the SNAT host"; }
[ "${seen%%:*}" = 172.31.208.102 ] || fail "b2 on VLAN net-b seen as $seen"
pings b2 198.51.100.7 || fail "ICMP echo from b2 (VLAN) through the SNAT host"
h1 fdb list | grep -q 'router (SNAT MAC)' || fail "compute-1 has no SNAT MAC entry: $(h1 fdb list)"
pass "VLAN tenant network: compute-2's VM reaches the outside through compute-1 at the router's SNAT MAC ($seen)"

# No iptables NAT anywhere: not in the root namespace, not in any of ours.
for ns in "" $(ip netns list | awk '{print $1}' | grep "^$PFX-" || true); do
  rules=$( { if [ -z "$ns" ]; then iptables -t nat -S; else ip netns exec "$ns" iptables -t nat -S; fi; } 2>/dev/null | grep -c '^-A' || true)
  [ "$rules" -eq 0 ] || fail "iptables nat rules in ${ns:-the root namespace}"
done
pass "no iptables -t nat rule in any namespace"

# --- inspection -------------------------------------------------------------------------
h1 router list | grep -q router-1 || fail "router list lacks router-1"
h1 route list | grep -q '10.9.0.0/24' || fail "route list lacks the static route"
h1 route list -o json | python3 -c '
import json,sys
rows = json.load(sys.stdin)
assert any(r["destination"] == "10.2.0.0/24" and r["type"] == "connected" for r in rows), rows' || fail "route list -o json"
pass "router list / route list"
