"""Merges the sections' JSON into one results document and renders it as
Markdown; optionally replaces the results block of bench/README.md.

Usage: report.py --dir SECTIONS_DIR --json OUT.json --md OUT.md [--readme README.md]

Every number printed comes from the section files; a cell without a
measurement says why (pending: which issue brings it; failed: the error;
skipped: the bound that skipped it).
"""

import argparse
import json
import os
import re

BEGIN, END = "<!-- bench-results:begin -->", "<!-- bench-results:end -->"


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        return {"error": "%s: %s" % (os.path.basename(path), e)}


def f0(x):
    return "{:,.0f}".format(x)


def f1(x):
    return "{:,.1f}".format(x)


def f2(x):
    return "{:,.2f}".format(x)


def ratio(a, b, fmt="%.2f"):
    if a is None or b is None or not b:
        return "–"
    return (fmt % (a / b)) + "x"


def mb(b):
    return "%.1f" % (b / 1048576.0)


def clean(text):
    """One table cell: no line breaks, no column separators."""
    return " ".join(str(text).split()).replace("|", "/")


def why(cell):
    st = cell.get("status")
    if st == "pending":
        issue = cell.get("issue", "?")
        if issue.startswith("bench: "):  # the feature exists; the bench does not measure it yet
            return "not measured yet (%s)" % issue[len("bench: "):]
        return "not implemented yet (issue: %s)" % issue
    if st == "failed":
        return "failed: %s" % clean(cell.get("error", "?"))[:160]
    if st == "skipped":
        return "skipped: %s" % clean(cell.get("note", ""))
    return st or "not run"


# ---- 1. per-packet ---------------------------------------------------------------

def pkt_section(pkt, out):
    out.append("### 1. Per-packet cost in the datapath (BPF_PROG_TEST_RUN)\n")
    if "error" in pkt and "cases" not in pkt:
        out.append("Not run: %s\n" % pkt["error"])
        return {}
    fl = pkt["floor"]["ns"]
    out.append("Repeat %s, median of %d trials; frame of %d bytes (64 on the wire). `x floor` is the "
               "cost over the trivial program's, timed in the same run (%.0f ns at the start, %.0f ns "
               "at the end)." % (f0(pkt["repeat"]), pkt["trials"], pkt["frame_bytes"], fl,
                                 pkt["floor"].get("ns_end_of_run", fl)))
    out.append("Rows marked *single* are timed over %s single runs (see \"What the numbers mean\"); "
               "every row's path was verified for every run by its trace verdict and counters.\n"
               % f0(pkt["single_runs"]))
    out.append("| path | ns/packet | x floor | timed | single-run figure |")
    out.append("|---|---:|---:|---|---:|")
    out.append("| floor: a program that only returns | %s | 1.0 | repeat | %s |"
               % (f1(fl), f1(pkt["floor_single"]["ns"])))
    by = {}
    for c in pkt["cases"]:
        by[c["name"]] = c
        if c["status"] == "measured":
            out.append("| %s | %s | %s | %s | %s |" % (c["path"], f1(c["ns"]), "%.1f" % c["ratio_to_floor"],
                                                       c["mode"], f1(c["ns_single"])))
        else:
            out.append("| %s | %s | | | |" % (c["path"], why(c)))
    out.append("")
    return by


# ---- 2. throughput ----------------------------------------------------------------

