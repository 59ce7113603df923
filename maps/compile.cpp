// The compile step: a validated State and this host's interface indexes in,
// the exact BPF map entries out. Deterministic: same input, same entries.
#include "maps/compile.hpp"
#include "maps/abi_util.hpp"

#include "maps/compile_dhcp.hpp"
#include "maps/compile_overlay.hpp"
#include "maps/compile_router.hpp"
#include "maps/compile_secgroup.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace neutrino {

namespace {

bool is_uuid(const std::string& id) {
    if (id.size() != 36) return false;
    for (size_t i = 0; i < id.size(); i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? id[i] != '-' : !std::isxdigit(static_cast<unsigned char>(id[i]))) return false;
    }
    return true;
}

}  // namespace

uint32_t compact_id_hint(const std::string& id) {
    if (is_uuid(id)) {
        uint32_t v = static_cast<uint32_t>(std::stoul(id.substr(0, 8), nullptr, 16));
        return v ? v : 1;
    }
    const uint32_t h = fnv1a32(id);  // ids that are not UUIDs still spread
    return h ? h : 1;
}

uint32_t fnv1a32(std::string_view s) {
    uint32_t h = 2166136261u;
    for (unsigned char c : s) {
        h ^= c;
        h *= 16777619u;
    }
    return h;
}

// Ids stay stable when unrelated resources come and go; only a collision
// (rare: 32 bits of a UUID) moves the later id, in sorted order.
std::map<std::string, uint32_t> assign_compact_ids(std::vector<std::string> ids) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::map<std::string, uint32_t> out;
    std::set<uint32_t> used;
    for (const auto& id : ids) {
        uint32_t v = compact_id_hint(id);
        while (v == 0 || used.count(v)) v++;
        used.insert(v);
        out[id] = v;
    }
    return out;
}

namespace {

uint32_t abi_net_type(NetworkType t) {
    switch (t) {
        case NetworkType::Local: return NT_NET_LOCAL;
        case NetworkType::Flat: return NT_NET_FLAT;
        case NetworkType::Vlan: return NT_NET_VLAN;
        case NetworkType::Vxlan: return NT_NET_VXLAN;
        case NetworkType::Gre: return NT_NET_GRE;
    }
    return 0;
}



struct CompiledPolicy {
    uint32_t id = 0, gen = 0;
};
using Policies = std::map<std::vector<std::string>, CompiledPolicy>;

void add_port_entries(const SecurityContext& sec, const Policies& policies, const Port& port, const Network& net,
                      const LocalPort& lp, MapEntries& e) {
    auto pk = zeroed<nt_port_key>();
    pk.ifindex = lp.ifindex;
    auto pv = zeroed<nt_port>();
    pv.net_id = lp.net_id;
    pv.flags = (port.admin_state_up && net.admin_state_up ? NT_PORT_ADMIN_UP : 0) |
               (port.port_security_enabled ? NT_PORT_SECURITY : 0);
    std::copy(port.mac_address.b.begin(), port.mac_address.b.end(), pv.mac);
    pv.mtu = static_cast<uint16_t>(std::min<uint32_t>(net.mtu, 0xffff));
    pv.port_tag = lp.port_tag;
    // The anti-spoofing fast path compares against the first fixed IP,
    // IPv4 preferred (most traffic).
    for (const auto& f : port.fixed_ips)
        if (f.ip_address.is_v4()) {
            pv.ip = f.ip_address.to_abi();
            break;
        }
    if (pv.ip.w[0] == 0 && pv.ip.w[2] == 0 && !port.fixed_ips.empty())
        pv.ip = port.fixed_ips[0].ip_address.to_abi();
    if (port.port_security_enabled) {
        const CompiledPolicy& pol = policies.at(policy_groups(port));
        pv.policy_id = pol.id;
        pv.policy_gen = pol.gen;
        compile_port_addrs(port, lp.port_tag, e);
    }
    compile_port_dhcp(sec.state(), port, lp.port_tag, e);
    e.ports[pk] = pv;
    const bool up = port.admin_state_up && net.admin_state_up;

    auto info = zeroed<nt_port_info>();
    copy_name(info.id, port.id);
    copy_name(info.name, port.name);
    copy_name(info.ifname, lp.interface_name);
    info.ifindex = lp.ifindex;
    info.net_id = lp.net_id;
    e.port_info[lp.port_tag] = info;

    // An admin-down port is cut off both ways, as Neutron's agents do: its
    // tap drops what it sends (nt_port flags), and nothing is forwarded to
    // it (no FDB, ARP responder or flood entries).
    if (!up) return;

    auto fk = zeroed<nt_fdb_key>();
    fk.net_id = lp.net_id;
    std::copy(port.mac_address.b.begin(), port.mac_address.b.end(), fk.mac);
    auto fv = zeroed<nt_fdb_entry>();
    fv.ifindex = lp.ifindex;
    fv.flags = NT_FDB_LOCAL;
    e.fdb[fk] = fv;

    add_port_neighbours(port, lp.net_id, NT_NEIGH_PORT, lp.port_tag, e);
}

void add_network_entries(const Network& net, uint32_t net_id, std::vector<const LocalPort*> members,
                         const NetworkReach& reach, MapEntries& e) {
    // Slots in interface-name order: stable, and independent of file order.
    std::sort(members.begin(), members.end(), [](const LocalPort* a, const LocalPort* b) {
        return a->interface_name < b->interface_name;
    });
    // Local ports first, then one slot per remote host (head-end replication).
    std::vector<nt_flood_entry> slots;
    for (const LocalPort* m : members) {
        auto v = zeroed<nt_flood_entry>();
        v.ifindex = m->ifindex;
        v.flags = NT_FDB_LOCAL;
        slots.push_back(v);
    }
    for (const IpAddr& vtep : reach.flood_vteps) {
        auto v = zeroed<nt_flood_entry>();
        v.ifindex = reach.uplink;
        v.flags = NT_FDB_REMOTE;
        v.vtep = vtep.to_abi();
        slots.push_back(v);
    }
    slots.resize(std::min<size_t>(slots.size(), NT_MAX_FLOOD_SLOTS));
    for (uint32_t slot = 0; slot < slots.size(); slot++) {
        auto k = zeroed<nt_flood_key>();
        k.net_id = net_id;
        k.slot = slot;
        e.flood[k] = slots[slot];
    }
    auto k = zeroed<nt_net_key>();
    k.net_id = net_id;
    auto v = zeroed<nt_net>();
    v.type = abi_net_type(net.type);
    v.seg_id = net.segmentation_id.value_or(0);
    v.mtu = static_cast<uint16_t>(std::min<uint32_t>(net.mtu, 0xffff));
    v.flags = static_cast<uint16_t>((net.admin_state_up ? NT_NET_ADMIN_UP : 0) |
                                    (net.external ? NT_NET_EXTERNAL : 0));
    v.flood_count = static_cast<uint32_t>(slots.size());
    v.uplink = reach.uplink;
    e.nets[k] = v;

    auto info = zeroed<nt_net_info>();
    copy_name(info.id, net.id);
    copy_name(info.name, net.name);
    e.net_info[k] = info;
}

}  // namespace

