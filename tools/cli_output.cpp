// Text and JSON renderings of what the library returns.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "neutrino/abi.h"
#include "tools/cli.hpp"

namespace neutrino::cli {

using nlohmann::json;

InstanceOptions Globals::instance_options() const {
    InstanceOptions o;
    o.name = instance;
    o.netns = netns;
    o.bpffs = bpffs;
    o.tc_mode = parse_tc_mode(tc_mode);
    return o;
}

std::string TextTable::str() const {
    std::vector<size_t> w;
    for (const auto& r : rows_)
        for (size_t i = 0; i < r.size(); i++) {
            if (w.size() <= i) w.push_back(0);
            w[i] = std::max(w[i], r[i].size());
        }
    std::ostringstream os;
    for (const auto& r : rows_) {
        std::string line;
        for (size_t i = 0; i < r.size(); i++) {
            line += r[i];
            if (i + 1 < r.size()) line += std::string(w[i] - r[i].size() + 2, ' ');
        }
        os << line << "\n";
    }
    return os.str();
}

void print_json(const json& j) { std::cout << j.dump(2) << std::endl; }

bool ref_matches(const std::string& ref, const std::string& id, const std::string& name) {
    return ref == name || ref == id || (ref.size() >= 8 && id.rfind(ref, 0) == 0);
}

std::string net_type_name(uint32_t t) {
    switch (t) {
        case NT_NET_LOCAL: return "local";
        case NT_NET_FLAT: return "flat";
        case NT_NET_VLAN: return "vlan";
        case NT_NET_VXLAN: return "vxlan";
        case NT_NET_GRE: return "gre";
    }
    return "?";
}

std::string port_flags_text(uint32_t f) {
    std::string s = (f & NT_PORT_ADMIN_UP) ? "up" : "down";
    if (f & NT_PORT_SECURITY) s += ",port-security";
    return s;
}

std::string fdb_flags_text(uint32_t f) {
    std::string s;
    auto add = [&](const char* n) { s += (s.empty() ? "" : ",") + std::string(n); };
    if (f & NT_FDB_LOCAL) add("local");
    if (f & NT_FDB_REMOTE) add("remote");
    if (f & NT_FDB_ROUTER) add("router");
    if (f & NT_FDB_UPLINK) add("uplink");
    if (f & NT_FDB_SNAT_PEER) add("snat-peer");
    return s;
}

namespace {

json local_ports_json(const std::vector<LocalPort>& v) {
    json a = json::array();
    for (const auto& p : v)
        a.push_back({{"port_id", p.port_id}, {"interface", p.interface_name}, {"ifindex", p.ifindex}});
    return a;
}

std::string hex32(uint32_t v) {
    char b[16];
    std::snprintf(b, sizeof b, "%08x", v);
    return b;
}

}  // namespace

json to_json(const ApplyResult& r) {
    return {{"host", r.host},
            {"dry_run", r.dry_run},
            {"writes", r.plan.writes()},
            {"deletes", r.plan.deletes()},
            {"ports", local_ports_json(r.ports)},
            {"pending", local_ports_json(r.pending)},
            {"attached", r.attached},
            {"detached", r.detached}};
}

std::string to_text(const ApplyResult& r) {
    std::ostringstream os;
    os << (r.dry_run ? "would write " : "wrote ") << r.plan.writes() << " map entries, "
       << (r.dry_run ? "would delete " : "deleted ") << r.plan.deletes() << " (host " << r.host
       << ", " << r.ports.size() << " local ports)\n";
    auto table = [&](const char* name, size_t up, size_t del) {
        if (up || del) os << "  " << name << ": +" << up << " -" << del << "\n";
    };
    table("nt_neigh", r.plan.neigh.upserts.size(), r.plan.neigh.deletes.size());
    table("nt_fdb", r.plan.fdb.upserts.size(), r.plan.fdb.deletes.size());
    table("nt_flood", r.plan.flood.upserts.size(), r.plan.flood.deletes.size());
    table("nt_nets", r.plan.nets.upserts.size(), r.plan.nets.deletes.size());
    table("nt_ports", r.plan.ports.upserts.size(), r.plan.ports.deletes.size());
    table("nt_port_info", r.plan.port_info.upserts.size(), r.plan.port_info.deletes.size());
    table("nt_net_info", r.plan.net_info.upserts.size(), r.plan.net_info.deletes.size());
    for (const auto& a : r.attached) os << "  attached " << a << "\n";
    for (const auto& d : r.detached) os << (r.dry_run ? "  would detach " : "  detached ") << d << "\n";
    for (const auto& p : r.pending)
        os << "  pending: port " << p.port_id << " (interface " << p.interface_name << " not found)\n";
    return os.str();
}

json ports_json(const std::vector<PortRow>& rows) {
    json a = json::array();
    for (const auto& r : rows) {
        json ips = json::array();
        for (const auto& ip : r.ips) ips.push_back(ip.str());
        auto ctr = [](const nt_counter& c) { return json{{"packets", c.packets}, {"bytes", c.bytes}}; };
        a.push_back({{"id", r.id},
                     {"name", r.name},
                     {"interface", r.ifname},
                     {"ifindex", r.ifindex},
                     {"network_id", r.network_id},
                     {"network_name", r.network_name},
                     {"net_id", r.net_id},
                     {"port_tag", r.port_tag},
                     {"mac_address", r.mac.str()},
                     {"fixed_ips", ips},
                     {"admin_state_up", (r.flags & NT_PORT_ADMIN_UP) != 0},
                     {"port_security_enabled", (r.flags & NT_PORT_SECURITY) != 0},
                     {"mtu", r.mtu},
                     {"counters",
                      {{"from_vm", ctr(r.stats.from_vm)},
                       {"to_vm", ctr(r.stats.to_vm)},
                       {"arp_replies", ctr(r.stats.arp_reply)},
                       {"flooded", ctr(r.stats.flooded)},
                       {"dropped", ctr(r.stats.dropped)}}}});
    }
    return a;
}

std::string ports_text(const std::vector<PortRow>& rows) {
    TextTable t({"PORT", "NAME", "INTERFACE", "NETWORK", "MAC", "IPS", "STATE", "FROM-VM", "TO-VM",
                 "DROPPED"});
    for (const auto& r : rows) {
        std::string ips;
        for (const auto& ip : r.ips) ips += (ips.empty() ? "" : ",") + ip.str();
        t.add({r.id, r.name, r.ifname, r.network_name.empty() ? r.network_id : r.network_name,
               r.mac.str(), ips, port_flags_text(r.flags), std::to_string(r.stats.from_vm.packets),
               std::to_string(r.stats.to_vm.packets), std::to_string(r.stats.dropped.packets)});
    }
    return t.str();
}

json fdb_json(const std::vector<FdbRow>& rows) {
    json a = json::array();
    for (const auto& r : rows) {
        json e = {{"network_id", r.network_id}, {"net_id", r.net_id}, {"mac_address", r.mac.str()},
                  {"flags", fdb_flags_text(r.flags)}};
        if (r.flags & NT_FDB_LOCAL) {
            e["interface"] = r.ifname;
            e["ifindex"] = r.ifindex;
            e["port_id"] = r.port_id;
        }
        if (r.flags & NT_FDB_REMOTE) e["vtep"] = r.vtep.str();
        a.push_back(e);
    }
    return a;
}

namespace {

std::string fdb_where(const FdbRow& r) {
    if (r.flags & NT_FDB_ROUTER) return (r.flags & NT_FDB_SNAT_PEER) ? "router (SNAT MAC)" : "router";
    if (r.flags & NT_FDB_REMOTE) return "vtep " + r.vtep.str();
    if (r.flags & NT_FDB_UPLINK) return "uplink (ifindex " + std::to_string(r.ifindex) + ")";
    return r.ifname + " (local)";
}

}  // namespace

std::string fdb_text(const std::vector<FdbRow>& rows) {
    TextTable t({"NETWORK", "NET-ID", "MAC", "WHERE", "PORT"});
    for (const auto& r : rows) t.add({r.network_id, hex32(r.net_id), r.mac.str(), fdb_where(r), r.port_id});
    return t.str();
}

json drops_json(const std::vector<DropRow>& rows) {
    json a = json::array();
    for (const auto& r : rows)
        a.push_back({{"reason", r.name}, {"code", r.reason}, {"description", r.description},
                     {"packets", r.counter.packets}, {"bytes", r.counter.bytes}});
    return a;
}

std::string drops_text(const std::vector<DropRow>& rows, bool all) {
    TextTable t({"REASON", "CODE", "PACKETS", "BYTES", "MEANING"});
    size_t shown = 0;
    for (const auto& r : rows) {
        if (!all && r.counter.packets == 0) continue;
        t.add({r.name, std::to_string(r.reason), std::to_string(r.counter.packets),
               std::to_string(r.counter.bytes), r.description});
        shown++;
    }
    if (!shown) return "no drops counted (use --all to list every reason)\n";
    return t.str();
}

json rules_json(const std::vector<RuleRow>& rows) {
    json a = json::array();
    for (const auto& r : rows)
        a.push_back({{"security_group_id", r.sg_id}, {"security_group", r.sg_name}, {"rule_id", r.rule_id},
                     {"rule", r.description}, {"flows", r.flows.packets}, {"bytes", r.flows.bytes}});
    return a;
}

std::string rules_text(const std::vector<RuleRow>& rows) {
    TextTable t({"GROUP", "RULE", "MATCHES", "FLOWS"});
    for (const auto& r : rows)
        t.add({r.sg_name.empty() ? r.sg_id : r.sg_name, r.rule_id, r.description, std::to_string(r.flows.packets)});
    return t.str();
}

const char* ct_state_name(uint8_t s) {
    switch (s) {
        case NT_CT_SYN_SENT: return "syn-sent";
        case NT_CT_SYN_RECV: return "syn-recv";
        case NT_CT_ESTABLISHED: return "established";
        case NT_CT_FIN_WAIT: return "fin-wait";
        case NT_CT_CLOSING: return "closing";
        case NT_CT_CLOSED: return "closed";
        case NT_CT_UNREPLIED: return "unreplied";
    }
    return "new";
}

namespace {

std::string proto_name(uint8_t p) {
    switch (p) {
        case 1: return "icmp";
        case 6: return "tcp";
        case 17: return "udp";
        case 58: return "icmpv6";
        case 132: return "sctp";
    }
    return std::to_string(p);
}

std::string endpoint(const IpAddr& a, uint16_t port_be, uint8_t proto) {
    std::string ip = a.is_v4() ? a.str() : "[" + a.str() + "]";
    if (proto == 1 || proto == 58) return ip;
    return ip + ":" + std::to_string(be16toh(port_be));
}

std::string secs(uint64_t ns) { return std::to_string(ns / 1000000000ull) + "s"; }

}  // namespace

json ct_json(const std::vector<CtRow>& rows) {
    json a = json::array();
    for (const auto& r : rows) {
        json e = {{"port_id", r.port_id},
                  {"port", r.port_name},
                  {"zone", r.key.zone},
                  {"protocol", proto_name(r.key.proto)},
                  {"src", r.src.str()},
                  {"dst", r.dst.str()},
                  {"state", ct_state_name(r.entry.state)},
                  {"origin", r.entry.origin == NT_DIR_FROM_VM ? "from-vm" : "to-vm"},
                  {"age_s", r.age_ns / 1000000000ull},
                  {"idle_s", r.idle_ns / 1000000000ull},
                  {"packets", r.entry.packets},
                  {"rule_id", r.rule_id}};
        if (r.key.proto == 1 || r.key.proto == 58) {
            e["icmp_id"] = be16toh(r.key.sport);
        } else {
            e["sport"] = be16toh(r.key.sport);
            e["dport"] = be16toh(r.key.dport);
        }
        a.push_back(e);
    }
    return a;
}

std::string ct_text(const std::vector<CtRow>& rows) {
    if (rows.empty()) return "no tracked connections\n";
    TextTable t({"PORT", "PROTO", "FLOW", "STATE", "ORIGIN", "AGE", "IDLE", "PKTS", "RULE"});
    for (const auto& r : rows)
        t.add({r.port_name.empty() ? r.port_id : r.port_name, proto_name(r.key.proto),
               endpoint(r.src, r.key.sport, r.key.proto) + " -> " + endpoint(r.dst, r.key.dport, r.key.proto),
               ct_state_name(r.entry.state), r.entry.origin == NT_DIR_FROM_VM ? "from-vm" : "to-vm",
               secs(r.age_ns), secs(r.idle_ns), std::to_string(r.entry.packets), r.rule_id});
    return t.str();
}

json port_detail_json(const PortDetail& d) {
    json j = ports_json({d.port})[0];
    json macs = json::array(), addrs = json::array();
    for (const auto& m : d.allowed_macs) macs.push_back(m.str());
    for (const auto& a : d.allowed_addresses) addrs.push_back({{"mac_address", a.mac.str()}, {"ip", a.ip.str()}});
    j["allowed_macs"] = macs;
    j["allowed_addresses"] = addrs;
    j["rules"] = rules_json(d.rules);
    return j;
}

std::string port_detail_text(const PortDetail& d) {
    std::ostringstream os;
    const auto& p = d.port;
    os << "port " << p.id << (p.name.empty() ? "" : " (" + p.name + ")") << "\n"
       << "  interface  " << p.ifname << " (ifindex " << p.ifindex << ")\n"
       << "  network    " << (p.network_name.empty() ? p.network_id : p.network_name + " " + p.network_id) << "\n"
       << "  mac        " << p.mac.str() << "\n"
       << "  state      " << port_flags_text(p.flags) << ", mtu " << p.mtu << "\n"
       << "  counters   from-vm " << p.stats.from_vm.packets << ", to-vm " << p.stats.to_vm.packets
       << ", dropped " << p.stats.dropped.packets << ", arp replies " << p.stats.arp_reply.packets << "\n";
    if (!(p.flags & NT_PORT_SECURITY)) {
        os << "  policy     port security disabled: no anti-spoofing, no security groups\n";
        return os.str();
    }
    os << "  may send as:\n";
    for (const auto& a : d.allowed_addresses) os << "    " << a.mac.str() << "  " << a.ip.str() << "\n";
    if (d.rules.empty())
        os << "  policy     no security group rules: everything but DHCP, ARP and IPv6 ND is dropped\n";
    else
        os << "  policy     stateful; new flows need one of these rules (replies always pass):\n"
           << rules_text(d.rules);
    return os.str();
}

json attachments_json(const std::vector<TcAttachment>& rows) {
    json a = json::array();
    for (const auto& r : rows)
        a.push_back({{"interface", r.ifname}, {"ifindex", r.ifindex},
                     {"hook", r.ingress ? "ingress" : "egress"},
                     {"mode", r.mode == NT_ATTACH_TCX ? "tcx" : "cls_bpf"}, {"prog_id", r.prog_id},
                     {"netns", r.netns}});
    return a;
}

std::string attachments_text(const std::vector<TcAttachment>& rows) {
    TextTable t({"INTERFACE", "HOOK", "MODE", "PROG-ID", "NETNS"});
    auto sorted = rows;
    std::sort(sorted.begin(), sorted.end(), [](const TcAttachment& a, const TcAttachment& b) {
        return std::tie(a.ifname, b.ingress) < std::tie(b.ifname, a.ingress);
    });
    for (const auto& r : sorted)
        t.add({r.ifname, r.ingress ? "ingress" : "egress", r.mode == NT_ATTACH_TCX ? "tcx" : "cls_bpf",
               std::to_string(r.prog_id), r.netns.empty() ? "-" : r.netns});
    return t.str();
}

}  // namespace neutrino::cli
