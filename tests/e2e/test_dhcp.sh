#!/usr/bin/env bash
# DHCP answered by the datapath, end to end, with real clients we did not
# write: ISC dhclient and busybox udhcpc get their port's address, mask,
# router, DNS servers, MTU and static routes on two networks with the same
# CIDR at once, renew a shortened lease and keep the address, are NAKed for a
# stale address, and release it. A network without DHCP gets no answer. A
# state with a thousand DHCP networks runs no DHCP process and no namespace.
#
# The clients run with scripts of this test (written below) that configure
# only the VM namespace with `ip` and write what they got to files in
# $NT_TMP: never /etc/resolv.conf or anything else of the host.
source "$(dirname "$0")/lib.sh"

command -v dhclient >/dev/null || fail "missing ISC dhclient (Debian package isc-dhcp-client)"
if command -v udhcpc >/dev/null; then UDHCPC=(udhcpc)
elif command -v busybox >/dev/null; then UDHCPC=(busybox udhcpc)
else fail "missing busybox udhcpc (Debian package udhcpc)"; fi

STATE="$NT_SOURCE_DIR/tests/fixtures/dhcp-e2e.json"
# The lease is shortened in the state ("neutrino": {"dhcp_lease_duration": 30}):
# T1 15 s, T2 26 s.
LEASE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["neutrino"]["dhcp_lease_duration"])' "$STATE")
[ "$LEASE" -le 60 ] || fail "the fixture's lease ($LEASE s) is too long for the renewal check"
"$NEUTRINO" demo up --state "$STATE" --prefix "$PFX" >/dev/null || fail "sandbox up"

# ---- the clients' scripts ----------------------------------------------------------
# Both write <vm>.lease (what the client got), <vm>.dns and append to
# <vm>.events; they apply address, MTU and routes inside the VM only.
cat >"$NT_TMP/common.sh" <<'EOF'
PATH=/usr/sbin:/usr/bin:/sbin:/bin
prefix_of() {  # dotted mask -> prefix length
  local IFS=. n=0 o
  for o in $1; do
    case $o in 255) n=$((n+8));; 254) n=$((n+7));; 252) n=$((n+6));; 248) n=$((n+5));;
      240) n=$((n+4));; 224) n=$((n+3));; 192) n=$((n+2));; 128) n=$((n+1));; esac
  done
  echo $n
}
apply_lease() {  # dev ip mask mtu "dst/plen gw ..." "routers" "dns" domain host lease server
  local dev=$1 ip=$2 mask=$3 mtu=$4 routes=$5 routers=$6 dns=$7 domain=$8 host=$9 lease=${10} server=${11}
  ip addr replace "$ip/$(prefix_of "$mask")" dev "$dev"
  [ -n "$mtu" ] && ip link set dev "$dev" mtu "$mtu"
  if [ -n "$routes" ]; then
    set -- $routes
    while [ $# -ge 2 ]; do
      if [ "$2" = 0.0.0.0 ]; then ip route replace "$1" dev "$dev"
      else ip route replace "$1" via "$2" dev "$dev"; fi
      shift 2
    done
  elif [ -n "$routers" ]; then
    ip route replace default via "${routers%% *}" dev "$dev"
  fi
  : >"$OUT.dns.new"
  for d in $dns; do echo "$d" >>"$OUT.dns.new"; done
  mv "$OUT.dns.new" "$OUT.dns"
  printf 'ip=%s\nmask=%s\nmtu=%s\nrouters=%s\nroutes=%s\ndomain=%s\nhostname=%s\nlease=%s\nserver=%s\n' \
    "$ip" "$mask" "$mtu" "$routers" "$routes" "$domain" "$host" "$lease" "$server" >"$OUT.lease.new"
  mv "$OUT.lease.new" "$OUT.lease"
}
EOF

# dhclient passes the lease in new_* variables; option 121 as bytes.
write_dhclient_script() {  # vm
  cat >"$NT_TMP/$1.dhclient.sh" <<EOF
#!/bin/sh
OUT="$NT_TMP/$1"
. "$NT_TMP/common.sh"
EOF
  cat >>"$NT_TMP/$1.dhclient.sh" <<'EOF'
echo "$reason $new_ip_address" >>"$OUT.events"
r3442_routes() {  # "24 192 168 100 10 0 0 254 0 10 0 0 1" -> "192.168.100.0/24 10.0.0.254 0.0.0.0/0 10.0.0.1"
  set -- $1
  local out="" plen d1 d2 d3 d4
  while [ $# -gt 0 ]; do
    plen=$1; shift; d1=0; d2=0; d3=0; d4=0
    [ "$plen" -gt 0 ] && { d1=$1; shift; }
    [ "$plen" -gt 8 ] && { d2=$1; shift; }
    [ "$plen" -gt 16 ] && { d3=$1; shift; }
    [ "$plen" -gt 24 ] && { d4=$1; shift; }
    out="$out $d1.$d2.$d3.$d4/$plen $1.$2.$3.$4"; shift 4
  done
  echo $out
}
case "$reason" in
  PREINIT) ip link set dev "$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT)
    if [ -n "$old_ip_address" ] && [ "$old_ip_address" != "$new_ip_address" ]; then
      ip addr flush dev "$interface"
    fi
    apply_lease "$interface" "$new_ip_address" "$new_subnet_mask" "$new_interface_mtu" \
      "$(r3442_routes "$new_rfc3442_classless_static_routes")" "$new_routers" "$new_domain_name_servers" \
      "$new_domain_name" "$new_host_name" "$new_dhcp_lease_time" "$new_dhcp_server_identifier" ;;
  EXPIRE|FAIL|RELEASE|STOP) ip addr flush dev "$interface" ;;
esac
exit 0
EOF
  chmod +x "$NT_TMP/$1.dhclient.sh"
}

