#!/usr/bin/env bash
# The single-host dataplane, end to end, on the demo sandbox: six VMs on
# three networks (red and blue with overlapping IPs, green routed to red by
# demo-router) that get their addresses by DHCP from the datapath (busybox
# udhcpc in each VM), real ping/arping/tcpdump/iperf3. Then
# the two-host demo, and a demo whose DHCP cannot work failing loudly.
source "$(dirname "$0")/lib.sh"

"$NEUTRINO" demo up --prefix "$PFX" >"$NT_TMP/up.txt" || { cat "$NT_TMP/up.txt"; fail "demo up"; }
pass "demo up"

# Every VM got its port's fixed IP by DHCP: a lease-bound (dynamic) address
# on eth0, the network's MTU from option 26, the exchange counted by the
# datapath, and the client gone (one shot): no process in any VM namespace.
declare -A IP=([red-vm1]=10.0.0.11 [red-vm2]=10.0.0.12 [red-vm3]=10.0.0.13 [blue-vm1]=10.0.0.11 [blue-vm2]=10.0.0.12
               [green-vm1]=10.1.0.11)
dhcp_count() {  # port scope(port|all_ports) message
  nt dhcp show "$1" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"][sys.argv[1]][sys.argv[2]])' "$2" "$3"
}
for vm in "${!IP[@]}"; do
  addr=$(in_ns "$vm" ip -4 -o addr show dev eth0)
  [ "$(wc -l <<<"$addr")" -eq 1 ] || fail "$vm: expected one IPv4 address: $addr"
  grep -q "inet ${IP[$vm]}/24 .* dynamic" <<<"$addr" || fail "$vm: ${IP[$vm]}/24 is not a DHCP (dynamic) address: $addr"
  lft=$(sed -n 's/.*valid_lft \([0-9]*\)sec.*/\1/p' <<<"$addr")
  [ -n "$lft" ] && [ "$lft" -gt 86000 ] && [ "$lft" -le 86400 ] || fail "$vm: valid_lft is not the 86400 s lease: $addr"
  [ "$(in_ns "$vm" cat /sys/class/net/eth0/mtu)" -eq 1500 ] || fail "$vm: eth0 MTU is not the network's"
  grep -q "^$PFX-$vm  *${IP[$vm]}/24 .* 86400 s  *${IP[$vm]%.*}.254\$" "$NT_TMP/up.txt" || fail "demo up did not print $vm's lease:
$(cat "$NT_TMP/up.txt")"
  [ "$(dhcp_count "$vm" port ACK)" -ge 1 ] || fail "$vm: no ACK counted by the datapath"
  [ -z "$(ip netns pids "$PFX-$vm")" ] || fail "processes left in $vm after demo up: $(ip netns pids "$PFX-$vm")"
done
[ "$(dhcp_count red-vm1 all_ports ACK)" -ge 6 ] || fail "fewer than 6 ACKs in total"
pass "each VM got its fixed IP by DHCP (dynamic, 86400 s lease, MTU), printed by demo up; no client left running"

# Full ping matrix: each VM pings every address; exactly the holders in the
# same network, or in a network the router joins (red and green: demo-router,
# the VMs' DHCP default route), answer. 10.0.0.11/12 exist in red and blue;
# blue has no router.
declare -A NET=([red-vm1]=red [red-vm2]=red [red-vm3]=red [blue-vm1]=blue [blue-vm2]=blue [green-vm1]=green)
reach() { [ "$1" = "$2" ] || { [ "$1" != blue ] && [ "$2" != blue ]; }; }  # red <-> green routed
for src in "${!NET[@]}"; do
  for dst_ip in 10.0.0.11 10.0.0.12 10.0.0.13 10.1.0.11; do
    [ "${IP[$src]}" = "$dst_ip" ] && continue
    expect=no
    for dst in "${!NET[@]}"; do
      [ "$dst" != "$src" ] && reach "${NET[$src]}" "${NET[$dst]}" && [ "${IP[$dst]}" = "$dst_ip" ] && expect=yes
    done
    if in_ns "$src" ping -c 1 -W 1 -q "$dst_ip" >/dev/null 2>&1; then got=yes; else got=no; fi
    [ "$got" = "$expect" ] || fail "ping $src -> $dst_ip: got $got, expected $expect"
  done
done
pass "ping matrix: every VM reaches exactly its own network and, through demo-router, red <-> green"

