// A TCP connection across the sandbox, seen from the server's side: what
// source address and port a server in one namespace sees when a client in
// another connects. This is how the demo shows NAT at work (SNAT: the
// router's external address; floating IP: the VM's public address; DNAT:
// the real outside source) without any tool in the namespaces.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "maps/net_types.hpp"

namespace neutrino {

struct SeenPeer {
    IpAddr ip;
    uint16_t port = 0;
    std::string str() const { return ip.str() + ":" + std::to_string(port); }
};

// Listens on any address, the given port, in server_ns; connects to
// connect_to:port from client_ns (a floating IP reaches the server on its
// fixed IP), and returns the peer the server accepted; nullopt when no
// connection was accepted within the timeout. IPv4; both sockets belong to this process
// (each made in its namespace), so nothing is left running.
std::optional<SeenPeer> tcp_peer_seen(const std::string& client_ns, const IpAddr& connect_to,
                                      const std::string& server_ns, uint16_t port,
                                      std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

}  // namespace neutrino
