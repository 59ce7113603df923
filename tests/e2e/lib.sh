# Shared helpers for the end-to-end tests. Source it; it sets -eu, checks
# that the test can run at all (root, tools, the binary) and FAILS loudly when
# it cannot, gives the run a unique prefix and removes everything the test
# made on any exit: namespaces with that prefix and the instance's pins.
set -euo pipefail

: "${NEUTRINO:?set NEUTRINO to the neutrino binary (ctest does)}"
: "${NT_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }

[ "$(id -u)" -eq 0 ] || fail "end-to-end tests need root (network namespaces, BPF); run as root"
for tool in ip ping arping tcpdump iperf3 nc python3 tc bpftool timeout; do
  command -v "$tool" >/dev/null || fail "missing tool '$tool' (tools/setup.sh installs it)"
done
[ -x "$NEUTRINO" ] || fail "neutrino binary not found at $NEUTRINO"

# Unique per run: namespaces, instance and pin directory all carry it.
PFX="nte$$$(printf '%04x' $((RANDOM)))"
NT_PIDS=()

kill_tree() {
  local child
  for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  # A background `in_ns cmd &` is a subshell whose child is the command:
  # end the whole tree of each process this test started.
  for pid in "${NT_PIDS[@]}"; do kill_tree "$pid"; done
  # The instance of a one-host sandbox is $PFX, those of several hosts $PFX-<host>.
  for inst in "$PFX" $(ls /sys/fs/bpf/neutrino 2>/dev/null | grep "^$PFX-" || true); do
    "$NEUTRINO" --instance "$inst" destroy >/dev/null 2>&1 || true
  done
  for ns in $(ip netns list | awk '{print $1}' | grep "^$PFX-" || true); do ip netns del "$ns" || true; done
  rm -rf "/sys/fs/bpf/neutrino/$PFX" "${NT_TMP:-/nonexistent}"
  rmdir /sys/fs/bpf/neutrino 2>/dev/null || true
  exit $rc
}
trap cleanup EXIT INT TERM
NT_TMP=$(mktemp -d)

nt() { "$NEUTRINO" --instance "$PFX" --netns "$PFX-host" "$@"; }
in_ns() { local ns=$1; shift; ip netns exec "$PFX-$ns" "$@"; }

# MAC of a VM's eth0.
vm_mac() { in_ns "$1" cat /sys/class/net/eth0/address; }

# Starts a bounded tcpdump in a namespace writing to a file; prints its PID.
start_capture() {  # ns file filter...
  local ns=$1 file=$2; shift 2
  in_ns "$ns" timeout 20 tcpdump -i eth0 -n -U -w "$file" "$@" >/dev/null 2>&1 &
  local pid=$!
  NT_PIDS+=("$pid")
  sleep 1  # let tcpdump open its socket
  echo "$pid"
}
stop_capture() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
capture_count() { tcpdump -r "$1" -n 2>/dev/null | wc -l; }

# Number of BPF links (any kind) that hold one of the given program ids.
# bpftool from Debian 12 predates tcx and cannot name the hook, but it lists
# the links and their programs.
links_of_progs() {
  bpftool link show -j | python3 -c '
import json, sys
ids = {int(x) for x in sys.argv[1:]}
print(sum(1 for l in json.load(sys.stdin) if l.get("prog_id") in ids))' "$@"
}
instance_prog_ids() {
  nt status -o json | python3 -c '
import json,sys; print(" ".join(sorted({str(a["prog_id"]) for a in json.load(sys.stdin)["attachments"]})))'
}

HELPERS="$NT_SOURCE_DIR/tests/e2e/helpers"

# Packets counted for one drop reason (e.g. spoofed-ip) in this instance.
drop_count() {
  nt stats -o json | python3 -c '
import json, sys
print(sum(r["packets"] for r in json.load(sys.stdin) if r["reason"] == sys.argv[1]))' "$1"
}

# Runs a command in the background inside a VM namespace, bounded in time;
# its PID is killed on exit.
bg_in_ns() {  # ns seconds command...
  local ns=$1 secs=$2; shift 2
  in_ns "$ns" timeout "$secs" "$@" >/dev/null 2>&1 &
  NT_PIDS+=($!)
}

# Hooks of this instance still in place: tcx links holding its programs, or
# (kernels without tcx) its cls_bpf filters on the given interfaces.
attached_hooks() {  # prog_ids... -- ifnames...
  local ids=() ifs=() seen=0
  for a in "$@"; do
    if [ "$a" = "--" ]; then seen=1; continue; fi
    if [ $seen -eq 0 ]; then ids+=("$a"); else ifs+=("$a"); fi
  done
  local links; links=$(links_of_progs "${ids[@]}")
  local filters=0 dir
  for i in "${ifs[@]}"; do
    for dir in ingress egress; do
      ip netns exec "$PFX-host" tc filter show dev "$i" "$dir" 2>/dev/null | grep -q 'tap_\(in\|e\)gress' && filters=$((filters + 1))
    done
  done
  echo $((links + filters))
}

# Waits (bounded) until something listens on a TCP port inside a VM namespace.
wait_listen() {  # ns port
  for _ in $(seq 1 50); do
    in_ns "$1" ss -ltnH "sport = :$2" 2>/dev/null | grep -q LISTEN && return 0
    sleep 0.1
  done
  fail "nothing listens on $2 in $1"
}

# Who connected, as the server sees it (NAT at work): a TCP server in a
# namespace that answers every connection with the peer's "address:port",
# bounded in time, and the client side that prints that answer.
peer_server() {  # ns listen-address port [seconds]
  in_ns "$1" timeout "${4:-60}" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
while True:
    c, a = s.accept(); c.sendall(("%s:%d" % a).encode()); c.close()' "$2" "$3" >/dev/null 2>&1 &
  NT_PIDS+=($!)
  wait_listen "$1" "$3"
}
peer_seen() {  # client-ns address port
  in_ns "$1" timeout 5 python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3); print(s.recv(64).decode())' "$2" "$3"
}

# What a UDP socket in a namespace learns from one datagram to address:port:
# "refused" (an ICMP port unreachable reached it), "answered" or "timeout".
udp_probe() {  # ns address port
  in_ns "$1" timeout 5 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
s.connect((sys.argv[1], int(sys.argv[2])))
try:
    s.send(b"x"); s.recv(16); print("answered")
except ConnectionRefusedError: print("refused")
except socket.timeout: print("timeout")' "$2" "$3" || true
}

# TCP throughput from one VM namespace to a server address in another, as
# bit/s (0 on failure): a one-shot iperf3 server, a 2-second bounded client.
iperf_bps() {
  local client=$1 server=$2 addr=$3
  in_ns "$server" timeout 20 iperf3 -s -1 -B "$addr" >/dev/null 2>&1 &
  NT_PIDS+=($!)
  sleep 0.5
  in_ns "$client" timeout 20 iperf3 -c "$addr" -t 2 -J 2>/dev/null | python3 -c '
import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))' || echo 0
}

# The outside of the routing sandbox (tests/fixtures/e2e-routing.json): the
# sandbox's namespace $PFX-ext on the "public" physnet bridge holds the
# external subnet's gateway 172.31.208.1; add a host beyond it, 198.51.100.7.
routing_outside_up() {
  [ "$(in_ns ext ip -4 -o addr show dev ext0 | awk '{print $4}')" = 172.31.208.1/24 ] \
    || fail "the sandbox's outside namespace does not hold the external gateway 172.31.208.1"
  in_ns ext ip addr add 198.51.100.7/32 dev lo
}
