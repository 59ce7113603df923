"""Throughput section: the Neutron reference plumbing and Neutrino, side by
side on this kernel, east-west on one host and north-south through NAT.

  reference  host namespace with, per VM port, tap -> qbr (Linux bridge,
             br_netfilter on) -> qvb/qvo veth -> br-int (a Linux bridge
             standing in for OVS, netfilter off as OVS is), Neutron's
             neutron-openvswi-* chains and conntrack zones (iptables-legacy);
             a qrouter namespace (qr- on br-int, qg- on br-ex) with the
             l3-agent's SNAT/DNAT rules; an "external" namespace on br-ex.
  neutrino   host namespace with one veth tap per VM, wired by
             `neutrino --netns HOST apply` (no bridge, no iptables); north-
             south through its distributed router (SNAT, floating IP in the
             tap and uplink programs) and a physnet uplink veth whose peer
             is the "external" namespace's interface.

VMs are namespaces whose eth0 is the tap's peer. Per cell: small-packet UDP
(nt_udp_flood, one unreplied flow, so every packet is conntrack state NEW and
walks the receiving port's rules) and TCP (iperf3, established). Sender and
receiver are pinned to different CPUs; CPU time is the sender's + the
receiver's (wait4, includes the softirq work done in their context) + the
ksoftirqd threads' over the cell.

Every trial is bounded: the UDP sender by --seconds and --max-packets
(whichever comes first), iperf3 by -t (it takes only one end condition) and
every process by a timeout a few seconds past that.

Usage: traffic.py --out FILE [--quick] [--rules 0,100,1000,10000] [--max-packets N]
"""

import argparse
import json
import os
import select
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import common as C  # noqa: E402
import neutron_model as M  # noqa: E402

FLOOD = os.path.join(C.BENCH_BIN, "nt_udp_flood")
TX_CPU, RX_CPU = "0", "1"
if os.cpu_count() == 1:
    TX_CPU = RX_CPU = "0"

EXT_IP, GW_IP, FIP, EXT_PREFIX = "172.24.0.100", "172.24.0.2", "172.24.0.10", "24"
ROUTER_PORT_ID = "d1a40252-8b00-4000-8000-000000000001"
GW_PORT_ID = "2fe564e2-cd00-4000-8000-000000000002"

# North-south TCP from the VM without a floating IP (tx): default SNAT to the
# router's gateway address, stateful on both dataplanes (rx, with the
# floating IP, would leave through its 1:1 mapping instead).
NS_TCP_PATH = "VM without floating IP -> external (SNAT), data flowing in (iperf3 -R)"
NT_UPLINK = "ntup0"  # Neutrino's physnet uplink in its host namespace; its peer is the external host's ext0

ISSUE_SG = "security groups and conntrack"

MAX_PACKETS = [0]  # per UDP trial (0: bounded by time only); set by main()


