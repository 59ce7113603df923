// Inspection: everything `neutrino` shows comes from the pinned maps.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <map>
#include <cstring>
#include <ctime>
#include <set>
#include <tuple>

#include "loader/datapath.hpp"
#include "loader/error.hpp"
#include "loader/inspect_util.hpp"
#include "loader/instance.hpp"
#include "maps/bpf_map_store.hpp"
#include "maps/drop_reasons.hpp"

namespace neutrino {

namespace {

using inspect::ip_of;
using inspect::mac_of;
using inspect::net_name;
using inspect::str_of;

// The clock of bpf_ktime_get_ns(), for ages of datapath entries.
uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

template <class V>
V sum_cpus(const std::vector<V>& per_cpu);

template <>
nt_counter sum_cpus(const std::vector<nt_counter>& v) {
    nt_counter c{};
    for (const auto& x : v) {
        c.packets += x.packets;
        c.bytes += x.bytes;
    }
    return c;
}

}  // namespace

MapEntries Instance::entries() const {
    BpfMapStore store(datapath(false).maps());
    return store.read_all();
}

std::vector<TcAttachment> Instance::attachments() const {
    Datapath& dp = datapath(false);
    return TcAttacher(dp.map_fd(kMapAttachments), pins_.links, opts_.tc_mode).list();
}

std::vector<PortRow> Instance::ports() const {
    Datapath& dp = datapath(false);
    MapEntries e = entries();
    PerCpuBpfMap<__u32, nt_port_stats> stats(dp.map_fd(kMapPortStats), kMapPortStats);
    std::vector<PortRow> rows;
    for (const auto& [k, p] : e.ports) {
        PortRow r;
        r.ifindex = k.ifindex;
        r.port_tag = p.port_tag;
        r.policy_id = p.policy_id;
        r.net_id = p.net_id;
        r.mac = mac_of(p.mac);
        r.flags = p.flags;
        r.mtu = p.mtu;
        if (auto it = e.port_info.find(p.port_tag); it != e.port_info.end()) {
            r.id = str_of(it->second.id, sizeof it->second.id);
            r.name = str_of(it->second.name, sizeof it->second.name);
            r.ifname = str_of(it->second.ifname, sizeof it->second.ifname);
        }
        nt_net_key nk{p.net_id};
        if (auto it = e.net_info.find(nk); it != e.net_info.end()) {
            r.network_id = str_of(it->second.id, sizeof it->second.id);
            r.network_name = str_of(it->second.name, sizeof it->second.name);
        }
        for (const auto& [nk2, n] : e.neigh)
            if (nk2.net_id == p.net_id && n.port_tag == p.port_tag) r.ips.push_back(ip_of(nk2.ip));
        for (const auto& cpu : stats.lookup(p.port_tag)) {
            auto add = [](nt_counter& a, const nt_counter& b) {
                a.packets += b.packets;
                a.bytes += b.bytes;
            };
            add(r.stats.from_vm, cpu.from_vm);
            add(r.stats.to_vm, cpu.to_vm);
            add(r.stats.arp_reply, cpu.arp_reply);
            add(r.stats.flooded, cpu.flooded);
            add(r.stats.dropped, cpu.dropped);
        }
        rows.push_back(std::move(r));
    }
    std::sort(rows.begin(), rows.end(), [](const PortRow& a, const PortRow& b) {
        return std::tie(a.network_id, a.ifname) < std::tie(b.network_id, b.ifname);
    });
    return rows;
}

std::vector<FdbRow> Instance::fdb() const {
    MapEntries e = entries();
    std::vector<FdbRow> rows;
    for (const auto& [k, v] : e.fdb) {
        FdbRow r;
        r.net_id = k.net_id;
        r.mac = mac_of(k.mac);
        r.flags = v.flags;
        r.ifindex = (v.flags & NT_FDB_ROUTER) ? 0 : v.ifindex;
        r.vtep = (v.flags & NT_FDB_ROUTER) ? IpAddr{} : ip_of(v.vtep);
        if (auto it = e.net_info.find(nt_net_key{k.net_id}); it != e.net_info.end())
            r.network_id = str_of(it->second.id, sizeof it->second.id);
        for (const auto& [tag, info] : e.port_info)
            if (info.ifindex == v.ifindex && info.net_id == k.net_id && (v.flags & NT_FDB_LOCAL)) {
                r.ifname = str_of(info.ifname, sizeof info.ifname);
                r.port_id = str_of(info.id, sizeof info.id);
            }
        rows.push_back(std::move(r));
    }
    std::sort(rows.begin(), rows.end(), [](const FdbRow& a, const FdbRow& b) {
        return std::tie(a.network_id, a.mac) < std::tie(b.network_id, b.mac);
    });
    return rows;
}

std::vector<DropRow> Instance::drops() const {
    Datapath& dp = datapath(false);
    PerCpuBpfMap<__u32, nt_counter> m(dp.map_fd(kMapDropStats), kMapDropStats);
    std::vector<DropRow> rows;
    for (const auto& t : drop_reasons()) {
        DropRow r{t.number, t.name, t.description, {}};
        for (const auto& c : m.lookup(t.number)) {
            r.counter.packets += c.packets;
            r.counter.bytes += c.bytes;
        }
        rows.push_back(r);
    }
    return rows;
}

std::vector<RuleRow> Instance::rules() const {
    Datapath& dp = datapath(false);
    MapEntries e = entries();
    PerCpuBpfMap<__u32, nt_counter> stats(dp.map_fd(kMapRuleStats), kMapRuleStats);
    std::vector<RuleRow> rows;
    for (const auto& [tag, info] : e.rule_info) {
        RuleRow r;
        r.rule_tag = tag;
        r.rule_id = str_of(info.rule_id, sizeof info.rule_id);
        r.sg_id = str_of(info.sg_id, sizeof info.sg_id);
        r.sg_name = str_of(info.sg_name, sizeof info.sg_name);
        r.description = str_of(info.desc, sizeof info.desc);
        r.flows = sum_cpus(stats.lookup(tag));
        rows.push_back(std::move(r));
    }
    std::sort(rows.begin(), rows.end(), [](const RuleRow& a, const RuleRow& b) {
        return std::tie(a.sg_name, a.sg_id, a.description) < std::tie(b.sg_name, b.sg_id, b.description);
    });
    return rows;
}

std::vector<CtRow> Instance::conntrack() const {
    Datapath& dp = datapath(false);
    MapEntries e = entries();
    BpfMap<nt_ct_key, nt_ct_entry> ct(dp.map_fd(kMapCt), kMapCt);
    const uint64_t now = monotonic_ns();
    std::vector<CtRow> rows;
    ct.for_each([&](const nt_ct_key& k, const nt_ct_entry& v) {
        CtRow r;
        r.key = k;
        r.entry = v;
        r.age_ns = now > v.created_ns ? now - v.created_ns : 0;
        r.idle_ns = now > v.last_seen_ns ? now - v.last_seen_ns : 0;
        r.src = ip_of(k.src);
        r.dst = ip_of(k.dst);
        if (auto it = e.port_info.find(k.zone); it != e.port_info.end()) {
            r.port_id = str_of(it->second.id, sizeof it->second.id);
            r.port_name = str_of(it->second.name, sizeof it->second.name);
        }
        if (auto it = e.rule_info.find(v.rule_tag); it != e.rule_info.end())
            r.rule_id = str_of(it->second.rule_id, sizeof it->second.rule_id);
        rows.push_back(std::move(r));
    });
    std::sort(rows.begin(), rows.end(), [](const CtRow& a, const CtRow& b) { return a.entry.created_ns < b.entry.created_ns; });
    return rows;
}

size_t Instance::ct_flush(const std::optional<uint32_t>& zone) {
    Datapath& dp = datapath(false);
    BpfMap<nt_ct_key, nt_ct_entry> ct(dp.map_fd(kMapCt), kMapCt);
    std::vector<nt_ct_key> keys;
    ct.for_each([&](const nt_ct_key& k, const nt_ct_entry&) {
        if (!zone || k.zone == *zone) keys.push_back(k);
    });
    size_t n = 0;
    for (const auto& k : keys) n += ct.erase(k);
    return n;
}

nt_ct_gc_stats Instance::ct_gc_stats() const {
    Datapath& dp = datapath(false);
    BpfMap<__u32, nt_ct_gc_value> m(dp.map_fd(kMapCtGc), kMapCtGc);
    auto v = m.lookup(0);
    return v ? v->stats : nt_ct_gc_stats{};
}

PortDetail Instance::port_detail(const std::string& id_or_name) const {
    PortDetail d;
    bool found = false;
    for (auto& p : ports())
        if (p.id == id_or_name || p.name == id_or_name || p.ifname == id_or_name ||
            (id_or_name.size() >= 8 && p.id.rfind(id_or_name, 0) == 0)) {
            d.port = p;
            found = true;
            break;
        }
    if (!found) throw Error("no local port matches '" + id_or_name + "' (see `neutrino port list`)");
    MapEntries e = entries();
    for (const auto& [k, v] : e.addrs) {
        if (k.port_tag != d.port.port_tag) continue;
        if (v.flags & NT_ADDR_MAC_ONLY) {
            d.allowed_macs.push_back(mac_of(k.mac));
        } else {
            IpAddr a = ip_of(k.ip);
            int bits = static_cast<int>(k.prefixlen) - NT_ADDR_FIXED_BITS;
            d.allowed_addresses.push_back({mac_of(k.mac), Cidr{a, a.is_v4() ? bits - 96 : bits}});
        }
    }
    std::set<uint32_t> tags;
    for (const auto& [k, v] : e.sg_ports)
        if (d.port.policy_id && k.policy_id == d.port.policy_id) tags.insert(v.rule_tag);
    for (const auto& r : rules())
        if (tags.count(r.rule_tag)) d.rules.push_back(r);
    return d;
}

TunnelView Instance::tunnels() const {
    Datapath& dp = datapath(false);
    MapEntries e = entries();
    TunnelView t;
    if (auto it = e.config.find(0); it != e.config.end()) {
        t.local = ip_of(it->second.tunnel_ip);
        t.tunnel_ifindex = it->second.tunnel_ifindex;
    }
    for (const auto& [k, v] : e.vteps) t.vteps.push_back(ip_of(k.ip));
    PerCpuBpfMap<__u32, nt_uplink_stats> stats(dp.map_fd("nt_uplink_stats"), "nt_uplink_stats");
    std::map<uint32_t, std::string> names;
    for (const auto& a : attachments()) names[a.ifindex] = a.ifname;
    stats.for_each_key([&](__u32 ifindex) {
        UplinkRow r;
        r.ifindex = ifindex;
        r.ifname = names.count(ifindex) ? names[ifindex] : "";
        for (const auto& c : stats.lookup(ifindex)) {
            r.stats.encap.packets += c.encap.packets;
            r.stats.encap.bytes += c.encap.bytes;
            r.stats.decap.packets += c.decap.packets;
            r.stats.decap.bytes += c.decap.bytes;
            r.stats.dropped.packets += c.dropped.packets;
            r.stats.dropped.bytes += c.dropped.bytes;
        }
        t.uplinks.push_back(r);
    });
    return t;
}

std::vector<RouteRow> Instance::routes() const {
    MapEntries e = entries();
    std::vector<RouteRow> rows;
    for (const auto& [k, v] : e.routes) {
        RouteRow r;
        r.router_id = k.router_id;
        if (auto it = e.router_info.find(k.router_id); it != e.router_info.end()) {
            r.router = str_of(it->second.id, sizeof it->second.id);
            r.router_name = str_of(it->second.name, sizeof it->second.name);
        }
        IpAddr dst = ip_of(k.dst);
        const int bits = static_cast<int>(k.prefixlen) - 32;
        r.destination = Cidr{dst, dst.is_v4() ? bits - 96 : bits};
        r.type = (v.flags & NT_ROUTE_VIA) ? "via" : "connected";
        if (v.flags & NT_ROUTE_VIA) r.nexthop = ip_of(v.nexthop);
        r.net_id = v.net_id;
        r.network_name = net_name(e, v.net_id, &r.network_id);
        r.mac = mac_of(v.mac);
        rows.push_back(std::move(r));
    }
    // Per router, most specific first: the order the lookup prefers.
    std::sort(rows.begin(), rows.end(), [](const RouteRow& a, const RouteRow& b) {
        return std::make_tuple(a.router_name, a.router, -a.destination.prefix, a.destination.addr) <
               std::make_tuple(b.router_name, b.router, -b.destination.prefix, b.destination.addr);
    });
    return rows;
}

std::vector<RouterRow> Instance::routers() const {
    MapEntries e = entries();
    std::map<uint32_t, RouterRow> by_id;
    for (const auto& [rid, info] : e.router_info) {
        RouterRow& r = by_id[rid];
        r.router_id = rid;
        r.id = str_of(info.id, sizeof info.id);
        r.name = str_of(info.name, sizeof info.name);
    }
    for (const auto& [k, v] : e.fdb) {
        if (!(v.flags & NT_FDB_ROUTER) || (v.flags & NT_FDB_SNAT_PEER) || !by_id.count(v.router_id)) continue;
        RouterRow::Interface in;
        in.network_name = net_name(e, k.net_id, &in.network_id);
        in.mac = mac_of(k.mac);
        for (const auto& [nk, n] : e.neigh)
            if (nk.net_id == k.net_id && (n.flags & NT_NEIGH_ROUTER) && std::equal(n.mac, n.mac + 6, k.mac))
                in.ips.push_back(ip_of(nk.ip));
        by_id[v.router_id].interfaces.push_back(std::move(in));
    }
    for (const auto& [k, v] : e.routes)
        if (by_id.count(k.router_id)) by_id[k.router_id].routes++;
    for (const auto& [rid, sn] : e.snat) {
        if (!by_id.count(rid)) continue;
        RouterRow& r = by_id[rid];
        r.snat = (sn.flags & NT_SNAT_REMOTE) ? RouterRow::Snat::Elsewhere : RouterRow::Snat::Here;
        r.snat_address = ip_of(sn.ext_ip);
        r.snat_host = ip_of(sn.snat_host);
        r.port_min = sn.port_min;
        r.port_max = sn.port_max;
    }
    std::vector<RouterRow> rows;
    for (auto& [rid, r] : by_id) rows.push_back(std::move(r));
    std::sort(rows.begin(), rows.end(),
              [](const RouterRow& a, const RouterRow& b) { return std::tie(a.name, a.id) < std::tie(b.name, b.id); });
    return rows;
}

namespace {

void router_names(const MapEntries& e, uint32_t rid, std::string& id, std::string& name) {
    if (auto it = e.router_info.find(rid); it != e.router_info.end()) {
        id = str_of(it->second.id, sizeof it->second.id);
        name = str_of(it->second.name, sizeof it->second.name);
    }
}

}  // namespace

std::vector<NatRow> Instance::nat() const {
    Datapath& dp = datapath(false);
    MapEntries e = entries();
    BpfMap<nt_nat_key, nt_nat_entry> nat(dp.map_fd(kMapNat), kMapNat);
    const uint64_t now = monotonic_ns();
    std::map<std::vector<uint8_t>, nt_nat_entry> in_entries;
    auto bytes = [](const nt_nat_key& k) {
        return std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(&k), reinterpret_cast<const uint8_t*>(&k + 1));
    };
    std::vector<std::pair<nt_nat_key, nt_nat_entry>> outs;
    nat.for_each([&](const nt_nat_key& k, const nt_nat_entry& v) {
        if (k.dir == NT_NAT_IN) in_entries[bytes(k)] = v;
        else outs.emplace_back(k, v);
    });
    std::vector<NatRow> rows;
    for (const auto& [k, v] : outs) {
        NatRow r;
        router_names(e, k.router_id, r.router, r.router_name);
        r.proto = k.proto;
        r.fixed = ip_of(k.src);
        r.remote = ip_of(k.dst);
        r.external = ip_of(v.addr);
        r.fixed_port = ntohs(k.sport);
        r.remote_port = ntohs(k.dport);
        r.external_port = ntohs(v.port);
        r.state = v.state;
        r.out = v.counter;
        uint64_t last = v.seen_ns;
        // The IN entry the binding names (see nt_nat_gc_visit).
        nt_nat_key in{};
        in.router_id = k.router_id;
        in.proto = k.proto;
        in.dir = NT_NAT_IN;
        in.src = k.dst;
        in.dst = v.addr;
        in.sport = k.proto == IPPROTO_ICMP ? v.port : k.dport;
        in.dport = v.port;
        if (auto it = in_entries.find(bytes(in)); it != in_entries.end()) {
            r.in = it->second.counter;
            last = std::max<uint64_t>(last, it->second.seen_ns);
        }
        r.idle_ns = now > last ? now - last : 0;
        rows.push_back(std::move(r));
    }
    std::sort(rows.begin(), rows.end(), [](const NatRow& a, const NatRow& b) {
        return std::tie(a.router_name, a.external, a.external_port) < std::tie(b.router_name, b.external, b.external_port);
    });
    return rows;
}

std::vector<FipRow> Instance::fips() const {
    MapEntries e = entries();
    std::vector<FipRow> rows;
    for (const auto& [k, v] : e.fips) {
        if (k.dir != NT_NAT_IN) continue;
        FipRow r;
        router_names(e, k.router_id, r.router, r.router_name);
        r.floating = ip_of(k.addr);
        r.fixed = ip_of(v.addr);
        rows.push_back(std::move(r));
    }
    std::sort(rows.begin(), rows.end(), [](const FipRow& a, const FipRow& b) { return a.floating < b.floating; });
    return rows;
}

}  // namespace neutrino
