#include "maps/compile_overlay.hpp"
#include "maps/compile.hpp"
#include "maps/abi_util.hpp"

#include <algorithm>
#include <cstring>
#include <set>

namespace neutrino {

namespace {


uint32_t ifindex_of(const CompileInput& in, const std::string& name) {
    auto it = in.ifindex_by_name.find(name);
    return it == in.ifindex_by_name.end() ? 0 : it->second;
}

}  // namespace

void compile_host_overlay(const OverlayContext& ctx, MapEntries& out) {
    // Always present (an array slot): zero means "no tunnel endpoint here".
    auto cfg = zeroed<nt_config>();
    if (ctx.host && ctx.host->tunnel_ip && ctx.tunnel_ifindex) {
        cfg.tunnel_ip = ctx.host->tunnel_ip->to_abi();
        cfg.tunnel_ifindex = ctx.tunnel_ifindex;
    }
    out.config[0] = cfg;
    for (const auto& h : ctx.state.hosts) {
        if (ctx.host && h.name == ctx.host->name) continue;
        if (!h.tunnel_ip) continue;
        auto k = zeroed<nt_vtep_key>();
        k.ip = h.tunnel_ip->to_abi();
        out.vteps[k] = zeroed<nt_vtep>();
    }
}

NetworkReach compile_network_overlay(const OverlayContext& ctx, const Network& net, uint32_t net_id,
                                     const std::map<std::string, uint32_t>& port_tags, MapEntries& out) {
    NetworkReach reach;
    const bool tunnel = net.type == NetworkType::Vxlan || net.type == NetworkType::Gre;
    const bool provider = net.type == NetworkType::Vlan || net.type == NetworkType::Flat;
    if (tunnel && ctx.tunnel_ifindex) {
        reach.uplink = ctx.tunnel_ifindex;
        auto k = zeroed<nt_tun_key>();
        k.type = net.type == NetworkType::Vxlan ? NT_NET_VXLAN : NT_NET_GRE;
        k.seg_id = net.segmentation_id.value_or(0);
        auto v = zeroed<nt_tun_net>();
        v.net_id = net_id;
        out.tun_nets[k] = v;
    } else if (provider && ctx.host && net.physical_network) {
        auto m = ctx.host->physical_interface_mappings.find(*net.physical_network);
        if (m != ctx.host->physical_interface_mappings.end()) reach.uplink = ifindex_of(ctx.in, m->second);
        if (reach.uplink) {
            auto k = zeroed<nt_provider_key>();
            k.ifindex = reach.uplink;
            k.vlan = net.type == NetworkType::Vlan ? net.segmentation_id.value_or(0) : 0;
            auto v = zeroed<nt_provider_net>();
            v.net_id = net_id;
            out.provider[k] = v;
        }
    }
    if (!reach.uplink) return reach;

    // L2 population: ports of this network bound to other hosts.
    std::set<IpAddr> vteps;
    for (const auto& p : ctx.state.ports) {
        if (p.network_id != net.id || !p.is_vm_port() || p.host_id.empty() || p.host_id == ctx.in.host) continue;
        const Host* h = ctx.state.find_host(p.host_id);
        auto fk = zeroed<nt_fdb_key>();
        fk.net_id = net_id;
        std::copy(p.mac_address.b.begin(), p.mac_address.b.end(), fk.mac);
        auto fv = zeroed<nt_fdb_entry>();
        fv.ifindex = reach.uplink;
        if (tunnel) {
            if (!h || !h->tunnel_ip) continue;  // unreachable: no tunnel endpoint
            fv.flags = NT_FDB_REMOTE;
            fv.vtep = h->tunnel_ip->to_abi();
            vteps.insert(*h->tunnel_ip);
        } else {
            fv.flags = NT_FDB_UPLINK;
        }
        out.fdb[fk] = fv;
        add_port_neighbours(p, net_id, NT_NEIGH_PORT | NT_NEIGH_REMOTE, port_tags.at(p.id), out);
    }
    reach.flood_vteps.assign(vteps.begin(), vteps.end());
    return reach;
}

}  // namespace neutrino