# udhcpc passes the lease in the environment, option 121 as "dst/plen gw".
write_udhcpc_script() {  # vm
  cat >"$NT_TMP/$1.udhcpc.sh" <<EOF
#!/bin/sh
OUT="$NT_TMP/$1"
. "$NT_TMP/common.sh"
EOF
  cat >>"$NT_TMP/$1.udhcpc.sh" <<'EOF'
echo "$1 $ip" >>"$OUT.events"
case "$1" in
  deconfig) ip addr flush dev "$interface"; ip link set dev "$interface" up ;;
  bound|renew)
    apply_lease "$interface" "$ip" "$subnet" "$mtu" "$staticroutes" "$router" "$dns" \
      "$domain" "$hostname" "$lease" "$serverid" ;;
esac
exit 0
EOF
  chmod +x "$NT_TMP/$1.udhcpc.sh"
}

cat >"$NT_TMP/dhclient.conf" <<'EOF'
option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;
request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers, host-name,
        interface-mtu, rfc3442-classless-static-routes;
EOF

CLIENT_PID=()
# Started without a shell function in between, so that $! is the client's
# `timeout` (ip netns exec execs it) and killing it stops the client.
start_dhclient() {  # vm
  write_dhclient_script "$1"
  ip netns exec "$PFX-$1" timeout 280 dhclient -4 -d -v -cf "$NT_TMP/dhclient.conf" -sf "$NT_TMP/$1.dhclient.sh" \
    -lf "$NT_TMP/$1.leases" -pf "$NT_TMP/$1.pid" eth0 >>"$NT_TMP/$1.out" 2>&1 &
  NT_PIDS+=($!)
  CLIENT_PID[$(vm_index "$1")]=$!
}
start_udhcpc() {  # vm [extra udhcpc options]
  local vm=$1; shift
  write_udhcpc_script "$vm"
  ip netns exec "$PFX-$vm" timeout 280 "${UDHCPC[@]}" -f -i eth0 -s "$NT_TMP/$vm.udhcpc.sh" -t 5 -T 1 -A 1 "$@" \
    >>"$NT_TMP/$vm.out" 2>&1 &
  NT_PIDS+=($!)
  CLIENT_PID[$(vm_index "$vm")]=$!
}
stop_client() {  # vm
  local pid=${CLIENT_PID[$(vm_index "$1")]}
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
VMS=(red-vm1 red-vm2 blue-vm1 blue-vm2 green-vm1)
vm_index() { local i; for i in "${!VMS[@]}"; do [ "${VMS[$i]}" = "$1" ] && echo "$i" && return; done; echo 99; }

lease_field() { sed -n "s/^$2=//p" "$NT_TMP/$1.lease" 2>/dev/null; }
addr_of() { in_ns "$1" ip -4 -o addr show dev eth0 | awk '{print $4}'; }
wait_for() {  # seconds description command...
  local secs=$1 what=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@"; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.5
  done
}
has_addr() { [ "$(addr_of "$1")" = "$2" ]; }
# The client's script has applied the lease and recorded it.
bound_to() { has_addr "$1" "$2/24" && [ "$(lease_field "$1" ip)" = "$2" ]; }
diag() { for vm in "$@"; do echo "--- $vm"; cat "$NT_TMP/$vm.out" "$NT_TMP/$vm.events" 2>/dev/null | tail -20; done; }
dhcp_json() { nt dhcp show "$1" -o json; }
counter() {  # port scope(port|all_ports) message
  dhcp_json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"][sys.argv[1]][sys.argv[2]])' "$2" "$3"
}

# ---- VMs start with nothing -----------------------------------------------------------
# demo up already configured the DHCP VMs with its own one-shot udhcpc (and
# green-vm1 statically); the clients of this test start again from nothing.
for vm in "${VMS[@]}"; do
  in_ns "$vm" ip addr flush dev eth0
  in_ns "$vm" ip -4 route flush dev eth0
  in_ns "$vm" ip link set dev eth0 mtu 1500
  [ -z "$(addr_of "$vm")" ] || fail "$vm still has an address"
  [ -z "$(in_ns "$vm" ip -4 route show)" ] || fail "$vm still has routes"
done
pass "five VMs with no address, no route, MTU 1500"

# ---- both clients, both networks (same CIDR) at once -------------------------------------
STARTED=$SECONDS
start_dhclient red-vm1
start_udhcpc red-vm2
start_udhcpc blue-vm1
start_dhclient blue-vm2
start_udhcpc green-vm1 -n   # DHCP disabled there: gives up
wait_for 30 "addresses" bound_to red-vm1 10.0.0.11 || { diag red-vm1; fail "red-vm1 (dhclient) got no address"; }
wait_for 30 "addresses" bound_to red-vm2 10.0.0.12 || { diag red-vm2; fail "red-vm2 (udhcpc) got no address"; }
wait_for 30 "addresses" bound_to blue-vm1 10.0.0.11 || { diag blue-vm1; fail "blue-vm1 (udhcpc) got no address"; }
wait_for 30 "addresses" bound_to blue-vm2 10.0.0.12 || { diag blue-vm2; fail "blue-vm2 (dhclient) got no address"; }
pass "dhclient and udhcpc got the ports' fixed IPs on red and blue (both 10.0.0.0/24)"
declare -A BOUND_REQUESTS   # REQUESTs counted so far (demo up's clients and these)
for vm in red-vm1 red-vm2 blue-vm1 blue-vm2; do BOUND_REQUESTS[$vm]=$(counter $vm port REQUEST); done

check_lease() {  # vm mtu router "routes" "dns" [hostname] [domain]
  local vm=$1 mtu=$2 router=$3 routes=$4 dns=$5 host=${6:-} domain=${7:-}
  [ "$(lease_field "$vm" mask)" = 255.255.255.0 ] || fail "$vm: mask $(lease_field "$vm" mask)"
  [ "$(lease_field "$vm" routers)" = "$router" ] || fail "$vm: router option $(lease_field "$vm" routers)"
  [ "$(lease_field "$vm" server)" != "" ] || fail "$vm: no server identifier"
  [ "$(lease_field "$vm" lease)" = $LEASE ] || fail "$vm: lease $(lease_field "$vm" lease), want $LEASE"
  [ "$(lease_field "$vm" hostname)" = "$host" ] || fail "$vm: hostname '$(lease_field "$vm" hostname)', want '$host'"
  [ "$(lease_field "$vm" domain)" = "$domain" ] || fail "$vm: domain '$(lease_field "$vm" domain)', want '$domain'"
  [ "$(tr '\n' ' ' <"$NT_TMP/$vm.dns" | sed 's/ $//')" = "$dns" ] || fail "$vm: DNS servers $(cat "$NT_TMP/$vm.dns")"
  [ "$(in_ns "$vm" ip -o link show dev eth0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')" = "$mtu" ] \
    || fail "$vm: eth0 MTU is not the network's $mtu"
  in_ns "$vm" ip route show default | grep -q "^default via $router dev eth0" \
    || fail "$vm: default route is not via the router option $router: $(in_ns "$vm" ip route)"
  local r
  for r in $routes; do
    in_ns "$vm" ip route show "${r%@*}" | grep -q "via ${r#*@}" || fail "$vm: no static route ${r%@*} via ${r#*@}: $(in_ns "$vm" ip route)"
  done
}
check_lease red-vm1 1400 10.0.0.1 "192.168.100.0/24@10.0.0.254" "10.0.0.53 9.9.9.9" red-vm1 red.example
check_lease red-vm2 1400 10.0.0.1 "192.168.100.0/24@10.0.0.254" "10.0.0.53 9.9.9.9" red-vm2
check_lease blue-vm1 1450 10.0.0.1 "172.31.0.0/16@10.0.0.253" "10.0.0.2" blue-vm1
check_lease blue-vm2 1450 10.0.0.1 "172.31.0.0/16@10.0.0.253" "10.0.0.2"
[ "$(lease_field red-vm1 server)" = 10.0.0.253 ] \
  || fail "red's server should be its highest free address 10.0.0.253 (.254 is a next hop)"
[ "$(lease_field blue-vm1 server)" = 10.0.0.2 ] || fail "blue's server should be its Neutron DHCP port"
pass "mask, router (as the default route), DNS, MTU, static routes, hostname and domain applied in each VM"

# ---- traffic between the VMs that configured themselves ---------------------------------
# The VMs reach each other, each in its own network, and their gateway
# (10.0.0.1 in both: each network's own router, answered in BPF).
pings() { in_ns "$1" ping -c 2 -W 2 -q "$2" >/dev/null 2>&1; }
pings red-vm1 10.0.0.12 || fail "red-vm1 -> 10.0.0.12 (red-vm2)"
pings blue-vm1 10.0.0.12 || fail "blue-vm1 -> 10.0.0.12 (blue-vm2)"
pings blue-vm2 10.0.0.11 || fail "blue-vm2 -> 10.0.0.11 (blue-vm1)"
[ "$(in_ns red-vm1 ip neigh show 10.0.0.12 | awk '{print $5}')" = "$(vm_mac red-vm2)" ] \
  || fail "red-vm1 reached 10.0.0.12 of another network"
[ "$(in_ns blue-vm1 ip neigh show 10.0.0.12 | awk '{print $5}')" = "$(vm_mac blue-vm2)" ] \
  || fail "blue-vm1 reached 10.0.0.12 of another network"
pings red-vm1 10.0.0.1 || fail "red-vm1 -> its gateway 10.0.0.1"
pings blue-vm1 10.0.0.1 || fail "blue-vm1 -> its gateway 10.0.0.1"
[ "$(in_ns red-vm1 ip neigh show 10.0.0.1 | awk '{print $5}')" = "fa:16:3e:e0:0a:fe" ] || fail "red's gateway MAC"
[ "$(in_ns blue-vm1 ip neigh show 10.0.0.1 | awk '{print $5}')" = "fa:16:3e:e0:0b:fe" ] || fail "blue's gateway MAC"
pass "VMs configured by DHCP ping each other within their network (same addresses in both) and their gateway"

# ---- DHCP disabled: no answer -----------------------------------------------------------
not_running() { ! kill -0 "$1" 2>/dev/null; }
wait_for 30 "udhcpc gives up" not_running "${CLIENT_PID[$(vm_index green-vm1)]}" || fail "udhcpc on green-vm1 still running"
[ -z "$(addr_of green-vm1)" ] || fail "green-vm1 got an address on a subnet without DHCP"
grep -q "^bound" "$NT_TMP/green-vm1.events" 2>/dev/null && fail "green-vm1 was bound"
[ "$(counter green-vm1 port OFFER)" -eq 0 ] || fail "an OFFER was counted for green-vm1"
nt dhcp show green-vm1 | grep -q "not answered" || fail "dhcp show green-vm1 should say it is not answered"
pass "no answer on a network whose subnet has DHCP disabled"

# ---- the CLI ---------------------------------------------------------------------------------
show=$(nt dhcp show red-vm1)
for want in "10.0.0.11/24" "server     10.0.0.253" "interface-mtu" "1400" "classless-static-routes" \
            "192.168.100.0/24 via 10.0.0.254" "dns-servers" "10.0.0.53, 9.9.9.9" "DISCOVER" "OFFER"; do
  grep -qF -- "$want" <<<"$show" || fail "dhcp show red-vm1 lacks '$want':
$show"
done
for m in DISCOVER OFFER REQUEST ACK; do
  [ "$(counter red-vm1 port $m)" -ge 1 ] || fail "red-vm1: no $m counted"
done
[ "$(counter red-vm1 all_ports OFFER)" -ge 4 ] || fail "fewer than 4 OFFERs in total"
pass "neutrino dhcp show: the offer, its options and per-message-type counters"

# ---- renewal of the shortened lease keeps the address --------------------------------------------
renewed() { grep -Eq "^(RENEW|REBIND|renew) " "$NT_TMP/$1.events" 2>/dev/null; }
for vm in red-vm1 red-vm2 blue-vm1 blue-vm2; do
  wait_for $((LEASE * 3)) "renewal" renewed "$vm" || { diag "$vm"; fail "$vm did not renew its ${LEASE}s lease"; }
done
past=$((STARTED + LEASE + 3 - SECONDS))   # past the end of the first leases
[ $past -le 0 ] || sleep $past
for vm in red-vm1 blue-vm1; do has_addr $vm 10.0.0.11/24 || fail "$vm lost 10.0.0.11 after renewing: $(addr_of $vm)"; done
for vm in red-vm2 blue-vm2; do has_addr $vm 10.0.0.12/24 || fail "$vm lost 10.0.0.12 after renewing: $(addr_of $vm)"; done
grep -Eq "^(EXPIRE|FAIL)" "$NT_TMP/red-vm1.events" "$NT_TMP/blue-vm2.events" && fail "a dhclient lease expired"
for vm in red-vm1 blue-vm2; do
  grep -q "^RENEW " "$NT_TMP/$vm.events" || { diag $vm; fail "$vm (dhclient) never renewed by unicast to its server"; }
  [ "$(counter $vm port arp-reply)" -ge 1 ] || fail "$vm never resolved its server's address"
done
for vm in red-vm1 red-vm2 blue-vm1 blue-vm2; do
  [ "$(counter $vm port REQUEST)" -gt "${BOUND_REQUESTS[$vm]}" ] || fail "$vm: no renewal REQUEST counted"
done
pass "leases of ${LEASE}s renewed by unicast to the server (resolved by the datapath's ARP answer), addresses kept"

# ---- a stale address is NAKed, then the right one is obtained -------------------------------------
stop_client red-vm1
in_ns red-vm1 ip addr flush dev eth0
rm -f "$NT_TMP/red-vm1.events"
cat >"$NT_TMP/red-vm1.leases" <<'EOF'
lease {
  interface "eth0";
  fixed-address 10.0.0.99;
  option subnet-mask 255.255.255.0;
  option dhcp-server-identifier 10.0.0.253;
  renew 4 2037/01/01 00:00:00;
  rebind 4 2037/01/01 00:00:00;
  expire 4 2037/01/01 00:00:00;
}
EOF
naks=$(counter red-vm1 port NAK)
start_dhclient red-vm1
rm -f "$NT_TMP/red-vm1.lease"
wait_for 40 "address after NAK" bound_to red-vm1 10.0.0.11 || { diag red-vm1; fail "red-vm1 got no address after its stale lease"; }
[ "$(counter red-vm1 port NAK)" -gt "$naks" ] || { diag red-vm1; fail "the stale 10.0.0.99 was not NAKed"; }
grep -q "DHCPNAK" "$NT_TMP/red-vm1.out" || fail "dhclient did not see the NAK"
pass "dhclient asking for a stale 10.0.0.99 is NAKed and then gets 10.0.0.11"

# ---- release ----------------------------------------------------------------------------------------
# dhclient sends its RELEASE by unicast to the server (blue's DHCP port).
releases=$(counter blue-vm2 port RELEASE)
stop_client blue-vm2
in_ns blue-vm2 timeout 20 dhclient -4 -r -v -cf "$NT_TMP/dhclient.conf" -sf "$NT_TMP/blue-vm2.dhclient.sh" \
  -lf "$NT_TMP/blue-vm2.leases" -pf "$NT_TMP/blue-vm2.pid" eth0 >>"$NT_TMP/blue-vm2.out" 2>&1 || fail "dhclient -r"
[ "$(counter blue-vm2 port RELEASE)" -gt "$releases" ] || { diag blue-vm2; fail "the RELEASE was not counted"; }
[ -z "$(addr_of blue-vm2)" ] || fail "blue-vm2 kept its address after releasing it"
[ "$(drop_count dhcp-consumed)" -ge 1 ] || fail "the RELEASE was not consumed by the datapath"
pass "a RELEASE is taken by the datapath (counted, not flooded to the network)"

# ---- scale: a thousand DHCP networks, no DHCP process, no namespace -------------------------------------
N=1000
python3 - "$STATE" "$NT_TMP/scale.json" "$NT_TMP/links.batch" "$N" <<'PY'
import json, sys
state, out, batch, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = json.load(open(state))
links = []
for i in range(n):
    net = f"5ca1e000-0000-4000-8000-{i:012x}"
    sub = f"5ca1e001-0000-4000-8000-{i:012x}"
    port = f"5ca1e002-0000-4000-8000-{i:012x}"
    mac = f"fa:16:3f:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"
    s["networks"].append({"id": net, "name": f"scale-{i}", "provider:network_type": "local", "mtu": 1500})
    s["subnets"].append({"id": sub, "name": f"scale-{i}-v4", "network_id": net, "ip_version": 4,
                         "cidr": "10.0.0.0/24", "gateway_ip": "10.0.0.1", "enable_dhcp": True,
                         "dns_nameservers": ["10.0.0.53"],
                         "allocation_pools": [{"start": "10.0.0.10", "end": "10.0.0.200"}]})
    s["ports"].append({"id": port, "name": f"scale-{i}", "network_id": net, "mac_address": mac,
                       "fixed_ips": [{"subnet_id": sub, "ip_address": f"10.0.0.{10 + i % 190}"}],
                       "security_groups": [], "port_security_enabled": False,
                       "binding:host_id": "dhcp-host", "device_owner": "compute:nova",
                       "interface_name": f"sc{i:04d}"})
    links.append(f"link add sc{i:04d} type veth peer name sp{i:04d} address {mac}")
    links.append(f"link set sc{i:04d} up")
    links.append(f"link set sp{i:04d} up")
json.dump(s, open(out, "w"))
open(batch, "w").write("\n".join(links) + "\n")
PY
ip -n "$PFX-host" -batch "$NT_TMP/links.batch" >/dev/null || fail "creating $N taps"
t0=$(date +%s%N)
nt apply "$NT_TMP/scale.json" >/dev/null || fail "applying $N DHCP networks"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
last=$((N - 1)); sc=$(printf 'sc%04d' $last); sp=$(printf 'sp%04d' $last)
dhcp_json "scale-$last" | python3 -c '
import json, sys; j = json.load(sys.stdin); sys.exit(0 if j["enabled"] and j["offer"]["address"] == sys.argv[1] else 1)' \
  "10.0.0.$((10 + last % 190))" || fail "scale-$last has no lease"
# One of them, for real: udhcpc on the peer of the last tap.
write_udhcpc_script scale
ip netns exec "$PFX-host" timeout 20 "${UDHCPC[@]}" -f -q -n -i "$sp" -s "$NT_TMP/scale.udhcpc.sh" -t 5 -T 1 \
  >"$NT_TMP/scale.out" 2>&1 || { cat "$NT_TMP/scale.out"; fail "udhcpc on the tap of network $N"; }
[ "$(lease_field scale ip)" = "10.0.0.$((10 + last % 190))" ] || fail "scale-$last got $(lease_field scale ip)"
entries=$(bpftool -j map dump pinned "$(ls -d /sys/fs/bpf/neutrino/$PFX/abi*)/maps/nt_dhcp" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$entries" -eq $((N + 4)) ] || fail "nt_dhcp holds $entries leases, want $((N + 4))"
# Every process in the sandbox's namespaces is one of the test's clients;
# there is no DHCP server process and no qdhcp namespace anywhere.
# A client's hook script (run at a renewal) and the commands it runs count
# as the client: a process is fine if it or an ancestor is one.
client_family() {
  local p=$1 c
  for _ in 1 2 3 4 5; do
    c=$(cat "/proc/$p/comm" 2>/dev/null) || return 0  # already gone
    case "$c" in dhclient|udhcpc|busybox|timeout) return 0 ;; esac
    p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null || echo 1)
    [ "$p" -gt 1 ] || return 1
  done
  return 1
}
for ns in $(ip netns list | awk '{print $1}' | grep "^$PFX-"); do
  for pid in $(ip netns pids "$ns"); do
    comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
    [ -z "$comm" ] || client_family "$pid" || fail "process $pid ($comm) runs in $ns"
  done
done
for p in dnsmasq dhcpd kea-dhcp4 udhcpd; do pgrep -a -x "$p" || true; done | grep -q qdhcp \
  && fail "a per-network DHCP server runs"
ip netns list | grep -q qdhcp- && fail "a qdhcp namespace exists"
nsn=$(ip netns list | awk '{print $1}' | grep -c "^$PFX-")
[ "$nsn" -eq $(( ${#VMS[@]} + 1 )) ] || fail "$nsn namespaces for $PFX, want the host and the ${#VMS[@]} VMs only"
pass "$((N + 2)) DHCP networks ($entries leases) applied in ${ms} ms; network $N answered; no DHCP process, no per-network namespace"

for vm in red-vm2 blue-vm1 blue-vm2; do stop_client "$vm"; done
"$NEUTRINO" demo down --state "$STATE" --prefix "$PFX" >/dev/null || fail "sandbox down"
pass "sandbox removed"
