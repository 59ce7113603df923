// `neutrino trace`: runs the real programs on a crafted packet and shows each
// stage (tools/cli_trace.cpp; the work is loader/trace.cpp).
#pragma once

#include <memory>
#include <string>

#include "loader/trace.hpp"
#include "tools/cli.hpp"

namespace CLI {
class App;
}

namespace neutrino::cli {

struct TraceCommand {
    CLI::App* cmd = nullptr;
    TraceRequest req;
    std::string src, dst, src_mac, dst_mac, outer_src;
    bool given() const;
};

std::unique_ptr<TraceCommand> add_trace_command(CLI::App& app);
int run_trace_command(const Globals& g, TraceCommand& c);

}  // namespace neutrino::cli
