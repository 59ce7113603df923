#!/usr/bin/env bash
# Two Neutrino hosts joined by an underlay, VXLAN/GRE/VLAN/flat networks with
# overlapping tenant addresses, and a third host whose VM sits behind the
# Linux kernel's own VXLAN device (the wire format checked against an
# implementation we did not write).
source "$(dirname "$0")/lib.sh"

STATE="$NT_SOURCE_DIR/tests/fixtures/e2e-overlay.json"
"$NEUTRINO" demo up --state "$STATE" --prefix "$PFX" >"$NT_TMP/up.txt" 2>&1 || { cat "$NT_TMP/up.txt"; fail "sandbox up"; }
h1() { "$NEUTRINO" --instance "$PFX-compute-1" --netns "$PFX-compute-1" "$@"; }
h2() { "$NEUTRINO" --instance "$PFX-compute-2" --netns "$PFX-compute-2" "$@"; }
pings() { in_ns "$1" ping -c 2 -W 2 -q "$2" >/dev/null 2>&1; }

# --- compute-3: the kernel's VXLAN device and a bridge instead of Neutrino ---
"$NEUTRINO" --instance "$PFX-compute-3" destroy >/dev/null
K="$PFX-compute-3"
ip -n "$K" link add vx0 type vxlan id 2002 local 192.0.2.13 dstport 4789 nolearning
ip -n "$K" link add br0 type bridge
ip -n "$K" link set vx0 master br0
ip -n "$K" link set tapb3000000-0e master br0
ip -n "$K" link set vx0 up
ip -n "$K" link set br0 up
ip netns exec "$K" bridge fdb append 00:00:00:00:00:00 dev vx0 dst 192.0.2.11
ip netns exec "$K" bridge fdb append 00:00:00:00:00:00 dev vx0 dst 192.0.2.12
ip netns exec "$K" bridge fdb add fa:16:3e:02:00:01 dev vx0 dst 192.0.2.11 static
ip netns exec "$K" bridge fdb add fa:16:3e:02:00:02 dev vx0 dst 192.0.2.12 static
pass "compute-3 wired with the kernel VXLAN device (no Neutrino)"

# --- VMs on different hosts, every network type ---------------------------------
pings gre-a 192.168.1.18 || fail "GRE: gre-a -> gre-b"
pings vx-a 192.168.1.18 || fail "VXLAN: vx-a -> vx-b"
pings vlan-a 10.100.0.11 || fail "VLAN: vlan-a -> vlan-b"
pings flat-a 10.200.0.11 || fail "flat: flat-a -> flat-b"
pings vx-b 192.168.1.17 || fail "VXLAN back: vx-b -> vx-a"
pass "VMs on two hosts reach each other over GRE, VXLAN, VLAN and flat"

[ "$(in_ns gre-a ip neigh show 192.168.1.18 | awk '{print $5}')" = "fa:16:3e:01:00:02" ] || fail "192.168.1.18 in GRE tenant is not gre-b"
[ "$(in_ns vx-a ip neigh show 192.168.1.18 | awk '{print $5}')" = "fa:16:3e:02:00:02" ] || fail "192.168.1.18 in VXLAN tenant is not vx-b"
pass "identical tenant IPs on two segments resolve within their own segment"

# --- interoperability with the kernel VXLAN peer --------------------------------
pings vx-a 192.168.1.19 || fail "Neutrino VM -> VM behind kernel VXLAN"
pings vx-kernel 192.168.1.17 || fail "VM behind kernel VXLAN -> Neutrino VM"
pass "VXLAN interoperates both ways with the Linux kernel's VXLAN device"

# --- TCP through every network (bounded iperf3) ------------------------------------
# With the VMs' segmentation offloads on (the default): TSO super-packets
# are encapsulated whole and segmented as tunnel GSO further down.
for vm in gre-a vx-a; do
  in_ns "$vm" ethtool -k eth0 | grep -q '^tcp-segmentation-offload: on' || fail "$vm: TSO is off, the test would not cover GSO"
done
for pair in "gre-a gre-b 192.168.1.18" "vx-a vx-b 192.168.1.18" "vlan-a vlan-b 10.100.0.11" "flat-a flat-b 10.200.0.11"; do
  set -- $pair
  bps=$(iperf_bps "$1" "$2" "$3")
  [ "$bps" -gt 10000000 ] || fail "iperf3 $1 -> $2: $bps bit/s"
  echo "  iperf3 $1 -> $2: $((bps / 1000000)) Mbit/s"
done
pass "iperf3 over GRE, VXLAN, VLAN and flat"

