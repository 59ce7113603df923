// `neutrino dhcp show PORT`: what the datapath's DHCP server offers a port
// (address, server, lease, every option as sent) and its message counters.
#include "tools/cli_dhcp.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <sstream>

#include "loader/dhcp_inspect.hpp"

namespace neutrino::cli {

using nlohmann::json;

namespace {

json view_json(const DhcpPortView& v) {
    json j = {{"port", {{"id", v.port.id}, {"name", v.port.name}, {"interface", v.port.ifname},
                        {"port_tag", v.port.port_tag}, {"mac", v.port.mac.str()},
                        {"network_id", v.port.network_id}, {"network_name", v.port.network_name}}},
              {"enabled", v.enabled}};
    if (v.enabled) {
        const auto& c = v.config;
        j["offer"] = {{"address", v.address.str()},
                      {"prefix_len", c.prefix_len},
                      {"netmask", v.netmask.str()},
                      {"router", c.router ? json(v.router.str()) : json(nullptr)},
                      {"server_id", v.server.str()},
                      {"server_mac", v.server_mac.str()},
                      {"server_answers_arp", (c.flags & NT_DHCP_F_ARP) != 0},
                      {"lease_seconds", c.lease_secs == NT_DHCP_LEASE_INFINITE ? json("infinite") : json(c.lease_secs)},
                      {"mtu", c.mtu}};
        json opts = json::array();
        for (const auto& o : v.options) opts.push_back({{"code", o.code}, {"name", o.name}, {"value", o.value}});
        j["options"] = opts;
    }
    json port = json::object(), all = json::object();
    for (const auto& r : v.counters) {
        port[r.name] = r.port;
        all[r.name] = r.all;
    }
    j["counters"] = {{"available", v.counters_available}, {"port", port}, {"all_ports", all}};
    return j;
}

std::string view_text(const DhcpPortView& v) {
    std::ostringstream os;
    const auto& p = v.port;
    os << "port " << p.id << (p.name.empty() ? "" : " (" + p.name + ")") << ", interface " << p.ifname << ", mac "
       << p.mac.str() << "\n";
    if (!v.enabled) {
        os << "  DHCP       not answered: the port has no IPv4 address on a subnet with enable_dhcp\n";
    } else {
        const auto& c = v.config;
        os << "  DHCP       answered by the datapath (no dnsmasq, no namespace)\n"
           << "  address    " << v.address.str() << "/" << int{c.prefix_len} << "\n"
           << "  server     " << v.server.str() << " (mac " << v.server_mac.str() << ", "
           << ((c.flags & NT_DHCP_F_ARP) ? "answered in ARP" : "not answered in ARP: the gateway") << ")\n"
           << "  lease      "
           << (c.lease_secs == NT_DHCP_LEASE_INFINITE ? std::string("infinite") : std::to_string(c.lease_secs) + " s")
           << "\n"
           << "  options as sent in OFFER and ACK (" << c.opts_len << " of " << NT_DHCP_OPTS_LEN << " bytes):\n";
        TextTable t({"    CODE", "NAME", "VALUE"});
        for (const auto& o : v.options) t.add({"    " + std::to_string(o.code), o.name, o.value});
        os << t.str();
    }
    if (!v.counters_available) {
        os << "  counters   unavailable (datapath pinned by a build without them)\n";
        return os.str();
    }
    os << "  messages:\n";
    TextTable t({"    MESSAGE", "DIRECTION", "THIS PORT", "ALL PORTS"});
    for (const auto& r : v.counters)
        t.add({"    " + r.name, r.sent ? "sent" : "received", std::to_string(r.port), std::to_string(r.all)});
    os << t.str();
    return os.str();
}

}  // namespace

bool DhcpCommand::given() const { return cmd && cmd->parsed(); }

std::unique_ptr<DhcpCommand> add_dhcp_command(CLI::App& app) {
    auto c = std::make_unique<DhcpCommand>();
    c->cmd = app.add_subcommand("dhcp", "The datapath's DHCP server (no dnsmasq, no qdhcp namespace)");
    c->cmd->require_subcommand(1);
    c->show = c->cmd->add_subcommand("show", "What a port is offered (address, server, every option) and message counters");
    c->show->add_option("PORT", c->port, "Port id (or its first 8+ characters), name, or tap name")->required();
    return c;
}

int run_dhcp_command(const Globals& g, const DhcpCommand& c) {
    Instance inst(g.instance_options());
    if (c.show && c.show->parsed()) {
        auto v = dhcp_port_view(inst, c.port);
        if (g.json())
            print_json(view_json(v));
        else
            std::cout << view_text(v);
    }
    return 0;
}

}  // namespace neutrino::cli
