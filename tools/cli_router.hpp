// `neutrino router list|show` and `neutrino route list`: the distributed
// routers this host routes for, as the datapath holds them (tools/cli_router.cpp).
#pragma once

#include <memory>
#include <string>

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
    std::string ref;                 // ROUTER / --router: id, id prefix or name
    bool given() const;
};

std::unique_ptr<RouterCommands> add_router_commands(CLI::App& app);
int run_router_commands(const Globals& g, const RouterCommands& c);

}  // namespace neutrino::cli
