"""One model of a Neutron host, written out two ways.

Both sides of every comparison come from the same description of ports and
security-group rules:

  * neutrino_state()  - the desired-state JSON that `neutrino apply` reads
                        (Neutron API resources);
  * iptables_rules()  - the iptables-restore input that Neutron's
                        OVSHybridIptablesFirewallDriver (neutron-openvswi-*
                        chains, --physdev matches, conntrack zones in raw)
                        would program on the same host for the same ports.

The iptables text follows neutron/agent/linux/iptables_firewall.py and
iptables_manager.py: chain names are "neutron-openvswi-" + i/o/s + the first
10 characters of the port id (the 28-character limit), comments as Neutron
writes them, IPv4 only (Neutron programs the same again with ip6tables; the
bench leaves IPv6 out on both sides).
"""

import ipaddress
import json

BIN = "neutron-openvswi"  # iptables_manager's binary_name, truncated to 16
ZONE_BASE = 4097          # Neutron's conntrack zones start above 4096
HOST = "bench-host"

# A rule whose number is r, for a group with R rules: alternately tcp and udp
# destination ports 10000+r (never a port the bench's traffic uses), every
# fourth one limited to a remote prefix. Rules of this shape cost iptables a
# match-extension call each (udp/tcp against a udp packet of the other port),
# which is what typical "open port X" security-group rules are.
TRAFFIC_UDP_PORT = 9000
TRAFFIC_TCP_PORT = 5201


def filler_rule(sg_index, r):
    rule = {
        "id": "d%06x-%04x-4000-8000-%012x" % (sg_index & 0xFFFFFF, r & 0xFFFF, r),
        "direction": "ingress",
        "ethertype": "IPv4",
        "protocol": "tcp" if r % 2 == 0 else "udp",
        "port_range_min": 10000 + r,
        "port_range_max": 10000 + r,
        "remote_ip_prefix": ("192.168.%d.0/24" % (r % 256)) if r % 4 == 3 else None,
        "remote_group_id": None,
    }
    return rule


def egress_any_rule(sg_index):
    return {"id": "e%07x-0000-4000-8000-000000000000" % sg_index, "direction": "egress",
            "ethertype": "IPv4", "protocol": None, "port_range_min": None, "port_range_max": None,
            "remote_ip_prefix": None, "remote_group_id": None}


def allow_rule(sg_index, k, proto, port):
    return {"id": "a%07x-%04x-4000-8000-000000000000" % (sg_index, k), "direction": "ingress",
            "ethertype": "IPv4", "protocol": proto, "port_range_min": port, "port_range_max": port,
            "remote_ip_prefix": None, "remote_group_id": None}


class Port:
    def __init__(self, pid, name, net, mac, ip, sg, tap=None, zone=None, owner="compute:nova",
                 port_security=True):
        self.id = pid
        self.name = name
        self.net = net          # Network
        self.mac = mac
        self.ip = ip
        self.sg = sg            # SecurityGroup or None
        self.tap = tap or ("tap" + pid[:11])
        self.zone = zone
        self.owner = owner
        self.port_security = port_security

    @property
    def dev(self):  # Neutron's device suffix of the chain names
        return self.id[:10]

    @property
    def qvb(self):
        return "qvb" + self.id[:11]

    @property
    def qvo(self):
        return "qvo" + self.id[:11]

    @property
    def qbr(self):
        return "qbr" + self.id[:11]


class Network:
    def __init__(self, index, cidr, gateway=None):
        self.index = index
        self.id = "ae%06x-0000-4000-8000-%012x" % (index, index)
        self.subnet_id = "5b%06x-0000-4000-8000-%012x" % (index, index)
        self.name = "net%d" % index
        self.cidr = ipaddress.ip_network(cidr)
        self.gateway = gateway


class SecurityGroup:
    def __init__(self, index, rules):
        self.index = index
        self.id = "5e%06x-0000-4000-8000-%012x" % (index, index)
        self.name = "sg%d" % index
        self.rules = rules


def host_ip(net, k):
    return str(net.cidr.network_address + 10 + k)