def wait_ready(p, timeout=5):
    """Waits for the receiver's "ready" line on stderr."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r, _, _ = select.select([p.stderr], [], [], 0.1)
        if r:
            line = p.stderr.readline()
            if b"ready" in line:
                return
            if not line:
                break
    raise C.Failed("receiver did not start")


def wait_listening(ns, port, timeout=5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        r = C.sh(C.nsx(ns, "ss", "-Hltn", "sport = :%d" % port), check=False)
        if r.stdout.strip():
            return
        time.sleep(0.05)
    raise C.Failed("iperf3 server did not listen")


def udp_cell(tx_ns, rx_ns, dst, src_port, seconds):
    ks = C.ksoftirqd_pids()
    ks0 = C.proc_cpu_s(ks)
    recv = C.start_measured(C.nsx(rx_ns, "taskset", "-c", RX_CPU, FLOOD, "recv", "--port",
                                  str(M.TRAFFIC_UDP_PORT), "--seconds", str(seconds + 5), "--idle-ms", "400"))
    wait_ready(recv)
    send = C.run_measured(C.nsx(tx_ns, "taskset", "-c", TX_CPU, FLOOD, "send", "--dst", dst, "--port",
                                str(M.TRAFFIC_UDP_PORT), "--src-port", str(src_port), "--seconds",
                                str(seconds), "--max-packets", str(MAX_PACKETS[0])), timeout=seconds + 10)
    r = C.finish_measured(recv, seconds + 10)
    ks1 = C.proc_cpu_s(ks)
    if send["rc"] != 0 or r["rc"] != 0:
        raise C.Failed("udp: sender rc %s (%s), receiver rc %s (%s)" % (
            send["rc"], send["stderr"].strip()[-200:], r["rc"], r["stderr"].strip()[-200:]))
    s, d = json.loads(send["stdout"]), json.loads(r["stdout"])
    if d["packets"] == 0:
        raise C.Failed("udp: nothing arrived (%d sent)" % s["packets"])
    cpu = send["cpu_s"] + r["cpu_s"] + (ks1 - ks0)
    return {"pps": d["pps"], "sent": s["packets"], "received": d["packets"],
            "sender_share": send["cpu_s"] / s["seconds"] if s["seconds"] else 0,
            "loss": 1 - d["packets"] / s["packets"] if s["packets"] else 0,
            "cpu_s": cpu, "cpu_sender_s": send["cpu_s"], "cpu_receiver_s": r["cpu_s"],
            "cpu_ksoftirqd_s": ks1 - ks0, "cpu_ns_per_pkt": cpu * 1e9 / d["packets"]}


def tcp_cell(client_ns, server_ns, dst, seconds, reverse=False, seen_as=None):
    """iperf3; data flows client -> server, or server -> client with reverse.
    seen_as: the address the server must see the client as (the path's
    translation: a cell that did not go through it fails)."""
    ks = C.ksoftirqd_pids()
    ks0 = C.proc_cpu_s(ks)
    srv_cpu, cli_cpu = (TX_CPU, RX_CPU) if reverse else (RX_CPU, TX_CPU)
    server = C.start_measured(C.nsx(server_ns, "taskset", "-c", srv_cpu, "iperf3", "-s", "-1", "-p",
                                    str(M.TRAFFIC_TCP_PORT), "-J"))
    wait_listening(server_ns, M.TRAFFIC_TCP_PORT)
    cmd = ["iperf3", "-c", dst, "-p", str(M.TRAFFIC_TCP_PORT), "-t", str(seconds), "-i", "0", "-J"]
    if reverse:
        cmd.append("-R")
    client = C.run_measured(C.nsx(client_ns, "taskset", "-c", cli_cpu, *cmd), timeout=seconds + 15)
    srv = C.finish_measured(server, seconds + 15)
    ks1 = C.proc_cpu_s(ks)
    if client["rc"] != 0:
        raise C.Failed("iperf3 client rc %d: %s" % (client["rc"], client["stdout"][-300:] + client["stderr"][-300:]))
    res = json.loads(client["stdout"])
    if seen_as:
        try:
            peer = json.loads(srv["stdout"])["start"]["connected"][0]["remote_host"]
        except (ValueError, KeyError, IndexError):
            peer = None
        if peer != seen_as:
            raise C.Failed("iperf3 server saw the client as %s, not %s: not through the translation" % (peer, seen_as))
    rcv = res["end"]["sum_received"]
    cpu = client["cpu_s"] + srv["cpu_s"] + (ks1 - ks0)
    segs = rcv["bytes"] / 1448.0
    return {"gbps": rcv["bits_per_second"] / 1e9, "bytes": rcv["bytes"], "cpu_s": cpu,
            "cpu_ksoftirqd_s": ks1 - ks0, "cpu_ns_per_seg": cpu * 1e9 / segs if segs else None,
            "retransmits": res["end"].get("sum_sent", {}).get("retransmits")}


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def measure(cell, fn, trials):
    """Runs fn trials times. CPU per packet: the median. Rate: the best
    trial, since on a shared machine interference only ever lowers a rate
    (the sender's CPU share, kept per trial, shows how much it got)."""
    runs = []
    try:
        for _ in range(trials):
            runs.append(fn())
    except C.Failed as e:
        cell.update(status="failed", error=str(e))
        C.log("%-40s FAILED: %s" % (label(cell), e))
        return cell
    keys = [k for k, v in runs[0].items() if isinstance(v, (int, float)) and v is not None]
    for k in keys:
        cell[k] = median([r[k] for r in runs if r.get(k) is not None])
    rate = "pps" if cell["proto"] == "udp" else "gbps"
    cell[rate + "_median"] = cell[rate]
    cell[rate] = max(r[rate] for r in runs)
    cell["status"] = "measured"
    cell["trials"] = runs
    if cell["proto"] == "udp":
        C.log("%-40s %10.0f pps  %7.0f CPU ns/pkt  (sender CPU share %s)" % (
            label(cell), cell["pps"], cell["cpu_ns_per_pkt"],
            "/".join("%.0f%%" % (100 * r["sender_share"]) for r in runs)))
    else:
        C.log("%-40s %10.2f Gbit/s %6.0f CPU ns/seg" % (label(cell), cell["gbps"], cell["cpu_ns_per_seg"]))
    return cell


def label(cell):
    return "%s %s %s N=%d" % (cell["dataplane"], cell["direction"], cell["proto"], cell["rules"])


# ---- the lower bound: two VMs on one veth pair, no dataplane at all -------------

class Bare:
    def __init__(self, pfx):
        self.tx = pfx + "-btx"
        self.rx = pfx + "-brx"

    def build(self):
        for ns in (self.tx, self.rx):
            C.add_netns(ns)
        _, _, ports = M.traffic_model(0)
        C.ip_batch(self.tx, ["link add eth0 type veth peer name eth0 netns %s" % self.rx])
        for p, vm in zip(ports, (self.tx, self.rx)):
            C.ip_batch(vm, ["link set eth0 address %s" % p.mac, "addr add %s/24 dev eth0" % p.ip,
                            "link set eth0 up"])

    def teardown(self):
        for ns in (self.rx, self.tx):
            C.del_netns(ns)


# ---- the reference: Neutron hybrid plumbing from stock parts ------------------

class Reference:
    def __init__(self, pfx):
        self.h = pfx + "-rh"          # the compute host
        self.tx = pfx + "-rtx"        # VMs
        self.rx = pfx + "-rrx"
        self.r = pfx + "-rqr"         # qrouter-<id>
        self.x = pfx + "-rext"        # a host on the external network
        self.qr = "qr-" + ROUTER_PORT_ID[:11]
        self.qg = "qg-" + GW_PORT_ID[:11]

    def build(self):
        for ns in (self.h, self.tx, self.rx, self.r, self.x):
            C.add_netns(ns)
        # br_netfilter is on for the per-port qbr bridges only, as on a
        # Neutron host where br-int is OVS (which netfilter never sees):
        # the namespace-wide switch off, the per-bridge switch on.
        for fam in ("iptables", "ip6tables", "arptables"):
            C.sh(C.nsx(self.h, "sysctl", "-qw", "net.bridge.bridge-nf-call-%s=0" % fam))
        _, _, ports = M.traffic_model(0)
        lines = ["link add br-int type bridge nf_call_iptables 0",
                 "link add br-ex type bridge nf_call_iptables 0"]
        for p, vm in zip(ports, (self.tx, self.rx)):
            lines += ["link add %s type bridge nf_call_iptables 1" % p.qbr,
                      "link add %s type veth peer name eth0 netns %s" % (p.tap, vm),
                      "link set %s master %s" % (p.tap, p.qbr),
                      "link add %s type veth peer name %s" % (p.qvb, p.qvo),
                      "link set %s master %s" % (p.qvb, p.qbr),
                      "link set %s master br-int" % p.qvo]
            lines += ["link set %s up" % d for d in (p.qbr, p.tap, p.qvb, p.qvo)]
        rt, gt = "tap" + ROUTER_PORT_ID[:11], "tap" + GW_PORT_ID[:11]
        lines += ["link add %s type veth peer name %s netns %s" % (rt, self.qr, self.r),
                  "link set %s master br-int" % rt, "link set %s up" % rt,
                  "link add %s type veth peer name %s netns %s" % (gt, self.qg, self.r),
                  "link set %s master br-ex" % gt, "link set %s up" % gt,
                  "link add extph0 type veth peer name ext0 netns %s" % self.x,
                  "link set extph0 master br-ex", "link set extph0 up",
                  "link set br-int up", "link set br-ex up"]
        C.ip_batch(self.h, lines)
        for p, vm in zip(ports, (self.tx, self.rx)):
            C.ip_batch(vm, ["link set eth0 address %s" % p.mac, "addr add %s/24 dev eth0" % p.ip,
                            "link set eth0 up", "route add default via %s" % p.net.gateway])
        C.ip_batch(self.r, ["addr add %s/24 dev %s" % (ports[0].net.gateway, self.qr),
                            "addr add %s/%s dev %s" % (GW_IP, EXT_PREFIX, self.qg),
                            "addr add %s/32 dev %s" % (FIP, self.qg),
                            "link set %s up" % self.qr, "link set %s up" % self.qg])
        C.sh(C.nsx(self.r, "sysctl", "-qw", "net.ipv4.ip_forward=1"))
        C.sh(C.nsx(self.r, C.IPT + "-restore"), input=M.l3_agent_nat(self.qg, GW_IP, [(FIP, ports[1].ip)]))
        C.ip_batch(self.x, ["addr add %s/%s dev ext0" % (EXT_IP, EXT_PREFIX), "link set ext0 up"])

    def set_rules(self, n):
        _, _, ports = M.traffic_model(n)
        text, count = M.iptables_rules(ports)
        C.sh(C.nsx(self.h, C.IPT + "-restore"), input=text, timeout=300)
        return count

    def teardown(self):
        for ns in (self.x, self.r, self.rx, self.tx, self.h):
            C.del_netns(ns)


# ---- Neutrino: taps wired by the loader ---------------------------------------

class Neutrino:
    def __init__(self, pfx, tmp):
        self.h = pfx + "-nh"
        self.tx = pfx + "-ntx"
        self.rx = pfx + "-nrx"
        self.x = pfx + "-next"        # a host on the external network
        self.instance = pfx + "-nt"
        self.tmp = tmp

    def build(self):
        for ns in (self.h, self.tx, self.rx, self.x):
            C.add_netns(ns)
        _, _, ports = M.traffic_model(0)
        lines = []
        for p, vm in zip(ports, (self.tx, self.rx)):
            lines += ["link add %s type veth peer name eth0 netns %s" % (p.tap, vm), "link set %s up" % p.tap]
        # The physnet uplink: no address, Neutrino's uplink programs on it.
        lines += ["link add %s type veth peer name ext0 netns %s" % (NT_UPLINK, self.x),
                  "link set %s up" % NT_UPLINK]
        C.ip_batch(self.h, lines)
        for p, vm in zip(ports, (self.tx, self.rx)):
            C.ip_batch(vm, ["link set eth0 address %s" % p.mac, "addr add %s/24 dev eth0" % p.ip,
                            "link set eth0 up", "route add default via %s" % p.net.gateway])
        C.ip_batch(self.x, ["addr add %s/%s dev ext0" % (EXT_IP, EXT_PREFIX), "link set ext0 up"])

    def state_file(self, n):
        path = os.path.join(self.tmp, "nt-traffic-%d.json" % n)
        nets, sgs, ports = M.traffic_model(n)
        state = M.with_router(M.neutrino_state(nets, sgs, ports), nets[0], ROUTER_PORT_ID, GW_PORT_ID,
                              "172.24.0.0/" + EXT_PREFIX, GW_IP, [(FIP, ports[1])], NT_UPLINK)
        with open(path, "w") as f:
            json.dump(state, f)
        return path

    def writes(self, n):
        """Map writes a fresh apply of the N-rule state would make (dry run:
        nothing is created)."""
        r = C.sh([C.NEUTRINO, "--instance", self.instance + "-probe", "--netns", self.h, "-o", "json",
                  "diff", self.state_file(n)])
        return json.loads(r.stdout)["writes"]

    def apply(self, n):
        C.register_instance(self.instance)
        C.sh([C.NEUTRINO, "--instance", self.instance, "--netns", self.h, "-o", "json", "apply",
              self.state_file(n)], timeout=120)

    def prime_external(self):
        """The router learns the external host's MAC from ARP on the uplink:
        the first packet towards it becomes an ARP request and is dropped
        (docs/design.md). A few pings through SNAT before the cells, so no
        trial starts with that; then one that must get through. (The other
        way, the VM's group admits only the bench's UDP and TCP ports: the
        UDP cell itself fails if nothing arrives through the floating IP.)"""
        C.sh(C.nsx(self.tx, "ping", "-c", "3", "-i", "0.2", "-W", "1", "-q", EXT_IP), check=False, timeout=10)
        r = C.sh(C.nsx(self.tx, "ping", "-c", "1", "-W", "2", "-q", EXT_IP), check=False, timeout=10)
        if r.returncode != 0:
            raise C.Failed("the VM cannot reach the external host through SNAT: %s" % r.stdout.strip()[-200:])

    def teardown(self):
        C.destroy_instance(self.instance)
        for ns in (self.x, self.rx, self.tx, self.h):
            C.del_netns(ns)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rules", default="0,100,1000,10000")
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--trials", type=int)
    ap.add_argument("--max-packets", type=int, help="per UDP trial (default: 1,000,000 with --quick, else none)")
    ap.add_argument("--tmp", default="/tmp")
    a = ap.parse_args()
    seconds = a.seconds or (1 if a.quick else 3)
    trials = a.trials or (1 if a.quick else 5)
    MAX_PACKETS[0] = a.max_packets if a.max_packets is not None else (1000000 if a.quick else 0)
    rules = [int(x) for x in a.rules.split(",")]
    C.install_signal_cleanup()
    doc = {"seconds_per_trial": seconds, "max_packets_per_trial": MAX_PACKETS[0], "trials": trials, "tcp_trials": max(1, (trials + 1) // 2),
           "rules": rules, "iptables": C.IPT,
           "cpus": {"sender": TX_CPU, "receiver": RX_CPU}, "cells": []}
    cells = doc["cells"]
    tcp_trials = doc["tcp_trials"]
    sport = [41000]

    def next_sport():  # a fresh flow (5-tuple) per trial: no conntrack entry carried over
        sport[0] += 1
        return sport[0]

    t0 = time.monotonic()
    try:
        # What the VMs' own stacks cost: the same traffic over a bare veth pair.
        bare = Bare(C.PREFIX)
        bare.build()
        base = {"dataplane": "bare veth", "rules": 0}
        cells.append(measure(dict(base, direction="east-west", proto="udp"),
                             lambda: udp_cell(bare.tx, bare.rx, "10.1.0.12", next_sport(), seconds), trials))
        cells.append(measure(dict(base, direction="east-west", proto="tcp"),
                             lambda: tcp_cell(bare.tx, bare.rx, "10.1.0.12", seconds), tcp_trials))
        bare.teardown()

        ref = Reference(C.PREFIX)
        ref.build()
        for n in rules:
            count = ref.set_rules(n)
            base = {"dataplane": "reference", "rules": n, "iptables_rules": count}
            cells.append(measure(dict(base, direction="east-west", proto="udp"),
                                 lambda: udp_cell(ref.tx, ref.rx, "10.1.0.12", next_sport(), seconds), trials))
            cells.append(measure(dict(base, direction="east-west", proto="tcp"),
                                 lambda: tcp_cell(ref.tx, ref.rx, "10.1.0.12", seconds), tcp_trials))
            cells.append(measure(dict(base, direction="north-south", proto="udp",
                                      path="external -> floating IP (DNAT) -> VM"),
                                 lambda: udp_cell(ref.x, ref.rx, FIP, next_sport(), seconds), trials))
            cells.append(measure(dict(base, direction="north-south", proto="tcp", path=NS_TCP_PATH),
                                 lambda: tcp_cell(ref.tx, ref.x, EXT_IP, seconds, reverse=True, seen_as=GW_IP),
                                 tcp_trials))
        ref.teardown()

        nt = Neutrino(C.PREFIX, a.tmp)
        nt.build()
        # Until the compiler turns security_group_rules into map entries, an
        # N-rule state compiles to the same entries as the 0-rule one.
        sg_compiled = len(rules) > 1 and nt.writes(max(rules)) != nt.writes(min(rules))
        doc["neutrino_sg_compiled"] = sg_compiled
        for n in rules:
            base = {"dataplane": "neutrino", "rules": n}
            if n > 0 and not sg_compiled:
                for proto in ("udp", "tcp"):
                    cells.append(dict(base, direction="east-west", proto=proto, status="pending", issue=ISSUE_SG,
                                      note="security_group_rules are not compiled yet: this cell would "
                                           "measure the same datapath as N=0"))
            else:
                nt.apply(n)
                note = {} if sg_compiled else {"note": "no security groups in the datapath yet"}
                cells.append(measure(dict(base, direction="east-west", proto="udp", **note),
                                     lambda: udp_cell(nt.tx, nt.rx, "10.1.0.12", next_sport(), seconds), trials))
                cells.append(measure(dict(base, direction="east-west", proto="tcp", **note),
                                     lambda: tcp_cell(nt.tx, nt.rx, "10.1.0.12", seconds), tcp_trials))
            # North-south, the reference's cells: the external host to the
            # floating IP (DNAT, uplink program) and the VM's TCP out through
            # SNAT with the data flowing in.
            ns_udp = dict(base, direction="north-south", proto="udp", path="external -> floating IP (DNAT) -> VM")
            ns_tcp = dict(base, direction="north-south", proto="tcp", path=NS_TCP_PATH)
            try:
                nt.prime_external()
            except C.Failed as e:
                for cell in (ns_udp, ns_tcp):
                    cells.append(dict(cell, status="failed", error=str(e)))
                    C.log("%-40s FAILED: %s" % (label(cell), e))
                continue
            cells.append(measure(ns_udp, lambda: udp_cell(nt.x, nt.rx, FIP, next_sport(), seconds), trials))
            cells.append(measure(ns_tcp, lambda: tcp_cell(nt.tx, nt.x, EXT_IP, seconds, reverse=True, seen_as=GW_IP),
                                 tcp_trials))
        nt.teardown()
    finally:
        C.cleanup()
        doc["seconds"] = time.monotonic() - t0
        C.write_json(a.out, doc)


if __name__ == "__main__":
    main()
