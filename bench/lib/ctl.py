"""Control-plane and scaling section.

For each state of P ports x R rules (tenants of 10 ports, one network and
one security group of R ingress rules + the default egress rule each; see
neutron_model.scale_model):

  reference  a fresh namespace; iptables-legacy-restore of the equivalent
             Neutron ruleset (filter + raw), then a Neutron-style update of
             one rule: iptables-save, edit, iptables-restore --noflush of the
             whole text, as neutron's IptablesManager does. Rule count and the
             kernel's rule blob size (IPT_SO_GET_INFO).
  neutrino   a fresh namespace with P taps (tuntap); `neutrino apply` from
             scratch (wall, CPU, peak RSS of the loader), the same one-rule
             change applied, `destroy`; in both TC attach modes (tcx, the
             default on this kernel, and cls_bpf). The BPF map entries and
             the kernel memory they take, read from the pinned maps. And an
             in-process breakdown of the apply stages (nt_bench_ctl).

Usage: ctl.py --out FILE [--quick] [--ports 100,1000,10000] [--rules 10,100]
"""

import argparse
import glob
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import common as C  # noqa: E402
import neutron_model as M  # noqa: E402

CTL = os.path.join(C.BENCH_BIN, "nt_bench_ctl")


def gen(tmp, ports, rules):
    nets, sgs, plist = M.scale_model(ports, rules)
    base = os.path.join(tmp, "cp-%d-%d" % (ports, rules))
    state = M.neutrino_state(nets, sgs, plist)
    with open(base + ".json", "w") as f:
        json.dump(state, f)
    with open(base + "-changed.json", "w") as f:
        json.dump(M.change_one_rule_state(state), f)
    text, count = M.iptables_rules(plist)
    with open(base + ".ipt", "w") as f:
        f.write(text)
    with open(base + ".taps", "w") as f:
        f.write("".join("tuntap add %s mode tap\n" % p.tap for p in plist))
    return base, count


def measured(r):
    return {k: r[k] for k in ("wall_s", "cpu_s", "user_s", "sys_s", "peak_rss_kb", "rc", "killed") if k in r}


def reference(base, count, ns, timeout):
    out = {"rules_expected": count}
    C.add_netns(ns)
    try:
        r = C.run_measured(C.nsx(ns, C.IPT + "-restore"), timeout, stdin_path=base + ".ipt")
        if r["rc"] != 0:
            raise C.Failed("iptables-restore: rc %s %s" % (r["rc"], r["stderr"][-300:]))
        out["restore"] = measured(r)
        size = json.loads(C.sh(C.nsx(ns, CTL, "ipt-size", "filter", "raw")).stdout)
        out["kernel"] = size
        out["rules"] = sum(t.get("rules", 0) for t in size.values())
        out["kernel_bytes"] = sum(t.get("kernel_bytes", 0) for t in size.values())

        # Neutron-style update: save, change one rule, restore the whole text.
        s = C.run_measured(C.nsx(ns, C.IPT + "-save"), timeout)
        if s["rc"] != 0:
            raise C.Failed("iptables-save: rc %s" % s["rc"])
        t0 = time.monotonic()
        changed = M.change_one_rule(s["stdout"])
        edit_s = time.monotonic() - t0
        path = base + ".ipt-changed"
        with open(path, "w") as f:
            f.write(changed)
        u = C.run_measured(C.nsx(ns, C.IPT + "-restore", "--noflush"), timeout, stdin_path=path)
        if u["rc"] != 0:
            raise C.Failed("iptables-restore --noflush: rc %s %s" % (u["rc"], u["stderr"][-300:]))
        out["update"] = {"save": measured(s), "edit_s": edit_s, "restore": measured(u),
                         "wall_s": s["wall_s"] + edit_s + u["wall_s"],
                         "cpu_s": s["cpu_s"] + u["cpu_s"],
                         "peak_rss_kb": max(s["peak_rss_kb"], u["peak_rss_kb"])}
        out["status"] = "measured"
    except C.Failed as e:
        out.update(status="failed", error=str(e))
    finally:
        C.del_netns(ns)
    return out


