// Inspection of the L2 tables: networks with their flood lists, and the
// addresses the ARP/ND responder answers plus the next hops learned on
// external networks.
#include <algorithm>
#include <map>
#include <tuple>

#include "loader/datapath.hpp"
#include "loader/inspect_util.hpp"
#include "loader/instance.hpp"
#include "maps/bpf_map.hpp"

namespace neutrino {

using inspect::ip_of;
using inspect::mac_of;
using inspect::net_name;
using inspect::str_of;

namespace {

constexpr const char* kMapExtNeigh = "nt_ext_neigh";  // written by the datapath only

}  // namespace

std::vector<NetworkRow> Instance::networks() const {
    MapEntries e = entries();
    std::map<uint32_t, std::string> ifnames;  // taps and uplinks of this instance
    for (const auto& a : attachments()) ifnames[a.ifindex] = a.ifname;
    for (const auto& [tag, info] : e.port_info) ifnames[info.ifindex] = str_of(info.ifname, sizeof info.ifname);
    auto ifname = [&](uint32_t i) { return ifnames.count(i) ? ifnames[i] : "ifindex " + std::to_string(i); };

    std::vector<NetworkRow> rows;
    for (const auto& [k, v] : e.nets) {
        NetworkRow r;
        r.net_id = k.net_id;
        r.name = net_name(e, k.net_id, &r.id);
        r.type = v.type;
        r.segment = v.seg_id;
        r.mtu = v.mtu;
        r.admin_up = v.flags & NT_NET_ADMIN_UP;
        r.external = v.flags & NT_NET_EXTERNAL;
        if (v.uplink) r.uplink = ifname(v.uplink);
        for (uint32_t slot = 0; slot < v.flood_count; slot++) {
            auto it = e.flood.find(nt_flood_key{k.net_id, slot});
            if (it == e.flood.end()) continue;
            const auto& f = it->second;
            r.flood.push_back({(f.flags & NT_FDB_REMOTE) ? "VTEP " + ip_of(f.vtep).str() : ifname(f.ifindex)});
        }
        rows.push_back(std::move(r));
    }
    std::sort(rows.begin(), rows.end(),
              [](const NetworkRow& a, const NetworkRow& b) { return std::tie(a.name, a.id) < std::tie(b.name, b.id); });
    return rows;
}

std::vector<NeighRow> Instance::neighbours() const {
    MapEntries e = entries();
    std::map<uint32_t, std::string> port_ids;  // port_tag -> Neutron id
    for (const auto& [tag, info] : e.port_info) port_ids[tag] = str_of(info.id, sizeof info.id);
    auto row = [&](const nt_neigh_key& k, const nt_neigh& v, const char* kind) {
        NeighRow r;
        r.net_id = k.net_id;
        r.network_name = net_name(e, k.net_id, &r.network_id);
        r.ip = ip_of(k.ip);
        r.mac = mac_of(v.mac);
        r.kind = kind;
        r.remote = v.flags & NT_NEIGH_REMOTE;
        if (port_ids.count(v.port_tag)) r.port_id = port_ids[v.port_tag];
        return r;
    };
    std::vector<NeighRow> rows;
    for (const auto& [k, v] : e.neigh) rows.push_back(row(k, v, (v.flags & NT_NEIGH_ROUTER) ? "router" : "port"));
    std::vector<NeighRow> learned;
    BpfMap<nt_neigh_key, nt_neigh> ext(datapath(false).map_fd(kMapExtNeigh), kMapExtNeigh);
    ext.for_each([&](const nt_neigh_key& k, const nt_neigh& v) { learned.push_back(row(k, v, "learned")); });
    auto order = [](const NeighRow& a, const NeighRow& b) {
        return std::tie(a.network_name, a.network_id, a.ip) < std::tie(b.network_name, b.network_id, b.ip);
    };
    std::sort(rows.begin(), rows.end(), order);
    std::sort(learned.begin(), learned.end(), order);
    rows.insert(rows.end(), learned.begin(), learned.end());
    return rows;
}

}  // namespace neutrino
