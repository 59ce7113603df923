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

std::pair<uint16_t, uint16_t> snat_port_slice(const State& state, const Router& router, const std::string& host) {
    std::set<std::string> nets, hosts;
    for (const auto& p : state.ports)
        if (is_router_interface(p) && p.device_id == router.id) nets.insert(p.network_id);
    for (const auto& p : state.ports)
        if (p.is_vm_port() && !p.host_id.empty() && nets.count(p.network_id)) hosts.insert(p.host_id);
    hosts.insert(host);
    const uint32_t n = static_cast<uint32_t>(hosts.size());
    const uint32_t i = static_cast<uint32_t>(std::distance(hosts.begin(), hosts.find(host)));
    const uint32_t span = NT_SNAT_PORT_MAX - NT_SNAT_PORT_MIN + 1;
    const uint32_t first = NT_SNAT_PORT_MIN + i * span / n;
    const uint32_t last = NT_SNAT_PORT_MIN + (i + 1) * span / n - 1;
    return {static_cast<uint16_t>(first), static_cast<uint16_t>(last)};
}

bool is_snat_owner(const State& state, const Router& router, const std::string& host) {
    return snat_port_slice(state, router, host).first == NT_SNAT_PORT_MIN;
}

void compile_router_nat(const State& state, const RouterGateway& gw, const std::string& host, MapEntries& e) {
    const auto ext = external_ip(gw);
    if (!ext) return;
    if (gw.router->external_gateway_info->enable_snat) {
        auto v = zeroed<nt_snat>();
        v.ext_ip = ext->to_abi();
        std::tie(v.port_min, v.port_max) = snat_port_slice(state, *gw.router, host);
        e.snat[gw.router_id] = v;
    }
    for (const auto& fip : state.floatingips) {
        if (!fip.port_id || fip.router_id != gw.router->id || !fip.floating_ip_address.is_v4()) continue;
        const Port* port = state.find_port(*fip.port_id);
        if (!port || port->host_id != host) continue;
        const auto fixed = fixed_ip_of(fip, *port);
        if (!fixed) continue;
        add_fip(gw.router_id, NT_NAT_OUT, *fixed, fip.floating_ip_address, e);
        add_fip(gw.router_id, NT_NAT_IN, fip.floating_ip_address, *fixed, e);
        // Its ARP answer on the external network: the router's gateway MAC.
        auto nk = zeroed<nt_neigh_key>();
        nk.net_id = gw.net_id;
        nk.ip = fip.floating_ip_address.to_abi();
        auto nv = zeroed<nt_neigh>();
        std::copy(gw.port->mac_address.b.begin(), gw.port->mac_address.b.end(), nv.mac);
        nv.flags = NT_NEIGH_ROUTER;
        e.neigh[nk] = nv;
    }
}

}  // namespace neutrino
