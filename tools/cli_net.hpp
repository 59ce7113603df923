// `neutrino network list` and `neutrino neigh list`: the L2 tables as the
// datapath holds them (tools/cli_net.cpp).
#pragma once

#include <memory>

#include "tools/cli.hpp"

namespace CLI {
class App;
}

namespace neutrino::cli {

struct NetCommands {
    CLI::App* network = nullptr;       // `network`
    CLI::App* network_list = nullptr;  // `network list`
    CLI::App* neigh = nullptr;         // `neigh`
    CLI::App* neigh_list = nullptr;    // `neigh list [--network N]`
    std::string network_ref;           // --network: id, id prefix or name
    bool given() const;
};

std::unique_ptr<NetCommands> add_net_commands(CLI::App& app);
int run_net_commands(const Globals& g, const NetCommands& c);

}  // namespace neutrino::cli
