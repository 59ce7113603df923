// `neutrino router list|show`, `route list`, `nat list` and `fip list`: the
// distributed routers this host routes for and their NAT, as the datapath
// holds them (tools/cli_router.cpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tools/cli.hpp"

namespace CLI {
class App;
}

namespace neutrino::cli {

struct RouterCommands {
    CLI::App* router = nullptr;      // `router`
    CLI::App* list = nullptr;        // `router list`
    CLI::App* show = nullptr;        // `router show ROUTER`
    CLI::App* route = nullptr;       // `route`
    CLI::App* route_list = nullptr;  // `route list [--router R]`
    CLI::App* nat = nullptr;         // `nat`
    CLI::App* nat_list = nullptr;    // `nat list`
    CLI::App* fip = nullptr;         // `fip`
    CLI::App* fip_list = nullptr;    // `fip list`
    std::string ref;                 // ROUTER / --router: id, id prefix or name
    bool given() const;
};

std::unique_ptr<RouterCommands> add_router_commands(CLI::App& app);
int run_router_commands(const Globals& g, const RouterCommands& c);

// The SNAT bindings as `nat list` prints them.
std::string nat_text(const std::vector<NatRow>& rows);

}  // namespace neutrino::cli