in_ns red-vm1 ping -c 1 -W 2 -q 10.0.0.1 >/dev/null || fail "red-vm1 cannot ping its gateway"
in_ns green-vm1 ping -c 1 -W 2 -q 10.1.0.1 >/dev/null || fail "green-vm1 cannot ping its gateway"
ttl=$(in_ns red-vm1 ping -c 1 -W 2 10.1.0.11 | sed -n 's/.*ttl=\([0-9]*\).*/\1/p')
[ "$ttl" = 63 ] || fail "red-vm1 -> green-vm1 reply TTL $ttl, expected 63 (routed once)"
pass "gateways answer; red -> green is one routed hop"

# North-south: demo-router's external gateway 203.0.113.10 is on "public", a
# flat network on the host's physnet uplink eth1; the sandbox's outside
# namespace holds its gateway 203.0.113.1 and 198.51.100.1 beyond it.
# red-vm1 has the floating IP 203.0.113.20; the others SNAT.
# The first packet out already finds the gateway's MAC (apply resolved it).
in_ns green-vm1 ping -c 1 -W 2 -q 198.51.100.1 >/dev/null || fail "green-vm1's first ping to the outside was lost"
peer_server ext 198.51.100.1 7007
seen() { local p; p=$(peer_seen "$1" 198.51.100.1 7007) && echo "${p%%:*}"; }
[ "$(seen red-vm2)" = 203.0.113.10 ] || fail "red-vm2 is not seen outside as the router's SNAT address"
[ "$(seen green-vm1)" = 203.0.113.10 ] || fail "green-vm1 is not seen outside as the router's SNAT address"
[ "$(seen red-vm1)" = 203.0.113.20 ] || fail "red-vm1 is not seen outside as its floating IP"
! in_ns blue-vm1 ping -c 1 -W 1 -q 198.51.100.1 >/dev/null 2>&1 || fail "blue (no router) reaches the outside"
in_ns ext ping -c 1 -W 2 -q 203.0.113.20 >/dev/null || fail "the outside cannot ping red-vm1's floating IP"
peer_server red-vm1 0.0.0.0 7777 20
got=$(peer_seen ext 203.0.113.20 7777) || fail "the outside cannot open TCP 7777 on red-vm1's floating IP"
got=${got%%:*}
[ "$got" = 203.0.113.1 ] || fail "red-vm1 saw the outside as $got, expected 203.0.113.1"
! in_ns ext timeout 3 bash -c 'echo > /dev/tcp/203.0.113.20/22' 2>/dev/null || fail "TCP 22 (no rule) reached red-vm1"
grep -q 203.0.113.20 <<<"$(nt fip list)" || fail "fip list: $(nt fip list)"
grep -q 'tcp .*203\.0\.113\.10:' <<<"$(nt nat list)" || fail "nat list has no SNAT binding: $(nt nat list)"
for ns in "" $(ip netns list | awk -v p="$PFX-" 'index($1, p) == 1 {print $1}'); do
  rules=$( { if [ -z "$ns" ]; then iptables -t nat -S; else ip netns exec "$ns" iptables -t nat -S; fi; } 2>/dev/null | grep -c '^-A' || true)
  [ "$rules" -eq 0 ] || fail "iptables nat rules in ${ns:-the root namespace}"
done
# The L2 tables behind it: networks with their uplink and flood lists, the
# responder's addresses, and the external gateway learned at apply time.
nt network list -o json | python3 -c '
import json, sys
n = {r["name"]: r for r in json.load(sys.stdin)}
assert sorted(n) == ["blue", "green", "public", "red"], n
assert n["public"]["router_external"] and n["public"]["uplink"] == "eth1" and n["public"]["type"] == "flat", n["public"]
assert len(n["red"]["flood"]) == 3 and len(n["blue"]["flood"]) == 2 and n["red"]["uplink"] is None, n' \
  || fail "network list: $(nt network list)"
gw_mac=$(in_ns ext cat /sys/class/net/ext0/address)
nt neigh list --network public -o json | python3 -c '
import json, sys
rows = {(r["ip"], r["kind"]): r["mac"] for r in json.load(sys.stdin)}
assert rows.get(("203.0.113.10", "router")) == "fa:16:3e:00:f0:01", rows
assert rows.get(("203.0.113.20", "router")) == "fa:16:3e:00:f0:01", rows
assert rows.get(("203.0.113.1", "learned")) == sys.argv[1], rows' "$gw_mac" \
  || fail "neigh list: $(nt neigh list)"
