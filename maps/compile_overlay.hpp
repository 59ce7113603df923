// Overlays and provider networks, compiled for one host: the host's tunnel
// endpoint, the remote hosts, per network the way off the host (tunnel or
// physnet uplink) and the ports that live behind it (L2 population). Pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "maps/compile.hpp"

namespace neutrino {

struct OverlayContext {
    const State& state;
    const CompileInput& in;
    const Host* host = nullptr;    // this host (nullptr: not in the state)
    uint32_t tunnel_ifindex = 0;   // the interface holding host->tunnel_ip
};

// nt_config[0] and nt_vteps (every other host with a tunnel address).
void compile_host_overlay(const OverlayContext& ctx, MapEntries& out);

// For one network with local ports: its uplink (0 = none), its tunnel or
// provider key, the ports bound to other hosts (FDB + ARP responder entries)
// and the remote hosts to flood to. Returns the VTEPs that get flood slots.
struct NetworkReach {
    uint32_t uplink = 0;
    std::vector<IpAddr> flood_vteps;  // sorted, one per remote host with ports here
};
NetworkReach compile_network_overlay(const OverlayContext& ctx, const Network& net, uint32_t net_id,
                                     const std::map<std::string, uint32_t>& port_tags, MapEntries& out);

}  // namespace neutrino
