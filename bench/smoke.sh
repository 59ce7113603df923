#!/usr/bin/env bash
# bench.smoke (CTest): the quick mode of bench/run runs every section and
# writes a results file holding all of them. It checks that the bench ran and
# that every measured path was the intended one (a failed cell fails the
# smoke), never how fast anything was.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$here/run" --quick --out "$tmp/results.md"
python3 - "$tmp/results.md" "$tmp/results.json" <<'PY'
import json, sys
md, js = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
problems = []
for head in ("### Goals", "### 1. Per-packet", "### 2. Throughput", "### 3. Control plane", "### 4. Scaling"):
    if head not in md:
        problems.append("results file lacks section '%s'" % head)
pkt, tr, ctl = js["per_packet"], js["throughput"], js["control_plane"]
if not pkt.get("floor", {}).get("ns"):
    problems.append("per-packet: no floor measured (%s)" % pkt.get("error"))
measured = [c for c in pkt.get("cases", []) if c["status"] == "measured"]
if not measured:
    problems.append("per-packet: nothing measured")
for c in pkt.get("cases", []):
    if c["status"] == "failed":
        problems.append("per-packet %s failed: %s" % (c["name"], c.get("error")))
cells = tr.get("cells", [])
for dp in ("reference", "neutrino"):
    if not any(c["dataplane"] == dp and c["status"] == "measured" for c in cells):
        problems.append("throughput: no %s cell measured (%s)" % (dp, tr.get("error")))
for c in cells:
    if c["status"] == "failed":
        problems.append("throughput %s %s %s N=%s failed: %s" % (c["dataplane"], c["direction"], c["proto"],
                                                                c["rules"], c.get("error")))
states = ctl.get("states", [])
if not states:
    problems.append("control plane: no state measured (%s)" % ctl.get("error"))
for st in states:
    if st["reference"].get("status") != "measured":
        problems.append("control plane reference %sx%s: %s" % (st["ports"], st["rules"], st["reference"].get("error")))
    for mode in ("tcx", "cls"):
        m = st["neutrino"].get(mode, {})
        if m.get("status") == "failed":
            problems.append("control plane neutrino %s %sx%s: %s" % (mode, st["ports"], st["rules"], m.get("error")))
    if "stages" not in st["neutrino"].get("breakdown", {}):
        problems.append("control plane breakdown %sx%s: %s" % (st["ports"], st["rules"],
                                                               st["neutrino"].get("breakdown", {}).get("error")))
if problems:
    print("bench smoke FAILED:\n  " + "\n  ".join(problems))
    sys.exit(1)
print("bench smoke ok: %d per-packet paths, %d throughput cells, %d control-plane states"
      % (len(measured), sum(1 for c in cells if c["status"] == "measured"), len(states)))
PY
