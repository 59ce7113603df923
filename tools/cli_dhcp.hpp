// `neutrino dhcp`: the datapath's DHCP server (tools/cli_dhcp.cpp).
#pragma once

#include <memory>
#include <string>

#include "tools/cli.hpp"

namespace CLI {
class App;
}

namespace neutrino::cli {

struct DhcpCommand {
    CLI::App* cmd = nullptr;   // `dhcp`
    CLI::App* show = nullptr;  // `dhcp show PORT`
    std::string port;
    bool given() const;        // `dhcp` was on the command line
};

// Registers `dhcp show PORT` on app.
std::unique_ptr<DhcpCommand> add_dhcp_command(CLI::App& app);
// Runs the parsed command; returns the exit code, throws on errors (main
// turns them into messages).
int run_dhcp_command(const Globals& g, const DhcpCommand& c);

}  // namespace neutrino::cli
