#!/usr/bin/env bash
# `neutrino stats --prometheus` on a live sandbox: two VMs ping each other,
# one sends with a spoofed MAC; the exposition text must follow the format
# node_exporter's textfile collector reads and carry those counters.
source "$(dirname "$0")/lib.sh"

# A small state: the demo's red network with two of its VMs.
python3 - "$NT_SOURCE_DIR/examples/demo.json" >"$NT_TMP/state.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
s["ports"] = [p for p in s["ports"] if p["name"] in ("red-vm1", "red-vm2")]
nets = {p["network_id"] for p in s["ports"]}
s["networks"] = [n for n in s["networks"] if n["id"] in nets]
s["subnets"] = [n for n in s["subnets"] if n["network_id"] in nets]
s["routers"], s["floatingips"] = [], []
s["hosts"][0]["physical_interface_mappings"] = {}
json.dump(s, sys.stdout)
EOF
"$NEUTRINO" demo up --state "$NT_TMP/state.json" --prefix "$PFX" >"$NT_TMP/up.txt" \
  || { cat "$NT_TMP/up.txt"; fail "demo up"; }
pass "sandbox up: red-vm1, red-vm2"

in_ns red-vm1 ping -c 3 -i 0.2 -W 1 -q 10.0.0.12 >/dev/null || fail "red-vm1 -> red-vm2"
mac=$(vm_mac red-vm2)
in_ns red-vm2 ip link set eth0 address 02:00:00:00:00:99
in_ns red-vm2 ping -c 2 -i 0.2 -W 1 -q 10.0.0.11 >/dev/null 2>&1 && fail "spoofed MAC got through"
in_ns red-vm2 ip link set eth0 address "$mac"
pass "3 pings answered, 2 sent with a spoofed MAC"

nt stats --prometheus >"$NT_TMP/metrics.prom" || fail "stats --prometheus"
nt stats -o json >"$NT_TMP/stats.json"
python3 - "$NT_TMP/metrics.prom" "$NT_TMP/stats.json" <<'EOF' || fail "exposition text: see above"
import json, re, sys
text = open(sys.argv[1]).read()
drops_json = {r["reason"]: r["packets"] for r in json.load(open(sys.argv[2]))}
assert text.endswith("\n"), "no final newline"
name = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(rf"({name})(?:\{{((?:{label})(?:,{label})*)?\}})? ([0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)")
help_ = re.compile(rf"# HELP ({name}) .+")
type_ = re.compile(rf"# TYPE ({name}) (counter|gauge|untyped|summary|histogram)")
helped, typed, seen, values = set(), None, set(), {}
for n, line in enumerate(text.splitlines(), 1):
    if m := help_.fullmatch(line):
        assert m[1] not in helped, f"line {n}: second HELP for {m[1]}"
        helped.add(m[1])
    elif m := type_.fullmatch(line):
        assert m[1] in helped and m[2] == "counter", f"line {n}: {line}"
        typed = m[1]
    elif m := sample.fullmatch(line):
        assert m[1] == typed, f"line {n}: sample of {m[1]} outside its family ({typed})"
        assert m[1].startswith("neutrino_") and m[1].endswith("_total"), f"line {n}: {m[1]}"
        labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m[2] or ""))
        key = (m[1], tuple(sorted(labels.items())))
        assert key not in seen, f"line {n}: duplicate series"
        seen.add(key)
        values[key] = int(m[3])
    else:
        raise AssertionError(f"line {n} is not in the exposition format: {line!r}")

def get(metric, **labels):
    hits = [v for (m, l), v in values.items() if m == metric and labels.items() <= dict(l).items()]
    assert len(hits) == 1, f"{metric}{labels}: {len(hits)} series"
    return hits[0]

spoofed = get("neutrino_drop_packets_total", reason="spoofed-mac")
assert spoofed >= 2 and spoofed == drops_json["spoofed-mac"], f"spoofed-mac {spoofed}, json {drops_json['spoofed-mac']}"
# Each spoofed frame is at least an ARP request (42 bytes): a VM whose
# neighbour entry went stale sends ARP with the spoofed MAC, not the ping.
assert get("neutrino_drop_bytes_total", reason="spoofed-mac") >= spoofed * 42
for reason, packets in drops_json.items():
    assert get("neutrino_drop_packets_total", reason=reason) == packets, reason
assert get("neutrino_port_from_vm_packets_total", name="red-vm1") >= 3
assert get("neutrino_port_to_vm_packets_total", name="red-vm2") >= 3
assert get("neutrino_port_dropped_packets_total", name="red-vm2") >= 2
print(f"{len(values)} series in {len(helped)} families; spoofed-mac {spoofed}")
EOF
pass "exposition format, spoofed-mac drops and port counters present ($(grep -c '^neutrino_' "$NT_TMP/metrics.prom") samples)"
