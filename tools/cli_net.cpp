#include "tools/cli_net.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

namespace neutrino::cli {

using nlohmann::json;

namespace {

std::string network_label(const std::string& name, const std::string& id) { return name.empty() ? id : name; }

int print_networks(const Globals& g, const std::vector<NetworkRow>& rows) {
    if (g.json()) {
        json a = json::array();
        for (const auto& r : rows) {
            json flood = json::array();
            for (const auto& f : r.flood) flood.push_back(f.target);
            a.push_back({{"id", r.id}, {"name", r.name}, {"net_id", r.net_id}, {"type", net_type_name(r.type)},
                         {"segmentation_id", r.segment ? json(r.segment) : json(nullptr)}, {"mtu", r.mtu},
                         {"admin_state_up", r.admin_up}, {"router_external", r.external},
                         {"uplink", r.uplink.empty() ? json(nullptr) : json(r.uplink)}, {"flood", flood}});
        }
        print_json(a);
        return 0;
    }
    TextTable t({"NETWORK", "ID", "TYPE", "SEGMENT", "MTU", "STATE", "UPLINK", "FLOOD TO"});
    for (const auto& r : rows) {
        std::string flood;
        for (const auto& f : r.flood) flood += (flood.empty() ? "" : ", ") + f.target;
        t.add({r.name, r.id, net_type_name(r.type) + (r.external ? " (external)" : ""), r.segment ? std::to_string(r.segment) : "-",
               std::to_string(r.mtu), r.admin_up ? "up" : "down", r.uplink.empty() ? "-" : r.uplink,
               flood.empty() ? "-" : flood});
    }
    std::cout << t.str();
    return 0;
}

int print_neighbours(const Globals& g, const std::vector<NeighRow>& rows) {
    if (g.json()) {
        json a = json::array();
        for (const auto& r : rows)
            a.push_back({{"network_id", r.network_id}, {"network_name", r.network_name}, {"ip", r.ip.str()},
                         {"mac", r.mac.str()}, {"kind", r.kind}, {"remote", r.remote},
                         {"port_id", r.port_id.empty() ? json(nullptr) : json(r.port_id)}});
        print_json(a);
        return 0;
    }
    TextTable t({"NETWORK", "IP", "MAC", "ANSWERED FOR", "PORT"});
    for (const auto& r : rows)
        t.add({network_label(r.network_name, r.network_id), r.ip.str(), r.mac.str(),
               r.kind == "learned" ? "learned from ARP (next hop)" : r.kind + (r.remote ? " (other host)" : ""),
               r.port_id.empty() ? "-" : r.port_id});
    std::cout << t.str();
    return 0;
}

}  // namespace

bool NetCommands::given() const {
    for (const CLI::App* c : {network, neigh})
        if (c && c->parsed()) return true;
    return false;
}

std::unique_ptr<NetCommands> add_net_commands(CLI::App& app) {
    auto c = std::make_unique<NetCommands>();
    c->network = app.add_subcommand("network", "Networks present on this host (nt_nets, nt_flood)");
    c->network->require_subcommand(1);
    c->network_list = c->network->add_subcommand(
        "list", "Every network: type, segment, MTU, the uplink that carries it, where BUM frames go");
    c->neigh = app.add_subcommand("neigh", "Addresses the ARP/ND responder answers, next hops learned outside");
    c->neigh->require_subcommand(1);
    c->neigh_list = c->neigh->add_subcommand(
        "list", "nt_neigh (ports' and routers' addresses, answered in BPF), then nt_ext_neigh (learned from ARP)");
    c->neigh_list->add_option("--network", c->network_ref, "Only this network (id, id prefix or name)");
    c->neigh->footer("\nAn ARP request for an address listed here is answered by the tap program and\n"
                     "never reaches another VM; a request for any other address is flooded in its network.");
    return c;
}

int run_net_commands(const Globals& g, const NetCommands& c) {
    Instance inst(g.instance_options());
    if (c.network_list->parsed()) return print_networks(g, inst.networks());
    auto rows = inst.neighbours();
    std::erase_if(rows, [&](const NeighRow& r) { return !c.network_ref.empty() && !ref_matches(c.network_ref, r.network_id, r.network_name); });
    return print_neighbours(g, rows);
}

}  // namespace neutrino::cli