# --- MTU: a VM configured above its network's MTU ----------------------------------
# Frames the tunnel cannot carry are dropped with a reason, and the VM gets
# an ICMP "fragmentation needed" with the network MTU (path MTU discovery).
in_ns vx-a ip link set eth0 mtu 1500
out=$(in_ns vx-a ping -c 1 -W 2 -M do -s 1472 192.168.1.18 2>&1 || true)
grep -q 'Frag needed and DF set (mtu = 1450)' <<<"$out" || fail "no ICMP frag-needed for a 1500-byte packet on a 1450 network: $out"
in_ns vx-a ip route get 192.168.1.18 | grep -q 'mtu 1450' || fail "the VM did not learn the path MTU"
pings vx-a 192.168.1.18 || fail "small packets stopped after the frag-needed"
h1 stats -o json | python3 -c '
import json,sys
d = json.load(sys.stdin)
rows = d.get("drops", d) if isinstance(d, dict) else d
assert any(r.get("reason") == "mtu-exceeded" and r.get("packets", 0) >= 1 for r in rows), rows' \
  || fail "mtu-exceeded not counted"
# TCP from a VM whose MTU is too big still flows once PMTU discovery has run.
in_ns vx-b ip link set eth0 mtu 1500
in_ns vx-a ip route flush cache
bps=$(iperf_bps vx-a vx-b 192.168.1.18)
[ "$bps" -gt 10000000 ] || fail "iperf3 with a VM MTU above the network MTU: $bps bit/s"
in_ns vx-a ip link set eth0 mtu 1450
in_ns vx-b ip link set eth0 mtu 1450
pass "oversized frames: dropped with mtu-exceeded, ICMP frag-needed to the VM, TCP adapts"

# --- broadcast reaches every host of the network and no other -------------------------
cap_same=$(start_capture gre-b "$NT_TMP/bum-gre.pcap" arp and host 192.168.1.99)
cap_other=$(start_capture vx-b "$NT_TMP/bum-vx.pcap" arp and host 192.168.1.99)
in_ns gre-a arping -c 2 -w 3 -I eth0 192.168.1.99 >/dev/null 2>&1 || true
sleep 0.5
stop_capture "$cap_same"; stop_capture "$cap_other"
[ "$(capture_count "$NT_TMP/bum-gre.pcap")" -ge 1 ] || fail "ARP broadcast did not reach gre-b on the other host"
[ "$(capture_count "$NT_TMP/bum-vx.pcap")" -eq 0 ] || fail "ARP broadcast leaked into the VXLAN tenant"
pass "a broadcast is replicated to the other host of its network only"

# --- GRE on the wire, decoded by tcpdump ------------------------------------------------
ip netns exec "$PFX-underlay" timeout 10 tcpdump -i br-tun -n -v -c 2 proto gre >"$NT_TMP/gre.txt" 2>/dev/null &
NT_PIDS+=($!)
sleep 1
pings gre-a 192.168.1.18 || true
sleep 1
grep -q "GREv0, Flags \[key present\], key=0x3e9" "$NT_TMP/gre.txt" || fail "tcpdump did not decode GRE key 1001: $(cat "$NT_TMP/gre.txt")"
grep -q "192.168.1.17 > 192.168.1.18: ICMP echo request" "$NT_TMP/gre.txt" || fail "inner frame not decoded: $(cat "$NT_TMP/gre.txt")"
pass "tcpdump decodes our GRE: key 0x3e9 (1001), transparent Ethernet bridging"

# --- invalid tunnel traffic is dropped at XDP, with a reason ------------------------------
ip -n "$PFX-underlay" addr add 192.0.2.99/24 dev br-tun
before=$(h1 stats -o json | python3 -c 'import json,sys; print([r["packets"] for r in json.load(sys.stdin) if r["reason"]=="unknown-vtep"][0])')
ip netns exec "$PFX-underlay" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(bytes.fromhex("0800000000271100") + bytes(64), ("192.0.2.11", 4789))'
sleep 0.5
after=$(h1 stats -o json | python3 -c 'import json,sys; print([r["packets"] for r in json.load(sys.stdin) if r["reason"]=="unknown-vtep"][0])')
[ "$after" -gt "$before" ] || fail "VXLAN from an unknown host was not dropped as unknown-vtep"
pass "tunnel packets from an unknown host are dropped and counted (unknown-vtep)"

# --- counters and CLI --------------------------------------------------------------
h1 fdb list -o json | python3 -c '
import json,sys
rows = json.load(sys.stdin)
assert any(r.get("vtep") == "192.0.2.12" for r in rows), rows' || fail "fdb list shows no remote VTEP entries"
h1 tunnel list -o json | python3 -c '
import json,sys
t = json.load(sys.stdin)
assert any(v["ip"] == "192.0.2.12" for v in t["vteps"]), t
assert any(u["encap_packets"] > 0 and u["decap_packets"] > 0 for u in t["uplinks"]), t' || fail "tunnel list: $(h1 tunnel list)"
pass "fdb list shows remote entries with their VTEP; tunnel list shows encap/decap counters"

"$NEUTRINO" demo down --state "$STATE" --prefix "$PFX" >/dev/null || fail "sandbox down"
[ -z "$(ip netns list | grep "^$PFX-" || true)" ] || fail "namespaces remain"
pass "sandbox removed"