pass "north-south: SNAT to 203.0.113.10, red-vm1 out and in as 203.0.113.20 (the outside's own address seen inside), blue cut off, no iptables nat"

# Overlapping IPs resolve inside the asker's network: blue-vm1's neighbour
# 10.0.0.12 is blue-vm2, never red-vm2.
got=$(in_ns blue-vm1 ip neigh show 10.0.0.12 dev eth0 | awk '{print $3}')
[ "$got" = "$(vm_mac blue-vm2)" ] || fail "blue-vm1 resolved 10.0.0.12 to $got, not blue-vm2"
pass "overlapping IP resolves within the network"

# arping gets the BPF responder's answer; red-vm2 itself never sees the request.
cap=$(start_capture red-vm2 "$NT_TMP/arp.pcap" arp)
out=$(in_ns red-vm1 arping -c 2 -w 3 -I eth0 10.0.0.12 2>&1) || fail "arping: $out"
stop_capture "$cap"
echo "$out" | grep -qi "$(vm_mac red-vm2)" || fail "arping reply is not red-vm2's MAC: $out"
[ "$(capture_count "$NT_TMP/arp.pcap")" -eq 0 ] || fail "ARP request reached red-vm2: responder did not answer"
replies=$(nt port list -o json | python3 -c '
import json,sys
print(sum(p["counters"]["arp_replies"]["packets"] for p in json.load(sys.stdin) if p["name"]=="red-vm1"))')
[ "$replies" -ge 2 ] || fail "arp_replies counter of red-vm1 is $replies"
pass "arping answered by the BPF ARP responder ($replies replies counted)"

# Isolation: while red-vm1 talks to red-vm2 (10.0.0.12, same IP as blue-vm2),
# the blue network sees no frame with a red MAC.
r1=$(vm_mac red-vm1); r2=$(vm_mac red-vm2)
cap=$(start_capture blue-vm2 "$NT_TMP/blue.pcap" ether host "$r1" or ether host "$r2")
in_ns red-vm1 ip neigh flush dev eth0
in_ns red-vm1 ping -c 3 -i 0.2 -W 1 -q 10.0.0.12 >/dev/null || fail "red-vm1 -> red-vm2"
in_ns red-vm1 ping -b -c 2 -i 0.2 -W 1 -q 10.0.0.255 >/dev/null 2>&1 || true   # broadcast too
stop_capture "$cap"
n=$(capture_count "$NT_TMP/blue.pcap")
[ "$n" -eq 0 ] || fail "blue-vm2 captured $n red frames"
pass "tcpdump in the other network sees nothing"

# iperf3 between two VMs of one network, bounded.
in_ns red-vm2 timeout 30 iperf3 -s -1 -B 10.0.0.12 >/dev/null 2>&1 &
NT_PIDS+=($!)
sleep 1
bps=$(in_ns red-vm1 timeout 30 iperf3 -c 10.0.0.12 -t 2 -J | python3 -c '
import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))')
[ "$bps" -gt 10000000 ] || fail "iperf3 red-vm1 -> red-vm2 only $bps bit/s"
pass "iperf3 red-vm1 -> red-vm2: $((bps / 1000000)) Mbit/s"

