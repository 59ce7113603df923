#include "maps/compile_router.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "maps/abi_util.hpp"
#include "maps/compile.hpp"
#include "maps/compile_nat.hpp"

namespace neutrino {

bool is_router_interface(const Port& port) {
    return port.device_owner == "network:router_interface" ||
           port.device_owner == "network:router_interface_distributed";
}

bool is_router_gateway(const Port& port) { return port.device_owner == "network:router_gateway"; }

namespace {

// The router of an enabled interface (tenant side, or with gateways=true
// also its external gateway port), else null.
const Router* enabled_router(const State& state, const Port& port, bool gateways = false) {
    if (!(is_router_interface(port) || (gateways && is_router_gateway(port))) || !port.admin_state_up) return nullptr;
    const Router* r = state.find_router(port.device_id);
    if (!r || !r->admin_state_up) return nullptr;
    if (is_router_gateway(port) && !r->external_gateway_info) return nullptr;
    return r;
}

std::optional<IpAddr> first_v4(const Port& p) {
    for (const auto& f : p.fixed_ips)
        if (f.ip_address.is_v4()) return f.ip_address;
    return std::nullopt;
}

nt_route_key route_key(uint32_t router_id, const Cidr& dst) {
    auto k = zeroed<nt_route_key>();
    k.prefixlen = 32 + static_cast<uint32_t>(dst.network().abi_bits());
    k.router_id = router_id;
    k.dst = dst.network().addr.to_abi();
    return k;
}

// One interface of a router as routing needs it.
struct Interface {
    const Port* port;
    uint32_t net_id;
    std::vector<const Subnet*> subnets;  // the subnets its fixed IPs are on
    bool external;                       // the gateway port: NAT applies beyond it
    MacAddr mac;                         // the router's MAC here (external_mac on the gateway)
    MacAddr send_mac;                    // the source of frames routed onto the network
    bool snat_peer = false;              // the SNAT host's VLAN/flat tenant side (snat_transit_mac)
    uint32_t flags() const { return external ? NT_ROUTE_EXTERNAL : 0; }
};

nt_route route_value(const Interface& in, uint32_t flags) {
    auto rv = zeroed<nt_route>();
    rv.net_id = in.net_id;
    rv.flags = flags | in.flags();
    std::copy(in.send_mac.b.begin(), in.send_mac.b.end(), rv.mac);
    if (auto ip = first_v4(*in.port)) rv.src_ip = htonl(ip->v4_host_order());
    return rv;
}

}  // namespace

std::set<std::string> routers_serving(const State& state, std::set<std::string>& nets, const std::string& host) {
    std::set<std::string> routers;
    for (const auto& p : state.ports)
        if (const Router* r = enabled_router(state, p); r && nets.count(p.network_id)) routers.insert(r->id);
    // The SNAT host translates for every host's VMs, VMs of its own or not.
    for (const auto& p : state.ports)
        if (const Router* r = enabled_router(state, p, true); r && is_router_gateway(p) && is_snat_host(state, *r, host))
            routers.insert(r->id);
    for (const auto& p : state.ports)
        if (const Router* r = enabled_router(state, p, true); r && routers.count(r->id)) nets.insert(p.network_id);
    return routers;
}

void compile_routers(const State& state, const std::set<std::string>& routers,
                     const std::map<std::string, uint32_t>& net_ids, const std::string& host, MapEntries& e) {
    std::vector<std::string> all_ids;
    for (const auto& r : state.routers) all_ids.push_back(r.id);
    const auto router_ids = assign_compact_ids(all_ids);

    for (const auto& router_id : routers) {
        const Router& router = *state.find_router(router_id);
        const uint32_t rid = router_ids.at(router_id);
        std::vector<Interface> ifaces;
        for (const auto& p : state.ports) {
            if (enabled_router(state, p, true) != &router) continue;
            Interface in{&p, net_ids.at(p.network_id), {}, is_router_gateway(p), p.mac_address, p.mac_address};
            if (in.external) in.mac = in.send_mac = external_mac(state, router, p, host);
            // On the SNAT host, a VLAN/flat tenant network also takes other
            // hosts' SNAT flows at the router's SNAT MAC; frames routed onto
            // it leave from that MAC, so the switch learns where it is.
            const Network* net = state.find_network(p.network_id);
            in.snat_peer = !in.external && net && (net->type == NetworkType::Vlan || net->type == NetworkType::Flat) &&
                           router.external_gateway_info && router.external_gateway_info->enable_snat &&
                           is_snat_host(state, router, host);
            if (in.snat_peer) in.send_mac = snat_transit_mac(router);
            for (const auto& f : p.fixed_ips)
                if (const Subnet* s = state.find_subnet(f.subnet_id)) in.subnets.push_back(s);
            ifaces.push_back(std::move(in));
        }

        for (const auto& in : ifaces) {
            const Port& p = *in.port;
            // The router MAC on this network: frames to it are routed, and
            // its errors come from its first IPv4 address here.
            auto fk = zeroed<nt_fdb_key>();
            fk.net_id = in.net_id;
            std::copy(in.mac.b.begin(), in.mac.b.end(), fk.mac);
            auto fv = zeroed<nt_fdb_entry>();
            fv.router_id = rid;
            fv.flags = NT_FDB_ROUTER;
            if (auto ip = first_v4(p)) fv.router_ip = ip->to_abi();
            e.fdb[fk] = fv;
            if (in.snat_peer) {
                std::copy(in.send_mac.b.begin(), in.send_mac.b.end(), fk.mac);
                fv.flags = NT_FDB_ROUTER | NT_FDB_SNAT_PEER;
                e.fdb[fk] = fv;
            }

            // The gateway answers ARP (and ICMP echo) on every host; the
            // external address answers ARP only on the SNAT host, ping on all.
            const bool quiet = in.external && !is_snat_host(state, router, host);
            add_port_neighbours(p, in.net_id, NT_NEIGH_ROUTER | (quiet ? NT_NEIGH_QUIET : 0), 0, e);
            for (const Subnet* s : in.subnets) {
                if (!s->cidr.addr.is_v4()) continue;  // IPv4 only: see the static routes
                e.routes[route_key(rid, s->cidr)] = route_value(in, NT_ROUTE_CONNECTED);
                // The default route: the external subnet's gateway.
                if (in.external && s->gateway_ip && s->gateway_ip->is_v4()) {
                    auto def = route_value(in, NT_ROUTE_VIA);
                    def.nexthop = s->gateway_ip->to_abi();
                    e.routes.emplace(route_key(rid, Cidr{IpAddr::v4(0), 0}), def);
                }
            }
        }
        // Static routes: via a next hop on one of the connected subnets
        // (others are not compiled); connected routes win on equal prefix.
        // IPv4 only, as the datapath routes: nt_routes keys an IPv4 prefix
        // as IPv4-mapped IPv6 with no family of its own, so an IPv6 prefix
        // there (::/0 above all) would match IPv4 destinations.
        for (const auto& rt : router.routes) {
            if (!rt.destination.addr.is_v4()) continue;
            for (const auto& in : ifaces) {
                auto on_link = std::find_if(in.subnets.begin(), in.subnets.end(),
                                            [&](const Subnet* s) { return s->cidr.contains(rt.nexthop); });
                if (on_link == in.subnets.end()) continue;
                auto rv = route_value(in, NT_ROUTE_VIA);
                rv.nexthop = rt.nexthop.to_abi();
                // A static route replaces the default route, never a connected one.
                auto key = route_key(rid, rt.destination);
                auto old = e.routes.find(key);
                if (old == e.routes.end() || !(old->second.flags & NT_ROUTE_CONNECTED)) e.routes[key] = rv;
                break;
            }
        }
        for (const auto& in : ifaces)
            if (in.external) compile_router_nat(state, {&router, rid, in.port, in.net_id}, host, e);
        auto info = zeroed<nt_router_info>();
        copy_name(info.id, router.id);
        copy_name(info.name, router.name);
        e.router_info[rid] = info;
    }
}

std::vector<ExternalNextHop> external_next_hops(const State& state, const std::set<std::string>& routers,
                                                const std::string& host) {
    std::vector<ExternalNextHop> out;
    const Host* h = state.find_host(host);
    if (!h) return out;
    for (const auto& gw : state.ports) {
        const Router* r = enabled_router(state, gw, true);
        if (!r || !is_router_gateway(gw) || !routers.count(r->id)) continue;
        const Network* net = state.find_network(gw.network_id);
        if (!net || !net->physical_network) continue;
        auto iface = h->physical_interface_mappings.find(*net->physical_network);
        if (iface == h->physical_interface_mappings.end()) continue;
        std::optional<IpAddr> source;
        if (is_snat_host(state, *r, host)) source = first_v4(gw);
        for (const auto& f : state.floatingips) {
            if (source) break;
            const Port* vm = f.port_id ? state.find_port(*f.port_id) : nullptr;
            if (vm && f.router_id == r->id && vm->host_id == host && f.floating_ip_address.is_v4())
                source = f.floating_ip_address;
        }
        if (!source) continue;
        for (const auto& fixed : gw.fixed_ips) {
            const Subnet* sn = state.find_subnet(fixed.subnet_id);
            if (!sn || !sn->gateway_ip || !sn->gateway_ip->is_v4()) continue;
            ExternalNextHop hop{iface->second, 0, external_mac(state, *r, gw, host), *source, *sn->gateway_ip};
            if (net->type == NetworkType::Vlan && net->segmentation_id)
                hop.vlan = static_cast<uint16_t>(*net->segmentation_id);
            out.push_back(hop);
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace neutrino
