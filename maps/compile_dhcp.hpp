// DHCP: the lease each local port gets, compiled into nt_dhcp. Pure.
#pragma once

#include <cstdint>

#include "maps/entries.hpp"
#include "maps/state.hpp"

namespace neutrino {

// Adds the port's nt_dhcp entry when one of its fixed IPv4 addresses is on a
// subnet with enable_dhcp.
void compile_port_dhcp(const State& state, const Port& port, uint32_t port_tag, MapEntries& out);

}  // namespace neutrino