def mac_of(n):
    return "fa:16:3e:%02x:%02x:%02x" % ((n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF)


def scale_model(ports, rules, ports_per_net=10):
    """ports x rules: tenants of ports_per_net ports, one network and one
    security group each; the group holds `rules` ingress rules plus the
    default egress allow-all, and every port of the tenant uses it. Every port
    therefore has `rules` rules applied to it, as in the issue's "ports x
    rules"; Neutron's iptables driver expands them into each port's chain."""
    nets, sgs, out = [], [], []
    for n in range((ports + ports_per_net - 1) // ports_per_net):
        net = Network(n, "10.%d.%d.0/24" % (100 + (n >> 8), n & 0xFF))
        nets.append(net)
        sgs.append(SecurityGroup(n, [filler_rule(n, r) for r in range(rules)] + [egress_any_rule(n)]))
    for i in range(ports):
        n = i // ports_per_net
        pid = "c%07x-%04x-4000-8000-%012x" % (i, n & 0xFFFF, i)
        out.append(Port(pid, "vm%d" % i, nets[n], mac_of(i + 1), host_ip(nets[n], i % ports_per_net),
                        sgs[n], zone=ZONE_BASE + n))
    return nets, sgs, out


def traffic_model(n_rules):
    """The throughput topology: one network, a sender VM and a receiver VM
    whose group has n_rules non-matching ingress rules followed by the rules
    that admit the bench traffic (UDP 9000, TCP 5201): the matching rule is
    last, the worst place for a linear scan and where a rule added to a real
    group ends up."""
    net = Network(0, "10.1.0.0/24", gateway="10.1.0.1")
    sg_tx = SecurityGroup(0, [egress_any_rule(0)])
    sg_rx = SecurityGroup(1, [filler_rule(1, r) for r in range(n_rules)] +
                          [allow_rule(1, 0, "udp", TRAFFIC_UDP_PORT),
                           allow_rule(1, 1, "tcp", TRAFFIC_TCP_PORT),
                           egress_any_rule(1)])
    tx = Port("c1000001-0000-4000-8000-000000000001", "tx", net, "fa:16:3e:10:00:01", "10.1.0.11",
              sg_tx, zone=ZONE_BASE)
    rx = Port("c2000002-0000-4000-8000-000000000002", "rx", net, "fa:16:3e:10:00:02", "10.1.0.12",
              sg_rx, zone=ZONE_BASE)
    return [net], [sg_tx, sg_rx], [tx, rx]


# ---- desired state (Neutrino) ------------------------------------------------

def neutrino_state(nets, sgs, ports, host=HOST):
    return {
        "hosts": [{"name": host}],
        "networks": [{"id": n.id, "name": n.name, "provider:network_type": "local",
                      "provider:segmentation_id": None, "mtu": 1500, "router:external": False,
                      "admin_state_up": True} for n in nets],
        "subnets": [{"id": n.subnet_id, "name": n.name + "-v4", "network_id": n.id, "ip_version": 4,
                     "cidr": str(n.cidr), "gateway_ip": n.gateway, "enable_dhcp": False,
                     "dns_nameservers": [], "host_routes": [],
                     "allocation_pools": [{"start": str(n.cidr.network_address + 2),
                                           "end": str(n.cidr.broadcast_address - 1)}]} for n in nets],
        "security_groups": [{"id": s.id, "name": s.name, "security_group_rules": s.rules} for s in sgs],
        "ports": [{"id": p.id, "name": p.name, "network_id": p.net.id, "mac_address": p.mac,
                   "fixed_ips": [{"subnet_id": p.net.subnet_id, "ip_address": p.ip}],
                   "security_groups": [p.sg.id] if p.sg else [],
                   "port_security_enabled": p.port_security, "allowed_address_pairs": [],
                   "binding:host_id": host, "device_owner": p.owner, "device_id": "vm-" + p.name,
                   "admin_state_up": True, "interface_name": p.tap} for p in ports],
        "routers": [],
        "floatingips": [],
    }


def with_router(state, net, router_port_id, gw_port_id, ext_cidr, gw_ip, fips, uplink, host=HOST):
    """The desired state plus north-south: a flat external network on the
    physnet "public" (carried by the host's interface `uplink`), a
    distributed router with net's subnet as interface (at its gateway
    address) and an external gateway on it with SNAT, and floating IPs:
    fips = [(floating_ip, port)]. What the reference's qrouter namespace and
    br-ex stand for, as Neutron's API describes it."""
    ext = ipaddress.ip_network(ext_cidr)
    ext_id, ext_subnet = "ae0000e1-0000-4000-8000-0000000000e1", "5b0000e1-0000-4000-8000-0000000000e1"
    router_id = "be700001-0000-4000-8000-000000000001"
    for h in state["hosts"]:
        if h["name"] == host:
            h["physical_interface_mappings"] = {"public": uplink}
    state["networks"].append({"id": ext_id, "name": "public", "provider:network_type": "flat",
                              "provider:segmentation_id": None, "provider:physical_network": "public",
                              "mtu": 1500, "router:external": True, "admin_state_up": True})
    state["subnets"].append({"id": ext_subnet, "name": "public-v4", "network_id": ext_id, "ip_version": 4,
                             "cidr": str(ext), "gateway_ip": str(ext.network_address + 1), "enable_dhcp": False,
                             "dns_nameservers": [], "host_routes": [], "allocation_pools": []})

    def router_port(pid, name, net_id, subnet_id, mac, ip, owner):
        return {"id": pid, "name": name, "network_id": net_id, "mac_address": mac,
                "fixed_ips": [{"subnet_id": subnet_id, "ip_address": ip}], "security_groups": [],
                "port_security_enabled": False, "allowed_address_pairs": [], "binding:host_id": "",
                "device_owner": owner, "device_id": router_id, "admin_state_up": True}
    state["ports"].append(router_port(router_port_id, "r1-" + net.name, net.id, net.subnet_id, "fa:16:3e:10:00:fe",
                                      net.gateway, "network:router_interface_distributed"))
    state["ports"].append(router_port(gw_port_id, "r1-gw", ext_id, ext_subnet, "fa:16:3e:10:00:ef", gw_ip,
                                      "network:router_gateway"))
    state["routers"].append({"id": router_id, "name": "router-1", "distributed": True, "admin_state_up": True,
                             "routes": [],
                             "external_gateway_info": {"network_id": ext_id, "enable_snat": True,
                                                       "external_fixed_ips": [{"subnet_id": ext_subnet,
                                                                               "ip_address": gw_ip}]}})
    for k, (fip, port) in enumerate(fips):
        state["floatingips"].append({"id": "be800001-0000-4000-8000-%012x" % (k + 1), "floating_ip_address": fip,
                                     "floating_network_id": ext_id, "port_id": port.id,
                                     "fixed_ip_address": port.ip, "router_id": router_id})
    return state


# ---- iptables (the Neutron reference) ------------------------------------------

def _c(text):
    return '-m comment --comment "%s"' % text


def _sg_rule_args(rule):
    """neutron iptables_firewall._convert_sgr_to_iptables_rules, for the rule
    shapes the bench uses."""
    args = []
    if rule.get("remote_ip_prefix"):
        key = "-s" if rule["direction"] == "ingress" else "-d"
        args += [key, rule["remote_ip_prefix"]]
    proto = rule.get("protocol")
    if proto:
        args += ["-p", proto]
        lo, hi = rule.get("port_range_min"), rule.get("port_range_max")
        if proto in ("tcp", "udp") and lo is not None:
            args += ["-m", proto, "--dport", str(lo) if lo == hi else "%d:%d" % (lo, hi)]
    return " ".join(args + ["-j RETURN"])


def iptables_rules(ports):
    """iptables-restore input (filter and raw) for the ports' security groups
    as Neutron's hybrid driver programs it. Returns (text, rule_count)."""
    f = []  # filter rules
    chains = ["neutron-filter-top", BIN + "-FORWARD", BIN + "-INPUT", BIN + "-OUTPUT", BIN + "-local",
              BIN + "-sg-chain", BIN + "-sg-fallback"]
    f += ["-A FORWARD -j neutron-filter-top", "-A FORWARD -j %s-FORWARD" % BIN,
          "-A INPUT -j %s-INPUT" % BIN, "-A OUTPUT -j neutron-filter-top",
          "-A OUTPUT -j %s-OUTPUT" % BIN, "-A neutron-filter-top -j %s-local" % BIN]
    fwd, inp, sgc, per_port = [], [], [], []
    for p in ports:
        if not (p.sg and p.port_security):
            continue
        i, o, s = BIN + "-i" + p.dev, BIN + "-o" + p.dev, BIN + "-s" + p.dev
        chains += [i, o, s]
        fwd.append("-A %s-FORWARD -m physdev --physdev-out %s --physdev-is-bridged %s -j %s-sg-chain"
                   % (BIN, p.tap, _c("Direct traffic from the VM interface to the security group chain."), BIN))
        fwd.append("-A %s-FORWARD -m physdev --physdev-in %s --physdev-is-bridged %s -j %s-sg-chain"
                   % (BIN, p.tap, _c("Direct traffic from the VM interface to the security group chain."), BIN))
        inp.append("-A %s-INPUT -m physdev --physdev-in %s --physdev-is-bridged %s -j %s"
                   % (BIN, p.tap, _c("Direct incoming traffic from VM to the security group chain."), o))
        sgc.append("-A %s-sg-chain -m physdev --physdev-out %s --physdev-is-bridged %s -j %s"
                   % (BIN, p.tap, _c("Jump to the VM specific chain."), i))
        sgc.append("-A %s-sg-chain -m physdev --physdev-in %s --physdev-is-bridged %s -j %s"
                   % (BIN, p.tap, _c("Jump to the VM specific chain."), o))
        known = _c("Direct packets associated with a known session to the RETURN chain.")
        invalid = _c("Drop packets that appear related to an existing connection (e.g. TCP ACK/FIN) "
                     "but do not have an entry in conntrack.")
        fallback = _c("Send unmatched traffic to the fallback chain.")
        # ingress: traffic to the VM
        per_port.append("-A %s -m state --state RELATED,ESTABLISHED %s -j RETURN" % (i, known))
        per_port.append("-A %s -d %s/32 -p udp -m udp --sport 67 --dport 68 -j RETURN" % (i, p.ip))
        per_port.append("-A %s -d 255.255.255.255/32 -p udp -m udp --sport 67 --dport 68 -j RETURN" % i)
        for r in p.sg.rules:
            if r["direction"] == "ingress" and r["ethertype"] == "IPv4":
                per_port.append("-A %s %s" % (i, _sg_rule_args(r)))
        per_port.append("-A %s -m state --state INVALID %s -j DROP" % (i, invalid))
        per_port.append("-A %s %s -j %s-sg-fallback" % (i, fallback, BIN))
        # egress: traffic from the VM
        dhcp = _c("Allow DHCP client traffic.")
        per_port.append("-A %s -s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp --sport 68 --dport 67 %s -j RETURN"
                        % (o, dhcp))
        per_port.append("-A %s -j %s" % (o, s))
        per_port.append("-A %s -p udp -m udp --sport 68 --dport 67 %s -j RETURN" % (o, dhcp))
        per_port.append("-A %s -p udp -m udp --sport 67 --dport 68 %s -j DROP"
                        % (o, _c("Prevent DHCP Spoofing by VM.")))
        per_port.append("-A %s -m state --state RELATED,ESTABLISHED %s -j RETURN" % (o, known))
        for r in p.sg.rules:
            if r["direction"] == "egress" and r["ethertype"] == "IPv4":
                per_port.append("-A %s %s" % (o, _sg_rule_args(r)))
        per_port.append("-A %s -m state --state INVALID %s -j DROP" % (o, invalid))
        per_port.append("-A %s %s -j %s-sg-fallback" % (o, fallback, BIN))
        # anti-spoofing
        per_port.append("-A %s -s %s/32 -m mac --mac-source %s %s -j RETURN"
                        % (s, p.ip, p.mac.upper(), _c("Allow traffic from defined IP/MAC pairs.")))
        per_port.append("-A %s %s -j DROP" % (s, _c("Drop traffic without an IP/MAC allow rule.")))
    sgc.append("-A %s-sg-chain -j ACCEPT" % BIN)
    f += fwd + inp + per_port + sgc
    f.append("-A %s-sg-fallback %s -j DROP" % (BIN, _c("Default drop rule for unmatched traffic.")))

    raw = ["-A PREROUTING -j %s-PREROUTING" % BIN, "-A OUTPUT -j %s-OUTPUT" % BIN]
    for p in ports:
        if p.zone is None:
            continue
        zc = _c("Set zone for %s" % p.id)
        raw.append("-A %s-PREROUTING -m physdev --physdev-in %s %s -j CT --zone %d" % (BIN, p.qvb, zc, p.zone))
        raw.append("-A %s-PREROUTING -i %s %s -j CT --zone %d" % (BIN, p.qvb, zc, p.zone))
        raw.append("-A %s-PREROUTING -m physdev --physdev-in %s %s -j CT --zone %d" % (BIN, p.tap, zc, p.zone))

    lines = ["*raw", ":PREROUTING ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
             ":%s-OUTPUT - [0:0]" % BIN, ":%s-PREROUTING - [0:0]" % BIN]
    lines += raw + ["COMMIT", "*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    lines += [":%s - [0:0]" % c for c in chains]
    lines += f + ["COMMIT", ""]
    return "\n".join(lines), len(f) + len(raw)


def l3_agent_nat(qg, gw_ip, fips):
    """The qrouter namespace's nat table as neutron-l3-agent writes it:
    default SNAT to the gateway IP, 1:1 DNAT/SNAT per floating IP.
    fips: [(floating_ip, fixed_ip)]. Returns iptables-restore text."""
    L = "neutron-l3-agent"
    lines = ["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
             ":POSTROUTING ACCEPT [0:0]"]
    lines += [":%s-%s - [0:0]" % (L, c) for c in ("OUTPUT", "POSTROUTING", "PREROUTING", "float-snat", "snat")]
    lines += [":neutron-postrouting-bottom - [0:0]",
              "-A PREROUTING -j %s-PREROUTING" % L, "-A OUTPUT -j %s-OUTPUT" % L,
              "-A POSTROUTING -j %s-POSTROUTING" % L, "-A POSTROUTING -j neutron-postrouting-bottom"]
    for fip, fixed in fips:
        lines.append("-A %s-OUTPUT -d %s/32 -j DNAT --to-destination %s" % (L, fip, fixed))
    lines.append("-A %s-POSTROUTING ! -i %s ! -o %s -m conntrack ! --ctstate DNAT -j ACCEPT" % (L, qg, qg))
    lines.append("-A %s-PREROUTING -d 169.254.169.254/32 -i qr-+ -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 9697" % L)
    for fip, fixed in fips:
        lines.append("-A %s-PREROUTING -d %s/32 -j DNAT --to-destination %s" % (L, fip, fixed))
        lines.append("-A %s-float-snat -s %s/32 -j SNAT --to-source %s --random-fully" % (L, fixed, fip))
    lines += ["-A %s-snat -j %s-float-snat" % (L, L),
              "-A %s-snat -o %s -j SNAT --to-source %s --random-fully" % (L, qg, gw_ip),
              "-A %s-snat -m mark ! --mark 0x2/0xffff -m conntrack --ctstate DNAT -j SNAT --to-source %s --random-fully"
              % (L, gw_ip),
              "-A neutron-postrouting-bottom %s -j %s-snat" % (_c("Perform source NAT on outgoing traffic."), L),
              "COMMIT", ""]
    return "\n".join(lines)


def change_one_rule(text):
    """Neutron-style update of the saved ruleset: the first security-group
    rule of the first port gets another port number (what a rule edit in the
    API turns into). Returns the new text; raises if nothing changed."""
    out, done = [], False
    for line in text.split("\n"):
        if not done and "--dport 10000 " in line and "-m tcp" in line:
            line = line.replace("--dport 10000 ", "--dport 10999 ", 1)
            done = True
        out.append(line)
    if not done:
        raise ValueError("no rule to change in the saved ruleset")
    return "\n".join(out)


def change_one_rule_state(state):
    """The same change in the desired state: first rule of the first group."""
    for sg in state["security_groups"]:
        for r in sg["security_group_rules"]:
            if r.get("port_range_min") == 10000:
                r["port_range_min"] = r["port_range_max"] = 10999
                return state
    raise ValueError("no rule to change in the state")


if __name__ == "__main__":
    import sys
    P, R = int(sys.argv[1]), int(sys.argv[2])
    nets, sgs, ports = scale_model(P, R)
    text, n = iptables_rules(ports)
    sys.stdout.write(text)
    sys.stderr.write("%d rules\n" % n)
    json.dumps(neutrino_state(nets, sgs, ports))
