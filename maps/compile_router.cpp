#include "maps/compile_router.hpp"

#include <algorithm>
#include <vector>

#include "maps/abi_util.hpp"
#include "maps/compile.hpp"

namespace neutrino {

bool is_router_interface(const Port& port) {
    return port.device_owner == "network:router_interface" ||
           port.device_owner == "network:router_interface_distributed";
}

namespace {

const Router* enabled_router(const State& state, const Port& port) {
    if (!is_router_interface(port) || !port.admin_state_up) return nullptr;
    const Router* r = state.find_router(port.device_id);
    return r && r->admin_state_up ? r : nullptr;
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
};

}  // namespace

std::set<std::string> routers_serving(const State& state, std::set<std::string>& nets) {
    std::set<std::string> routers;
    for (const auto& p : state.ports)
        if (const Router* r = enabled_router(state, p); r && nets.count(p.network_id)) routers.insert(r->id);
    for (const auto& p : state.ports)
        if (const Router* r = enabled_router(state, p); r && routers.count(r->id)) nets.insert(p.network_id);
    return routers;
}

void compile_routers(const State& state, const std::set<std::string>& routers,
                     const std::map<std::string, uint32_t>& net_ids, MapEntries& e) {
    std::vector<std::string> all_ids;
    for (const auto& r : state.routers) all_ids.push_back(r.id);
    const auto router_ids = assign_compact_ids(all_ids);

    for (const auto& router_id : routers) {
        const Router& router = *state.find_router(router_id);
        const uint32_t rid = router_ids.at(router_id);
        std::vector<Interface> ifaces;
        for (const auto& p : state.ports) {
            if (enabled_router(state, p) != &router) continue;
            Interface in{&p, net_ids.at(p.network_id), {}};
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
            std::copy(p.mac_address.b.begin(), p.mac_address.b.end(), fk.mac);
            auto fv = zeroed<nt_fdb_entry>();
            fv.router_id = rid;
            fv.flags = NT_FDB_ROUTER;
            for (const auto& f : p.fixed_ips)
                if (f.ip_address.is_v4()) {
                    fv.router_ip = f.ip_address.to_abi();
                    break;
                }
            e.fdb[fk] = fv;

            // The gateway answers ARP (and ICMP echo) on every host.
            add_port_neighbours(p, in.net_id, NT_NEIGH_ROUTER, 0, e);
            for (const Subnet* s : in.subnets) {
                if (!s->cidr.addr.is_v4()) continue;  // IPv4 only: see the static routes
                auto rv = zeroed<nt_route>();
                rv.net_id = in.net_id;
                rv.flags = NT_ROUTE_CONNECTED;
                std::copy(p.mac_address.b.begin(), p.mac_address.b.end(), rv.mac);
                e.routes[route_key(rid, s->cidr)] = rv;
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
                auto rv = zeroed<nt_route>();
                rv.net_id = in.net_id;
                rv.flags = NT_ROUTE_VIA;
                rv.nexthop = rt.nexthop.to_abi();
                std::copy(in.port->mac_address.b.begin(), in.port->mac_address.b.end(), rv.mac);
                e.routes.emplace(route_key(rid, rt.destination), rv);
                break;
            }
        }
        auto info = zeroed<nt_router_info>();
        copy_name(info.id, router.id);
        copy_name(info.name, router.name);
        e.router_info[rid] = info;
    }
}

}  // namespace neutrino
