// Distributed routing, compile side: router interface ports -> router MAC
// FDB entries, gateway neighbours (ARP responder), and per-router route
// tables (connected subnets + the router's `routes`). Pure.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "maps/compile.hpp"
#include "maps/entries.hpp"
#include "maps/state.hpp"

namespace neutrino {

// device_owner of a router's interface on a tenant subnet (legacy or DVR).
bool is_router_interface(const Port& port);
// device_owner of a router's external gateway port.
bool is_router_gateway(const Port& port);

// The routers that serve a host: those with an interface on a network where
// the host has VM ports, and those whose SNAT host it is. Each host routes
// for its own VMs (the SNAT host for every VM's SNAT flows), so those
// routers' other networks must be reachable from it too: their ids are
// added to nets.
std::set<std::string> routers_serving(const State& state, std::set<std::string>& nets, const std::string& host);

// Entries for the given routers on host; net_ids maps every network id to
// its compact id. Routers with an external gateway also get their NAT
// entries (compile_nat.hpp).
void compile_routers(const State& state, const std::set<std::string>& routers,
                     const std::map<std::string, uint32_t>& net_ids, const std::string& host, MapEntries& e);

// The external subnets' gateways of the routers this host serves, with the
// address this host may ask as: the router's external address on its SNAT
// host, else a floating IP translated here; routers with neither here
// need no next hop on this host.
std::vector<ExternalNextHop> external_next_hops(const State& state, const std::set<std::string>& routers,
                                                const std::string& host);

}  // namespace neutrino
