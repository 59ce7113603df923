#include "tools/cli_router.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <sstream>

#include "loader/error.hpp"

namespace neutrino::cli {

using nlohmann::json;

namespace {

json route_json(const RouteRow& r) {
    return {{"router", r.router},
            {"router_name", r.router_name},
            {"destination", r.destination.str()},
            {"type", r.type},
            {"nexthop", r.type == "via" ? json(r.nexthop.str()) : json(nullptr)},
            {"network_id", r.network_id},
            {"network_name", r.network_name},
            {"router_mac", r.mac.str()}};
}

std::string routes_text(const std::vector<RouteRow>& rows) {
    TextTable t({"ROUTER", "DESTINATION", "TYPE", "NEXT HOP", "EGRESS NETWORK", "ROUTER MAC"});
    for (const auto& r : rows)
        t.add({r.router_name.empty() ? r.router : r.router_name, r.destination.str(), r.type,
               r.type == "via" ? r.nexthop.str() : "-", r.network_name.empty() ? r.network_id : r.network_name,
               r.mac.str()});
    return t.str();
}

json router_json(const RouterRow& r) {
    json ifs = json::array();
    for (const auto& in : r.interfaces) {
        json ips = json::array();
        for (const auto& ip : in.ips) ips.push_back(ip.str());
        ifs.push_back({{"network_id", in.network_id}, {"network_name", in.network_name}, {"mac", in.mac.str()},
                       {"ips", ips}});
    }
    json snat = nullptr;
    if (r.snat == RouterRow::Snat::Here)
        snat = {{"address", r.snat_address.str()}, {"host", "here"}, {"port_min", r.port_min}, {"port_max", r.port_max}};
    else if (r.snat == RouterRow::Snat::Elsewhere)
        snat = {{"address", r.snat_address.str()}, {"host", r.snat_host.str()}};
    return {{"id", r.id}, {"name", r.name}, {"interfaces", ifs}, {"routes", r.routes}, {"snat", snat}};
}

// Where the router's default SNAT happens, as this host sees it.
std::string snat_text(const RouterRow& r) {
    switch (r.snat) {
    case RouterRow::Snat::Here:
        return r.snat_address.str() + " here, ports " + std::to_string(r.port_min) + "-" + std::to_string(r.port_max);
    case RouterRow::Snat::Elsewhere:
        return r.snat_address.str() + " on the SNAT host " + r.snat_host.str();
    default:
        return "-";
    }
}

std::string ips_text(const std::vector<IpAddr>& ips) {
    std::string s;
    for (const auto& ip : ips) s += (s.empty() ? "" : ",") + ip.str();
    return s;
}

const char* proto_name(uint8_t p) { return p == 6 ? "tcp" : p == 17 ? "udp" : p == 1 ? "icmp" : "?"; }
// The datapath keeps FIN/RST on the OUT entry; a reply shows as IN packets.
const char* nat_state_name(const NatRow& r) {
    return r.state == NT_NAT_CLOSING ? "closing" : r.in.packets ? "replied" : "new";
}

int print_nat(const Globals& g, const std::vector<NatRow>& rows) {
    if (g.json()) {
        json a = json::array();
        for (const auto& r : rows)
            a.push_back({{"router", r.router}, {"router_name", r.router_name}, {"proto", proto_name(r.proto)},
                         {"fixed", r.fixed.str()}, {"fixed_port", r.fixed_port}, {"external", r.external.str()},
                         {"external_port", r.external_port}, {"remote", r.remote.str()},
                         {"remote_port", r.remote_port}, {"state", nat_state_name(r)},
                         {"idle_seconds", r.idle_ns / 1000000000ull},
                         {"out_packets", r.out.packets}, {"out_bytes", r.out.bytes},
                         {"in_packets", r.in.packets}, {"in_bytes", r.in.bytes}});
        print_json(a);
        return 0;
    }
    std::cout << nat_text(rows);
    return 0;
}

int print_fips(const Globals& g, const std::vector<FipRow>& rows) {
    if (g.json()) {
        json a = json::array();
        for (const auto& r : rows)
            a.push_back({{"router", r.router}, {"router_name", r.router_name}, {"floating_ip", r.floating.str()},
                         {"fixed_ip", r.fixed.str()}});
        print_json(a);
        return 0;
    }
    TextTable t({"FLOATING IP", "FIXED IP", "ROUTER"});
    for (const auto& r : rows) t.add({r.floating.str(), r.fixed.str(), r.router_name.empty() ? r.router : r.router_name});
    std::cout << t.str();
    return 0;
}

}  // namespace

std::string nat_text(const std::vector<NatRow>& rows) {
    TextTable t({"ROUTER", "PROTO", "FIXED", "EXTERNAL", "REMOTE", "STATE", "IDLE", "OUT-PKTS", "IN-PKTS"});
    for (const auto& r : rows)
        t.add({r.router_name.empty() ? r.router : r.router_name, proto_name(r.proto),
               r.fixed.str() + ":" + std::to_string(r.fixed_port),
               r.external.str() + ":" + std::to_string(r.external_port),
               r.remote.str() + ":" + std::to_string(r.remote_port), nat_state_name(r),
               std::to_string(r.idle_ns / 1000000000ull) + "s", std::to_string(r.out.packets),
               std::to_string(r.in.packets)});
    return t.str();
}

bool RouterCommands::given() const {
    for (const CLI::App* c : {router, route, nat, fip})
        if (c && c->parsed()) return true;
    return false;
}

std::unique_ptr<RouterCommands> add_router_commands(CLI::App& app) {
    auto c = std::make_unique<RouterCommands>();
    c->router = app.add_subcommand("router", "Distributed routers this host routes for (no qrouter namespace)");
    c->router->require_subcommand(1);
    c->list = c->router->add_subcommand("list", "Routers with their interfaces (gateway MAC and addresses) and where their default SNAT happens");
    c->show = c->router->add_subcommand("show", "One router: interfaces and its route table");
    c->show->add_option("ROUTER", c->ref, "Router id (or its first 8+ characters) or name")->required();
    c->route = app.add_subcommand("route", "Route tables of the distributed routers");
    c->route->require_subcommand(1);
    c->route_list = c->route->add_subcommand("list", "Every route (connected subnets and static routes), longest prefix first");
    c->route_list->add_option("--router", c->ref, "Only this router (id, id prefix or name)");
    c->nat = app.add_subcommand("nat", "Default SNAT bindings (per flow, with counters)");
    c->nat->require_subcommand(1);
    c->nat_list = c->nat->add_subcommand("list", "Every SNAT binding: fixed -> external address:port, remote, idle time");
    c->fip = app.add_subcommand("fip", "Floating IPs this host translates (stateless 1:1)");
    c->fip->require_subcommand(1);
    c->fip_list = c->fip->add_subcommand("list", "Floating IP <-> fixed IP, per router");
    c->route->footer("\nA frame a VM sends to its gateway MAC is routed on the VM's own host: longest prefix\n"
                     "match in its router's table, then the egress network's L2 path (local tap or tunnel).");
    return c;
}

int run_router_commands(const Globals& g, const RouterCommands& c) {
    Instance inst(g.instance_options());
    if (c.nat_list->parsed()) return print_nat(g, inst.nat());
    if (c.fip_list->parsed()) return print_fips(g, inst.fips());
    auto routes = inst.routes();
    if (!c.ref.empty())
        std::erase_if(routes, [&](const RouteRow& r) { return !ref_matches(c.ref, r.router, r.router_name); });
    if (c.route_list->parsed()) {
        if (g.json()) {
            json a = json::array();
            for (const auto& r : routes) a.push_back(route_json(r));
            print_json(a);
        } else {
            std::cout << routes_text(routes);
        }
        return 0;
    }
    auto routers = inst.routers();
    if (c.show->parsed()) {
        std::erase_if(routers, [&](const RouterRow& r) { return !ref_matches(c.ref, r.id, r.name); });
        if (routers.empty()) throw Error("no router '" + c.ref + "' on this host (see `neutrino router list`)");
        if (routers.size() > 1) throw Error("'" + c.ref + "' matches several routers; give the full id");
        if (g.json()) {
            json j = router_json(routers[0]);
            j["route_table"] = json::array();
            for (const auto& r : routes) j["route_table"].push_back(route_json(r));
            print_json(j);
        } else {
            const auto& r = routers[0];
            std::cout << "router " << r.id << (r.name.empty() ? "" : " (" + r.name + ")") << "\n"
                      << "default SNAT: " << snat_text(r) << "\n";
            TextTable t({"  NETWORK", "MAC", "ADDRESSES"});
            for (const auto& in : r.interfaces)
                t.add({"  " + (in.network_name.empty() ? in.network_id : in.network_name), in.mac.str(),
                       ips_text(in.ips)});
            std::cout << t.str() << "\n" << routes_text(routes);
        }
        return 0;
    }
    if (g.json()) {
        json a = json::array();
        for (const auto& r : routers) a.push_back(router_json(r));
        print_json(a);
    } else {
        TextTable t({"ROUTER", "ID", "INTERFACES", "ROUTES", "DEFAULT SNAT"});
        for (const auto& r : routers) {
            std::string ifs;
            for (const auto& in : r.interfaces)
                ifs += (ifs.empty() ? "" : " ") + (in.network_name.empty() ? in.network_id : in.network_name) + ":" +
                       ips_text(in.ips);
            t.add({r.name, r.id, ifs, std::to_string(r.routes), snat_text(r)});
        }
        std::cout << t.str();
    }
    return 0;
}

}  // namespace neutrino::cli
