#!/usr/bin/env bash
# bench.smoke (CTest, label bench): runs the quick mode of bench/run (a few
# seconds per item) and checks that every item produced a number: every
# per-packet path (BPF_PROG_TEST_RUN) and the floor, every throughput cell of
# the reference (iptables + Linux bridges) and of Neutrino (UDP sender and
# iperf3), every control-plane apply, change and destroy. A failed or missing
# item fails the smoke; how fast anything was never does. Then it checks that
# the run left nothing behind: no namespace or pin of its prefix, and the root
# namespace's links, iptables (legacy and nft) and the sysctls the bench sets
# inside its namespaces exactly as they were.
# Needs root: without it the smoke fails (it is not skipped).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

fail() { echo "bench.smoke FAILED: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (network namespaces, iptables, BPF); the bench did not run"

export BENCH_PREFIX="ntbs$$$(printf '%04x' $((RANDOM)))"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# What the bench must leave as it was in the root namespace. Counters are
# cut from the iptables dumps (traffic of others moves them).
root_state() {
  echo "# links"
  ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | sort
  echo "# sysctls"
  for k in net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables \
           net.bridge.bridge-nf-call-arptables net.ipv4.ip_forward net.ipv4.conf.all.forwarding \
           net.ipv6.conf.all.disable_ipv6 net.ipv6.conf.default.disable_ipv6; do
    echo "$k=$(sysctl -n "$k" 2>/dev/null || echo absent)"
  done
  echo "# x_tables"
  cat /proc/net/ip_tables_names /proc/net/ip6_tables_names 2>/dev/null | sort
  for save in iptables-legacy-save ip6tables-legacy-save iptables-nft-save ip6tables-nft-save; do
    echo "# $save"
    command -v "$save" >/dev/null || continue
    "$save" 2>/dev/null | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//g' || true
  done
}

root_state >"$tmp/root-before"
t0=$SECONDS
# Bounded below CTest's own timeout, by SIGTERM, so bench/run's clean-up runs.
timeout --signal=TERM --kill-after=40 170 "$here/run" --quick --out "$tmp/results.md" ||
  fail "bench/run --quick exited $? (its log is above; 124: it ran out of its 170 s)"
echo "bench.smoke: bench/run --quick took $((SECONDS - t0)) s"
root_state >"$tmp/root-after"

problems=()
if ! diff -u "$tmp/root-before" "$tmp/root-after" >"$tmp/root.diff"; then
  problems+=("the root namespace changed during the run:$(sed 's/^/\n    /' "$tmp/root.diff")")
fi
left=$(ip netns list | awk '{print $1}' | grep "^$BENCH_PREFIX" || true)
[ -z "$left" ] || problems+=("namespaces left behind: $(echo $left)")
pins=$(ls -d /sys/fs/bpf/neutrino/"$BENCH_PREFIX"* 2>/dev/null || true)
[ -z "$pins" ] || problems+=("pins left behind: $(echo $pins)")

report=$(python3 - "$tmp/results.md" "$tmp/results.json" <<'PY'
import json, sys
md, js = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
problems = []

def number(v):
    return isinstance(v, (int, float)) and v > 0

for head in ("### Goals", "### 1. Per-packet", "### 2. Throughput", "### 3. Control plane", "### 4. Scaling"):
    if head not in md:
        problems.append("results file lacks section '%s'" % head)

# 1. per packet: the floor and every path either measured or a pending row
pkt = js.get("per_packet", {})
if not number(pkt.get("floor", {}).get("ns")):
    problems.append("per-packet: no floor measured (%s)" % pkt.get("error"))
cases = pkt.get("cases", [])
if not cases:
    problems.append("per-packet: no case ran (%s)" % pkt.get("error"))
for c in cases:
    if c["status"] == "pending":
        continue
    if c["status"] != "measured" or not number(c.get("ns")):
        problems.append("per-packet %s: %s %s" % (c["name"], c["status"], c.get("error", "no number")))
measured = [c for c in cases if c["status"] == "measured"]
# Paths that exist in the datapath must have a row that is not pending (the
# loop above checks that a non-pending row has its number): the L2, security,
# tunnel and DHCP rows, and routing, SNAT (out and reply), DNAT.
by_name = {c["name"]: c for c in cases}
for name in ("l2_forward", "arp_reply", "sg_established", "vxlan_encap", "gre_decap", "dhcp_reply",
             "routed", "snat", "snat_reply", "dnat"):
    if cases and name not in by_name:
        problems.append("per-packet %s: no such row" % name)
    elif cases and by_name[name]["status"] == "pending":
        problems.append("per-packet %s: still pending" % name)

# 2. throughput: every cell the quick mode plans, each with a rate and CPU
tr = js.get("throughput", {})
cells = tr.get("cells", [])
rules = tr.get("rules", [])
want = [("bare veth", "east-west", p, 0) for p in ("udp", "tcp")]
want += [("reference", d, p, n) for n in rules for d in ("east-west", "north-south") for p in ("udp", "tcp")]
want += [("neutrino", d, p, n) for n in rules for d in ("east-west", "north-south") for p in ("udp", "tcp")]
by_key = {(c["dataplane"], c["direction"], c["proto"], c["rules"]): c for c in cells}
if not cells:
    problems.append("throughput: no cell ran (%s)" % tr.get("error"))
for key in want:
    c = by_key.get(key)
    name = "throughput %s %s %s N=%d" % key
    if c is None:
        problems.append("%s: missing" % name)
    elif c["status"] != "measured":  # pending included: north-south through Neutrino's NAT is wired
        problems.append("%s: %s %s" % (name, c["status"], c.get("error", "")))
    else:
        rate, cpu = ("pps", "cpu_ns_per_pkt") if c["proto"] == "udp" else ("gbps", "cpu_ns_per_seg")
        if not (number(c.get(rate)) and number(c.get(cpu))):
            problems.append("%s: no %s or %s" % (name, rate, cpu))
for n in rules:
    c = by_key.get(("reference", "east-west", "udp", n), {})
    if n and not number(c.get("iptables_rules")):
        problems.append("throughput reference N=%d: no iptables rules were loaded" % n)
for dp in ("reference", "neutrino"):
    if not any(c["dataplane"] == dp and c["status"] == "measured" for c in cells):
        problems.append("throughput: no %s cell measured" % dp)

# 3. and 4. control plane and scaling
ctl = js.get("control_plane", {})
states = ctl.get("states", [])
if not states:
    problems.append("control plane: no state measured (%s)" % ctl.get("error"))
for st in states:
    name = "control plane %sx%s" % (st["ports"], st["rules"])
    ref, nt = st["reference"], st["neutrino"]
    if ref.get("status") != "measured" or not (number(ref["restore"]["wall_s"]) and number(ref["update"]["wall_s"])):
        problems.append("%s reference: %s" % (name, ref.get("error", "no restore/update time")))
    for mode in ("cls", "tcx"):
        m = nt.get(mode, {})
        if m.get("status") == "skipped":
            continue
        if m.get("status") != "measured":
            problems.append("%s neutrino %s: %s" % (name, mode, m.get("error", m.get("status"))))
            continue
        for step in ("apply", "change_one_rule", "destroy"):
            if not number(m.get(step, {}).get("wall_s")):
                problems.append("%s neutrino %s: no %s time" % (name, mode, step))
    if "stages" not in nt.get("breakdown", {}):
        problems.append("%s breakdown: %s" % (name, nt.get("breakdown", {}).get("error")))
    if not any(nt.get(m, {}).get("maps") for m in ("cls", "tcx")):
        problems.append("%s: no map entries/memory read" % name)

for p in problems:
    print("PROBLEM " + p)
print("SUMMARY %d per-packet paths, %d throughput cells, %d control-plane states" % (
    len(measured), sum(1 for c in cells if c["status"] == "measured"), len(states)))
PY
) || problems+=("the results could not be read")
while IFS= read -r line; do
  case "$line" in PROBLEM\ *) problems+=("${line#PROBLEM }") ;; esac
done <<<"$report"

if [ ${#problems[@]} -gt 0 ]; then
  printf 'bench.smoke FAILED:\n' >&2
  printf '  %s\n' "${problems[@]}" >&2
  exit 1
fi
echo "bench.smoke ok: $(grep '^SUMMARY' <<<"$report" | cut -d' ' -f2-), nothing left behind"