def traffic_section(tr, out):
    out.append("### 2. Throughput against the reference, same kernel, same run\n")
    if "cells" not in tr:
        out.append("Not run: %s\n" % tr.get("error", "?"))
        return {}
    out.append("Reference: per VM port tap -> qbr (Linux bridge, br_netfilter) -> qvb/qvo veth -> br-int "
               "(Linux bridge standing in for OVS), Neutron's neutron-openvswi-* chains and conntrack zones "
               "in %s; north-south through a qrouter namespace with the l3-agent's SNAT/DNAT. "
               "Neutrino: the same VMs on veth taps wired by `neutrino apply`; north-south through its "
               "distributed router (SNAT and the floating IP in the tap and uplink programs) and a physnet "
               "uplink veth to the external host. Per cell %d UDP / %d TCP "
               "trial(s) of %gs; the rate is the best trial (interference from other work only lowers it), "
               "CPU per packet the median. Sender and receiver pinned to CPUs %s and %s. N = security-group "
               "rules on the receiving port, all ahead of the rule that admits the traffic.\n"
               % (tr["iptables"], tr["trials"], tr.get("tcp_trials", tr["trials"]), tr["seconds_per_trial"],
                  tr["cpus"]["sender"], tr["cpus"]["receiver"]))
    cells = {}
    for c in tr["cells"]:
        cells[(c["dataplane"], c["direction"], c["proto"], c["rules"])] = c
    for direction in ("east-west", "north-south"):
        for proto in ("udp", "tcp"):
            if proto == "udp":
                title = "%s, small-packet UDP (one unreplied flow: every packet is conntrack NEW)" % direction
                if direction == "north-south":
                    title += ", from the external host to the VM's floating IP (DNAT)"
                unit, cpu_unit, key, ckey, fmt = "pps", "CPU ns/pkt", "pps", "cpu_ns_per_pkt", f0
            else:
                title = "%s, TCP (iperf3, one established connection)" % direction
                if direction == "north-south":
                    title += (", VM-initiated (the VM without a floating IP) through SNAT to the router's "
                              "gateway address, data flowing in")
                unit, cpu_unit, key, ckey, fmt = "Gbit/s", "CPU ns/1448 B", "gbps", "cpu_ns_per_seg", f2
            out.append("**%s**\n" % title)
            bare = cells.get(("bare veth", direction, proto, 0), {})
            bare_cpu = bare.get(ckey) if bare.get("status") == "measured" and direction == "east-west" else None
            out.append("| N | reference %s | reference %s | Neutrino %s | Neutrino %s | rate Neutrino/ref | "
                       "CPU Neutrino/ref | dataplane CPU Neutrino/ref |" % (unit, cpu_unit, unit, cpu_unit))
            out.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
            for n in tr["rules"]:
                r = cells.get(("reference", direction, proto, n), {})
                t = cells.get(("neutrino", direction, proto, n), {})

                def val(c, k, fm):
                    return fm(c[k]) if c.get("status") == "measured" else why(c)
                rr = r.get(key) if r.get("status") == "measured" else None
                tt = t.get(key) if t.get("status") == "measured" else None
                rc = r.get(ckey) if r.get("status") == "measured" else None
                tc = t.get(ckey) if t.get("status") == "measured" else None
                tcell = val(t, key, fmt)
                tccell = val(t, ckey, f0) if t.get("status") == "measured" else ""
                own = "–"
                if bare_cpu is not None and rc is not None and tc is not None and rc > bare_cpu:
                    own = ratio(max(tc - bare_cpu, 0), rc - bare_cpu)
                out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    f0(n), val(r, key, fmt), val(r, ckey, f0) if r.get("status") == "measured" else "",
                    tcell, tccell, ratio(tt, rr), ratio(tc, rc), own))
            b = cells.get(("bare veth", direction, proto, 0), {})
            if b.get("status") == "measured" and direction == "east-west":
                out.append("| bare veth, no dataplane | %s | %s | | | | | |" % (fmt(b[key]), f0(b[ckey])))
                out.append("\n`dataplane CPU`: CPU per packet minus the bare veth pair's, i.e. what the dataplane "
                           "itself costs over the VMs' own stacks.")
            notes = sorted({c.get("note") for (d, dd, p, n), c in cells.items()
                            if d == "neutrino" and dd == direction and p == proto and c.get("note")
                            and c.get("status") == "measured"})
            for n in notes:
                out.append("\nNeutrino: %s." % n)
            out.append("")
    return cells


# ---- 3 + 4. control plane and scaling -------------------------------------------------

