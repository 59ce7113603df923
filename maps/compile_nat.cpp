#include "maps/compile_nat.hpp"

#include <algorithm>
#include <set>

#include "maps/abi_util.hpp"
#include "maps/compile.hpp"
#include "maps/compile_router.hpp"

namespace neutrino {

namespace {

std::optional<IpAddr> external_ip(const RouterGateway& gw) {
    for (const auto& f : gw.router->external_gateway_info->external_fixed_ips)
        if (f.ip_address.is_v4()) return f.ip_address;
    for (const auto& f : gw.port->fixed_ips)
        if (f.ip_address.is_v4()) return f.ip_address;
    return std::nullopt;
}

std::optional<IpAddr> fixed_ip_of(const FloatingIp& fip, const Port& port) {
    if (fip.fixed_ip_address) return fip.fixed_ip_address;
    for (const auto& f : port.fixed_ips)
        if (f.ip_address.is_v4()) return f.ip_address;
    return std::nullopt;
}

void add_fip(uint32_t rid, uint32_t dir, const IpAddr& from, const IpAddr& to, MapEntries& e) {
    auto k = zeroed<nt_fip_key>();
    k.router_id = rid;
    k.dir = dir;
    k.addr = from.to_abi();
    auto v = zeroed<nt_fip>();
    v.addr = to.to_abi();
    e.fips[k] = v;
}

}  // namespace

std::optional<std::string> snat_host(const State& state, const Router& router) {
    const auto gw = std::find_if(state.ports.begin(), state.ports.end(), [&](const Port& p) {
        return is_router_gateway(p) && p.device_id == router.id;
    });
    if (gw != state.ports.end() && !gw->host_id.empty() && state.find_host(gw->host_id)) return gw->host_id;
    std::set<std::string> nets, hosts;
    for (const auto& p : state.ports)
        if (is_router_interface(p) && p.device_id == router.id) nets.insert(p.network_id);
    for (const auto& p : state.ports)
        if (p.is_vm_port() && !p.host_id.empty() && nets.count(p.network_id)) hosts.insert(p.host_id);
    if (hosts.empty()) return std::nullopt;
    return *hosts.begin();
}

bool is_snat_host(const State& state, const Router& router, const std::string& host) {
    return snat_host(state, router) == host;
}

namespace {

// 06:4e (locally administered, unicast) + 32 bits of FNV-1a of key.
MacAddr derived_mac(const std::string& key) {
    const uint32_t h = fnv1a32(key);
    MacAddr m;
    m.b = {0x06, 0x4e, static_cast<uint8_t>(h >> 24), static_cast<uint8_t>(h >> 16), static_cast<uint8_t>(h >> 8),
           static_cast<uint8_t>(h)};
    return m;
}

}  // namespace

MacAddr external_mac(const State& state, const Router& router, const Port& gateway, const std::string& host) {
    if (is_snat_host(state, router, host)) return gateway.mac_address;
    return derived_mac(router.id + "/" + host);
}

MacAddr snat_transit_mac(const Router& router) { return derived_mac(router.id + "/snat"); }

void compile_router_nat(const State& state, const RouterGateway& gw, const std::string& host, MapEntries& e) {
    const auto ext = external_ip(gw);
    if (!ext) return;
    if (gw.router->external_gateway_info->enable_snat) {
        auto v = zeroed<nt_snat>();
        v.ext_ip = ext->to_abi();
        v.port_min = NT_SNAT_PORT_MIN;
        v.port_max = NT_SNAT_PORT_MAX;
        if (const auto owner = snat_host(state, *gw.router); owner != host) {
            // Translated on the SNAT host: this host sends such flows there.
            // No tunnel endpoint known: the datapath drops them no-snat-path.
            v.flags = NT_SNAT_REMOTE;
            v.port_min = v.port_max = 0;
            const Host* h = owner ? state.find_host(*owner) : nullptr;
            if (h && h->tunnel_ip) v.snat_host = h->tunnel_ip->to_abi();
            const MacAddr transit = snat_transit_mac(*gw.router);
            std::copy(transit.b.begin(), transit.b.end(), v.snat_mac);
        }
        e.snat[gw.router_id] = v;
    }
    const MacAddr mac = external_mac(state, *gw.router, *gw.port, host);
    for (const auto& fip : state.floatingips) {
        if (!fip.port_id || fip.router_id != gw.router->id || !fip.floating_ip_address.is_v4()) continue;
        const Port* port = state.find_port(*fip.port_id);
        if (!port || port->host_id != host) continue;
        const auto fixed = fixed_ip_of(fip, *port);
        if (!fixed) continue;
        add_fip(gw.router_id, NT_NAT_OUT, *fixed, fip.floating_ip_address, e);
        add_fip(gw.router_id, NT_NAT_IN, fip.floating_ip_address, *fixed, e);
        // Its ARP answer on the external network: the router's MAC here.
        auto nk = zeroed<nt_neigh_key>();
        nk.net_id = gw.net_id;
        nk.ip = fip.floating_ip_address.to_abi();
        auto nv = zeroed<nt_neigh>();
        std::copy(mac.b.begin(), mac.b.end(), nv.mac);
        nv.flags = NT_NEIGH_ROUTER;
        e.neigh[nk] = nv;
    }
}

}  // namespace neutrino