void add_port_neighbours(const Port& port, uint32_t net_id, uint16_t flags, uint32_t port_tag, MapEntries& e) {
    for (const auto& fip : port.fixed_ips) {
        auto nk = zeroed<nt_neigh_key>();
        nk.net_id = net_id;
        nk.ip = fip.ip_address.to_abi();
        auto nv = zeroed<nt_neigh>();
        std::copy(port.mac_address.b.begin(), port.mac_address.b.end(), nv.mac);
        nv.flags = flags;
        nv.port_tag = port_tag;
        e.neigh[nk] = nv;
    }
}

CompileResult compile(const State& state, const CompileInput& in) {
    CompileResult r;
    std::vector<std::string> net_ids, port_ids;
    for (const auto& n : state.networks) net_ids.push_back(n.id);
    for (const auto& p : state.ports) port_ids.push_back(p.id);
    r.net_ids = assign_compact_ids(net_ids);
    r.port_tags = assign_compact_ids(port_ids);

    for (const auto& port : state.ports) {
        if (port.host_id != in.host || !port.is_vm_port()) continue;
        LocalPort lp{port.id, port.interface_name, 0, r.port_tags.at(port.id),
                     r.net_ids.at(port.network_id)};
        auto it = in.ifindex_by_name.find(port.interface_name);
        if (it == in.ifindex_by_name.end()) {
            r.pending_ports.push_back(lp);
            continue;
        }
        lp.ifindex = it->second;
        r.local_ports.push_back(lp);
    }

    SecurityContext sec(state);
    // One security policy per distinct set of groups among the local ports,
    // compiled once and shared by every port with that set.
    std::set<std::vector<std::string>> sets;
    for (const auto& lp : r.local_ports)
        if (const Port& port = *state.find_port(lp.port_id); port.port_security_enabled)
            sets.insert(policy_groups(port));
    Policies policies;
    for (const auto& [groups, id] : assign_policy_ids(sets))
        policies[groups] = {id, compile_policy(sec, groups, id, r.entries)};
    std::map<std::string, std::vector<const LocalPort*>> by_network;
    for (const auto& lp : r.local_ports) {
        const Port& port = *state.find_port(lp.port_id);
        const Network& net = *state.find_network(port.network_id);
        add_port_entries(sec, policies, port, net, lp, r.entries);
        if (port.admin_state_up) by_network[net.id].push_back(&lp);
        else by_network[net.id];  // the network still exists here
    }
    // Networks this host routes into for its VMs exist here too (their
    // remote ports become reachable through the overlay).
    std::set<std::string> present;
    for (const auto& [net_id, members] : by_network) present.insert(net_id);
    const auto routers = routers_serving(state, present, in.host);
    for (const auto& net_id : present) by_network[net_id];
    compile_routers(state, routers, r.net_ids, in.host, r.entries);
    r.external_next_hops = external_next_hops(state, routers, in.host);
    OverlayContext ov{state, in, state.find_host(in.host), 0};
    if (ov.host && ov.host->tunnel_ip) {
        auto it = in.ifindex_by_name.find(in.tunnel_interface);
        if (it != in.ifindex_by_name.end()) ov.tunnel_ifindex = it->second;
    }
    compile_host_overlay(ov, r.entries);
    for (const auto& [net_id, members] : by_network) {
        const Network& net = *state.find_network(net_id);
        NetworkReach reach = compile_network_overlay(ov, net, r.net_ids.at(net_id), r.port_tags, r.entries);
        add_network_entries(net, r.net_ids.at(net_id), members, reach, r.entries);
    }
    return r;
}

}  // namespace neutrino
