// DHCP inspection: what a local port is offered by the datapath's DHCP
// server and what it answered, read from the pinned maps (nt_dhcp,
// nt_dhcp_stats). The CLI calls this; it never opens a map itself.
#pragma once

#include <string>
#include <vector>

#include "loader/instance.hpp"
#include "maps/compile_dhcp.hpp"

namespace neutrino {

struct DhcpCounterRow {
    unsigned index = 0;
    std::string name;  // "DISCOVER", ..., "ignored", "malformed", "arp-reply"
    bool sent = false;  // a message the server sends (OFFER, ACK, NAK, ARP reply)
    uint64_t port = 0;  // this port
    uint64_t all = 0;   // every port of the instance
};

struct DhcpPortView {
    PortRow port;
    bool enabled = false;  // the port has a lease in nt_dhcp
    nt_dhcp_config config{};
    IpAddr address, netmask, router, server;
    MacAddr server_mac;
    std::vector<DhcpOption> options;
    bool counters_available = false;
    std::vector<DhcpCounterRow> counters;  // every message type, in index order
};

// The port by id, id prefix (8+ characters), name or tap, as `port show`.
DhcpPortView dhcp_port_view(const Instance& inst, const std::string& port_ref);

}  // namespace neutrino
