#include "maps/compile_dhcp.hpp"

namespace neutrino {

void compile_port_dhcp(const State&, const Port&, uint32_t, MapEntries&) {}

}  // namespace neutrino
