// `neutrino monitor`: drop events from the datapath as they happen
// (tools/cli_monitor.cpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tools/cli.hpp"

namespace CLI {
class App;
}

namespace neutrino::cli {

struct MonitorCommand {
    CLI::App* cmd = nullptr;
    std::string port, pcap;
    std::vector<std::string> reasons, addrs;
    double rate = 1000, duration = 0;
    uint32_t burst = 100;
    uint64_t count = 0;
    bool given() const;
};

std::unique_ptr<MonitorCommand> add_monitor_command(CLI::App& app);
// Runs until --count events were shown, --duration passed, or SIGINT/SIGTERM;
// the datapath's events are off again on every way out.
int run_monitor_command(const Globals& g, const MonitorCommand& c);

}  // namespace neutrino::cli