def ctl_section(ctl, out):
    out.append("### 3. Control plane: apply from scratch, change one rule\n")
    if "states" not in ctl:
        out.append("Not run: %s\n" % ctl.get("error", "?"))
        return []
    out.append("P ports x R rules: tenants of %d ports with one network and one security group of R "
               "ingress rules (+ the default egress rule) each; Neutron's driver expands every rule into "
               "each port's chain. Reference: `%s-restore` into an empty namespace; update as Neutron's "
               "IptablesManager does it (save, edit one rule, restore the whole text with --noflush). "
               "Neutrino: `neutrino apply` into a namespace holding the P taps: parse, validate, compile, "
               "diff, map writes and 2 TC hooks per tap; the change is `apply` of the edited file. Times are "
               "wall clock; CPU and peak RSS of the process in parentheses.\n"
               % (ctl["ports_per_network"], ctl["iptables"]))
    out.append("| P x R | reference restore | reference update | Neutrino apply (tcx) | Neutrino apply (cls_bpf) "
               "| Neutrino change one rule | Neutrino destroy (cls / tcx, until the programs are released) "
               "| apply Neutrino/ref |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")

    def t(m):
        return "%ss (%ss, %s MB)" % (f2(m["wall_s"]), f2(m["cpu_s"]), f0(m["peak_rss_kb"] / 1024))

    for st in ctl["states"]:
        ref, nt = st["reference"], st["neutrino"]
        rcell = t(ref["restore"]) if ref.get("status") == "measured" else why(ref)
        ucell = t(ref["update"]) if ref.get("status") == "measured" else ""
        cells, change, destroy = [], "", []
        for mode in ("tcx", "cls"):
            m = nt.get(mode, {})
            if m.get("status") == "measured":
                cells.append(t(m["apply"]))
                c = m["change_one_rule"]
                if not change or mode == "tcx":
                    change = "%ss (%s writes, %s deletes)" % (f2(c["wall_s"]), c.get("writes"), c.get("deletes"))
            else:
                cells.append(why(m) if m else "not run")
        for mode in ("cls", "tcx"):
            m = nt.get(mode, {})
            if m.get("status") == "measured":
                d = m["destroy"]
                if d.get("killed"):
                    destroy.append("> %ss (stopped)" % f0(d["wall_s"]))
                else:
                    destroy.append("%ss" % f2(d["wall_s"] + d.get("released_after_s", 0)))
            else:
                destroy.append("–")
        # The default attach mode on this kernel is tcx; cls_bpf when tcx was not run.
        default = nt.get("tcx", {}) if nt.get("tcx", {}).get("status") == "measured" else nt.get("cls", {})
        rat = ratio(default.get("apply", {}).get("wall_s"), ref.get("restore", {}).get("wall_s")) \
            if default.get("status") == "measured" and ref.get("status") == "measured" else "–"
        out.append("| %s x %s | %s | %s | %s | %s | %s | %s | %s |" % (f0(st["ports"]), f0(st["rules"]), rcell, ucell,
                                                                      cells[0], cells[1], change, " / ".join(destroy),
                                                                      rat))
    out.append("")
    # where the apply time goes
    out.append("Where Neutrino's apply time goes (in-process, no taps: `nt_bench_ctl breakdown`, ms):\n")
    out.append("| P x R | JSON parse | parse_state | validate | compile | load programs | read maps + diff "
               "| map writes | total | one-rule change | writes | peak RSS |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for st in ctl["states"]:
        b = st["neutrino"].get("breakdown", {})
        if "stages" not in b:
            out.append("| %s x %s | %s |||||||||||" % (f0(st["ports"]), f0(st["rules"]),
                                                        "failed: " + clean(b.get("error", "?"))[:100]))
            continue
        s = b["stages"]
        out.append("| %s x %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s MB |" % (
            f0(st["ports"]), f0(st["rules"]), f0(s["json_parse_ms"]), f0(s["parse_state_ms"]),
            f0(s["validate_ms"]), f0(s["compile_ms"]), f0(s["load_programs_ms"]), f0(s["read_maps_and_diff_ms"]),
            f0(s["map_writes_ms"]), f0(b["total_ms"]), f0(b["change_one_rule"].get("ms", 0)), f0(b["writes"]),
            f0(b["peak_rss_kb"] / 1024)))
    out.append("")

    out.append("### 4. Scaling: kernel state for those states\n")
    out.append("BPF: entries of every hash/LPM map (counter arrays excluded) after the apply, and the kernel's "
               "own figure for the maps' memory (fdinfo `memlock`): what the state added, over what the maps take "
               "empty (hash bucket arrays, preallocated per-CPU counters), from `nt_bench_ctl breakdown`. "
               "iptables: rules and the rule blob the kernel holds (IPT_SO_GET_INFO), filter + raw.\n")
    out.append("| P x R | BPF map entries | BPF memory added by the state | BPF memory, maps empty | largest maps "
               "| iptables rules | iptables kernel memory | added BPF memory / iptables |")
    out.append("|---|---:|---:|---:|---|---:|---:|---:|")
    for st in ctl["states"]:
        ref, b = st["reference"], st["neutrino"].get("breakdown", {})
        if "bpf" in b and "bpf_empty" in b:
            full, empty = b["bpf"], b["bpf_empty"]
            grew = [(k, v.get("kernel_bytes", 0) - empty["maps"].get(k, {}).get("kernel_bytes", 0))
                    for k, v in full["maps"].items()]
            top = sorted(grew, key=lambda kv: -kv[1])[:3]
            tops = ", ".join("%s +%s MB" % (k, mb(v)) for k, v in top if v > 0)
            added = b["bpf_added_kernel_bytes"]
            cells = [f0(full["total_entries"]), mb(added) + " MB", mb(empty["total_kernel_bytes"]) + " MB", tops]
        else:
            added = None
            cells = ["not measured: %s" % clean(b.get("error", "?")), "", "", ""]
        if ref.get("status") == "measured":
            cells += [f0(ref["rules"]), mb(ref["kernel_bytes"]) + " MB", ratio(added, ref["kernel_bytes"])]
        else:
            cells += [why(ref), "", "–"]
        out.append("| %s x %s | %s |" % (f0(st["ports"]), f0(st["rules"]), " | ".join(cells)))
    out.append("")
    return ctl["states"]


# ---- goals ---------------------------------------------------------------------------

def goals_section(pkt_by, pkt, cells, states, out):
    out.append("### Goals\n")
    out.append("| goal | measured | met? |")
    out.append("|---|---|---|")

    def row(goal, measured, ok):
        out.append("| %s | %s | %s |" % (goal, measured, {True: "yes", False: "**no**", None: "pending"}[ok]))

    est = pkt_by.get("sg_established", {})
    fl = pkt.get("floor", {}).get("ns")
    if est.get("status") == "measured" and fl:
        r = est["ns"] / fl
        row("established-flow cost within 3x of the trivial floor",
            "%.0f ns vs %.0f ns: %.1fx" % (est["ns"], fl, r), r <= 3)
    else:
        row("established-flow cost within 3x of the trivial floor", why(est), None)

    new = pkt_by.get("sg_new_10000", {})
    if new.get("status") == "measured" and est.get("status") == "measured":
        r = new["ns"] / est["ns_single"]
        row("new flow at 10k rules within 2x of established",
            "%.0f ns vs %.0f ns (established, timed in single runs as the new flow is; %.0f ns repeated): %.1fx"
            % (new["ns"], est["ns_single"], est["ns"], r), r <= 2)
    else:
        row("new flow at 10k rules within 2x of established", why(new if est.get("status") == "measured" else est),
            None)

    def pps(dp, n, direction="east-west"):
        c = cells.get((dp, direction, "udp", n), {})
        return c.get("pps") if c.get("status") == "measured" else None

    a, b = pps("neutrino", 0), pps("reference", 0)
    if a and b:
        row("east-west small-packet rate >= 2x reference", "%s vs %s pps: %.2fx" % (f0(a), f0(b), a / b), a / b >= 2)
    else:
        row("east-west small-packet rate >= 2x reference", "not measured", None)

    def cpu(dp, n):
        c = cells.get((dp, "east-west", "udp", n), {})
        return c.get("cpu_ns_per_pkt") if c.get("status") == "measured" else None

    hi = max([n for (_, _, _, n) in cells] or [0])
    a0, an = pps("neutrino", 0), pps("neutrino", hi)
    r0, rn = pps("reference", 0), pps("reference", hi)
    ref_txt = "; the reference keeps %.0f%%" % (100 * rn / r0) if r0 and rn else ""
    if a0 and an and hi:
        c0, cn = cpu("neutrino", 0), cpu("neutrino", hi)
        row("%s rules keep >= 95%% of the 0-rule rate (east-west UDP)" % f0(hi),
            "%.0f%% of the rate, CPU per packet %+.0f%%%s" % (100 * an / a0, 100 * (cn / c0 - 1), ref_txt),
            an / a0 >= 0.95)
    else:
        c = cells.get(("neutrino", "east-west", "udp", hi), {})
        row("%s rules keep >= 95%% of the 0-rule rate" % f0(hi), why(c) + ref_txt, None)

    target = None
    for st in states:
        if st["ports"] == 1000 and st["rules"] == 100:
            target = st
    if target:
        nt = target["neutrino"]
        parts, ok = [], None
        for mode in ("tcx", "cls"):
            m = nt.get(mode, {})
            if m.get("status") == "measured":
                w = m["apply"]["wall_s"]
                parts.append("%s: %ss" % (mode, f2(w)))
                if mode == "tcx" or ok is None:
                    ok = w < 1
            elif m.get("status") == "failed":
                e = clean(m.get("error", "?"))
                parts.append("%s: failed: %s" % (mode, e.split("error: ", 1)[-1]))
                if mode == "tcx" or ok is None:
                    ok = False
        parts = sorted(set(parts), key=parts.index)
        if len(parts) == 2 and parts[0].split(": ", 1)[1] == parts[1].split(": ", 1)[1]:
            parts = ["both attach modes " + parts[0].split(": ", 1)[1]]
        full = capacity_note(states, target)
        if full:
            parts.append(full)
        row("1,000 ports x 100 rules applied in under a second (default attach mode: tcx)",
            "; ".join(parts) or "not measured", ok)
    else:
        row("1,000 ports x 100 rules applied in under a second", "not in this run (quick mode)", None)
    out.append("")


def capacity_note(states, target):
    """When a map ran out of room, how far off it is, from a smaller state
    of the same rules that did fit: entries per port x ports vs max_entries."""
    err = " ".join(str(target["neutrino"].get(m, {}).get("error", "")) for m in ("tcx", "cls"))
    m = re.search(r"write to (\w+): No space left on device", err)
    if not m:
        return ""
    name = m.group(1)
    for st in states:
        b = st["neutrino"].get("breakdown", {})
        if st["rules"] == target["rules"] and st["ports"] < target["ports"] and "bpf" in b:
            info = b["bpf"]["maps"].get(name)
            if info:
                per_port = info["entries"] / st["ports"]
                return ("%s holds %s entries; at %d rules a port needs %s (%s x %d state), so %s ports need ~%s"
                        % (name, f0(info["max_entries"]), target["rules"], f0(per_port), f0(st["ports"]),
                           st["rules"], f0(target["ports"]), f0(per_port * target["ports"])))
    return ""


def machine_section(m, out):
    out.append("Machine: %s, %s CPUs, %s GiB RAM, kernel %s, %s. %s\n" % (
        m.get("cpu_model", "?"), m.get("nproc", "?"), m.get("mem_gib", "?"), m.get("kernel", "?"),
        m.get("os", "?"), m.get("virt", "")))
    w = m.get("busy_window_s", 3)
    out.append("How quiet it was: the CPUs were %s%% busy in the %s s before the run and %s%% in the %s s after "
               "it (the latter includes the kernel still tearing down the run's namespaces); load average "
               "%s before, %s after. Other jobs share this machine's 2 CPUs, so rates are noisier than CPU "
               "time per packet.\n" % (m.get("busy_before_pct", "?"), w, m.get("busy_after_pct", "?"), w,
                                         m.get("load_before", "?"), m.get("load_after", "?")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--md", required=True)
    ap.add_argument("--readme")
    a = ap.parse_args()
    m = load(os.path.join(a.dir, "machine.json"))
    pkt = load(os.path.join(a.dir, "pkt.json"))
    tr = load(os.path.join(a.dir, "traffic.json"))
    ctl = load(os.path.join(a.dir, "ctl.json"))
    doc = {"machine": m, "per_packet": pkt, "throughput": tr, "control_plane": ctl}
    with open(a.json, "w") as f:
        json.dump(doc, f, indent=2)

    out = ["**%s run of %s, commit %s.**\n" % (m.get("mode", "?").capitalize(), m.get("date", "?"), m.get("commit", "?"))]
    machine_section(m, out)
    body = []
    pkt_by = pkt_section(pkt, body)
    cells = traffic_section(tr, body)
    states = ctl_section(ctl, body)
    goals_section(pkt_by, pkt if "floor" in pkt else {}, cells, states, out)
    out += body
    text = "\n".join(out)
    with open(a.md, "w") as f:
        f.write(text)
    if a.readme:
        with open(a.readme) as f:
            readme = f.read()
        if BEGIN in readme and END in readme:
            readme = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END),
                            lambda _: BEGIN + "\n" + text + "\n" + END, readme, flags=re.S)
            with open(a.readme, "w") as f:
                f.write(readme)


if __name__ == "__main__":
    main()
