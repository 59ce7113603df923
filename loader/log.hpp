// The project's logger (spdlog) and the bridge that routes libbpf's own log
// through it, so a verifier rejection shows up where every other message does.
#pragma once

#include <spdlog/spdlog.h>

namespace neutrino {

// verbosity: 0 = warnings, 1 = info, 2 = debug (includes libbpf debug output).
void init_logging(int verbosity);

}  // namespace neutrino