# Anti-spoofing: a VM that changes its MAC is cut off, and the drop is counted.
before=$(nt stats -o json | python3 -c '
import json,sys; print([r["packets"] for r in json.load(sys.stdin) if r["reason"]=="spoofed-mac"][0])')
in_ns red-vm3 ip link set eth0 address 02:00:00:00:00:99
if in_ns red-vm3 ping -c 2 -W 1 -q 10.0.0.11 >/dev/null 2>&1; then fail "spoofed MAC got through"; fi
after=$(nt stats -o json | python3 -c '
import json,sys; print([r["packets"] for r in json.load(sys.stdin) if r["reason"]=="spoofed-mac"][0])')
[ "$after" -gt "$before" ] || fail "spoofed-mac counter did not move ($before -> $after)"
in_ns red-vm3 ip link set eth0 address fa:16:3e:00:a0:13
pass "spoofed source MAC dropped and counted ($before -> $after)"

# Re-applying the same state writes nothing.
out=$(nt apply "$NT_SOURCE_DIR/examples/demo.json" -o json)
echo "$out" | python3 -c '
import json,sys; r=json.load(sys.stdin); assert r["writes"]==0 and r["deletes"]==0 and not r["attached"], r' \
  || fail "re-apply was not a no-op: $out"
pass "re-applying the same state writes nothing"

# Inspection: red, blue, green and the external network public; the FDB holds
# the 6 VMs, the router on red and green, and its gateway port on public.
nt status | grep -q "6 ports, 4 networks" || fail "status: $(nt status)"
[ "$(nt fdb list -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" -eq 9 ] \
  || fail "fdb list"
pass "status and fdb list"

# destroy (via demo down) leaves nothing behind: no pins, no namespaces, no programs.
progs=$(nt status -o json | python3 -c '
import json,sys; print(" ".join(sorted({str(a["prog_id"]) for a in json.load(sys.stdin)["attachments"]})))')
"$NEUTRINO" demo down --prefix "$PFX" >/dev/null || fail "demo down"
[ ! -e "/sys/fs/bpf/neutrino/$PFX" ] || fail "pins remain under /sys/fs/bpf/neutrino/$PFX"
[ -z "$(ip netns list | grep "^$PFX-" || true)" ] || fail "namespaces remain: $(ip netns list | grep "^$PFX-")"
for id in $progs; do
  for _ in 1 2 3 4 5; do bpftool prog show id "$id" >/dev/null 2>&1 || break; sleep 0.2; done
  if bpftool prog show id "$id" >/dev/null 2>&1; then fail "program $id still loaded"; fi
done
pass "demo down removed pins, namespaces and programs ($progs)"

# The two-host demo: its VMs (GRE, VXLAN, VLAN, flat) get their addresses and
# their networks' MTUs by DHCP on either host and reach their own network.
out=$("$NEUTRINO" demo run --state "$NT_SOURCE_DIR/examples/demo-overlay.json" --prefix "$PFX-ov" 2>&1) \
  || fail "demo run of the two-host demo: $out"
for want in "$PFX-ov-gre-a  *192.168.1.17/24 .* 1458  *86400 s" "$PFX-ov-vx-b  *192.168.1.18/24 .* 1450  *86400 s" \
            "$PFX-ov-vlan-b  *10.100.0.11/24 .* 1500 " "$PFX-ov-flat-a  *10.200.0.10/24 .* 1500 "; do
  grep -q "^$want" <<<"$out" || fail "two-host demo: no line '$want' in:
$out"
done
[ "$(grep -c "^$PFX-ov-.*/24 .* 86400 s " <<<"$out")" -eq 8 ] || fail "two-host demo: not 8 leases printed:
$out"
grep -q "^demo OK" <<<"$out" || fail "two-host demo: $out"
[ -z "$(ip netns list | grep "^$PFX-ov-" || true)" ] || fail "two-host demo left namespaces"
pass "two-host demo: 8 VMs configured by DHCP (MTU 1458 on GRE, 1450 on VXLAN), each reaches its own network"

# No lease, no demo: a VM whose port is down gets no DHCP answer, and demo up
# fails naming it, instead of giving it a static address, and leaves nothing.
python3 - "$NT_SOURCE_DIR/examples/demo.json" "$NT_TMP/down-port.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["ports"][2]["admin_state_up"] = False   # red-vm3
json.dump(s, open(sys.argv[2], "w"))
PY
set +e; out=$("$NEUTRINO" demo up --state "$NT_TMP/down-port.json" --prefix "$PFX-x" 2>&1); rc=$?; set -e
[ "$rc" -ne 0 ] || fail "demo up succeeded though red-vm3 can get no lease: $out"
grep -q "DHCP failed for 1 of 6 VMs" <<<"$out" || fail "the error does not count the VMs: $out"
grep -q "$PFX-x-red-vm3 (port red-vm3): no DHCP lease for 10.0.0.13 (udhcpc exit 1)" <<<"$out" \
  || fail "the error does not name red-vm3 and its address: $out"
[ -z "$(ip netns list | grep "^$PFX-x-" || true)" ] || fail "a failed demo up left namespaces"
[ ! -e "/sys/fs/bpf/neutrino/$PFX-x" ] || fail "a failed demo up left pins"
pass "a VM without a lease fails demo up by name (no static fallback), and nothing is left behind"