def abi_dir(instance):
    dirs = glob.glob("/sys/fs/bpf/neutrino/%s/abi*" % instance)
    return dirs[0] if dirs else None


def prog_ids(instance):
    r = C.sh([C.NEUTRINO, "--instance", instance, "-o", "json", "status"], check=False)
    try:
        return sorted({a["prog_id"] for a in json.loads(r.stdout).get("attachments", [])})
    except ValueError:
        return []


def wait_released(ids, timeout):
    """Seconds from the end of `destroy` until the kernel has freed the
    programs (every hook that held them is gone). `destroy` detaches tcx
    links before unpinning them, so this is ~0; it was ~21 s for 1,000 ports
    when unpinning alone left the release to a kernel worker."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        alive = [i for i in ids if C.sh(["bpftool", "prog", "show", "id", str(i)], check=False).returncode == 0]
        if not alive:
            return time.monotonic() - t0
        time.sleep(0.2)
    raise C.Failed("programs %s still loaded %ds after destroy" % (ids, timeout))


def neutrino_apply(base, ns, instance, mode, timeout, with_maps, destroy_timeout):
    """apply from scratch, the one-rule change, destroy; in one TC mode."""
    out = {"tc_mode": mode}
    cmd = [C.NEUTRINO, "--instance", instance, "--netns", ns, "--tc-mode", mode, "-o", "json", "apply"]
    C.register_instance(instance)
    try:
        r = C.run_measured(cmd + [base + ".json"], timeout)
        if r["rc"] != 0 or r["killed"]:
            raise C.Failed("apply (%s): rc %s %s" % (mode, r["rc"], r["stderr"][-300:]))
        res = json.loads(r["stdout"])
        out["apply"] = dict(measured(r), writes=res.get("writes"), ports=len(res.get("ports", [])),
                            pending=len(res.get("pending", [])), attached=len(res.get("attached", [])))
        if out["apply"]["pending"]:
            raise C.Failed("apply (%s): %d ports pending (taps missing)" % (mode, out["apply"]["pending"]))
        if with_maps:
            d = abi_dir(instance)
            out["maps"] = json.loads(C.sh([CTL, "maps", d]).stdout) if d else {"error": "no pins"}
        c = C.run_measured(cmd + [base + "-changed.json"], timeout)
        if c["rc"] != 0 or c["killed"]:
            raise C.Failed("apply change (%s): rc %s %s" % (mode, c["rc"], c["stderr"][-300:]))
        res = json.loads(c["stdout"])
        out["change_one_rule"] = dict(measured(c), writes=res.get("writes"), deletes=res.get("deletes"))
        ids = prog_ids(instance)
        d = C.run_measured([C.NEUTRINO, "--instance", instance, "destroy"], destroy_timeout)
        out["destroy"] = measured(d)
        if d["killed"]:
            out["destroy"]["note"] = "did not finish within %ds; stopped" % destroy_timeout
        else:
            out["destroy"]["released_after_s"] = wait_released(ids, destroy_timeout)
        out["status"] = "measured"
    except (C.Failed, ValueError) as e:
        out.update(status="failed", error=str(e))
    return out


def neutrino(base, ns, instance, modes, timeout, destroy_timeout):
    """Each mode in a namespace of its own, made fresh with the P taps."""
    out = {}
    for i, mode in enumerate(modes):
        nsm = "%s-%s" % (ns, mode)
        inst = "%s-%s" % (instance, mode)
        C.add_netns(nsm)
        try:
            t0 = time.monotonic()
            C.sh(["ip", "-n", nsm, "-batch", base + ".taps"], timeout=600)
            out["taps_created_s"] = time.monotonic() - t0
            out[mode] = neutrino_apply(base, nsm, inst, mode, timeout, (i == 0), destroy_timeout)
        except C.Failed as e:
            out[mode] = {"status": "failed", "error": str(e)}
        finally:
            # The devices go first, then whatever is left of the instance.
            C.del_netns(nsm)
            C.destroy_instance(inst)
    b = C.run_measured([CTL, "breakdown", base + ".json"], timeout)
    out["breakdown"] = json.loads(b["stdout"]) if b["rc"] == 0 else {"error": b["stderr"][-300:] or "rc %d" % b["rc"]}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--ports")
    ap.add_argument("--rules")
    ap.add_argument("--tmp", default="/tmp")
    ap.add_argument("--timeout", type=float, default=900, help="bound of each apply / restore")
    ap.add_argument("--destroy-timeout", type=float, default=240, help="bound of each destroy")
    ap.add_argument("--tcx-max-ports", type=int, default=1000,
                    help="largest port count applied in tcx mode (each tcx attach and detach waits for "
                         "an RCU grace period in the kernel, ~13 ms here)")
    a = ap.parse_args()
    ports = [int(x) for x in (a.ports or ("100" if a.quick else "100,1000,10000")).split(",")]
    rules = [int(x) for x in (a.rules or ("10" if a.quick else "10,100")).split(",")]
    C.install_signal_cleanup()
    doc = {"iptables": C.IPT, "ports": ports, "rules": rules, "ports_per_network": 10,
           "tcx_max_ports": a.tcx_max_ports, "states": []}
    t0 = time.monotonic()
    try:
        for p in ports:
            for r in rules:
                base, count = gen(a.tmp, p, r)
                st = {"ports": p, "rules": r, "state_bytes": os.path.getsize(base + ".json")}
                C.log("state %d ports x %d rules: reference" % (p, r))
                st["reference"] = reference(base, count, "%s-cpr%d-%d" % (C.PREFIX, p, r), a.timeout)
                # cls first, then tcx (wait_released checks that each destroy really released
                # the programs before the next state starts).
                modes = ["cls", "tcx"] if p <= a.tcx_max_ports else ["cls"]
                C.log("state %d ports x %d rules: neutrino (%s)" % (p, r, ", ".join(modes)))
                st["neutrino"] = neutrino(base, "%s-cpn%d-%d" % (C.PREFIX, p, r), "%s-cp%d" % (C.PREFIX, p),
                                          modes, a.timeout, a.destroy_timeout)
                if p > a.tcx_max_ports:
                    st["neutrino"]["tcx"] = {"status": "skipped",
                                             "note": "over --tcx-max-ports: each tcx attach waits for an RCU "
                                                     "grace period, ~13 ms on this kernel (%d hooks)" % (2 * p)}
                doc["states"].append(st)
                for ext in (".json", "-changed.json", ".ipt", ".ipt-changed", ".taps"):
                    try:
                        os.unlink(base + ext)
                    except OSError:
                        pass
                _summary(st)
    finally:
        C.cleanup()
        doc["seconds"] = time.monotonic() - t0
        C.write_json(a.out, doc)


def _summary(st):
    ref, nt = st["reference"], st["neutrino"]
    parts = []
    if ref.get("status") == "measured":
        parts.append("ref restore %.2fs update %.2fs" % (ref["restore"]["wall_s"], ref["update"]["wall_s"]))
    for mode in ("tcx", "cls"):
        m = nt.get(mode, {})
        if m.get("status") == "measured":
            parts.append("nt %s apply %.2fs (cpu %.2fs, %d MB) change %.2fs" % (
                mode, m["apply"]["wall_s"], m["apply"]["cpu_s"], m["apply"]["peak_rss_kb"] // 1024,
                m["change_one_rule"]["wall_s"]))
        elif m:
            parts.append("nt %s %s %s" % (mode, m.get("status"), m.get("error", m.get("note", ""))))
    C.log("  " + "; ".join(parts))


if __name__ == "__main__":
    main()
