// `neutrino trace`, the kernel half: builds the packet, runs the pinned
// programs of the instance on it with BPF_PROG_TEST_RUN in trace mode (no
// side effects, see abi.h "Trace mode"), and follows each redirect into the
// next program: tap ingress (antispoofing, security groups, routing, NAT,
// encapsulation all happen there), then the destination tap's egress, or
// out of an uplink, optionally into a peer host's uplink program.
#pragma once

#include <optional>
#include <string>

#include "loader/instance.hpp"
#include "maps/trace.hpp"

namespace neutrino {

struct TraceRequest {
    // Where the packet enters: a local port (a VM sends it) ...
    std::string from_port;  // id, id prefix (8+), name or tap
    // ... or an uplink of this host (the outside or another host sends it).
    std::string from_uplink;  // interface name, in the instance's netns
    std::optional<IpAddr> outer_src;  // tunnel interface: the sending host's VTEP
    std::string network;              // tunnel interface: the network (id or name) of the inner frame

    std::optional<IpAddr> src;  // default: the port's first fixed IP
    IpAddr dst;
    std::string proto = "tcp";
    uint16_t sport = 0, dport = 0;  // sport 0: 40000; icmp: sport is the echo id
    uint8_t ttl = 64;
    std::string tcp_flags = "S";  // S, SA, A, F, R, ... (letters FSRPAU)
    std::optional<MacAddr> src_mac, dst_mac;

    // Another host's instance on this machine (simulated hosts): a frame
    // sent to its VTEP continues in its uplink program.
    std::string peer_instance, peer_netns;
};

TraceResult run_trace(const InstanceOptions& self, const TraceRequest& req);

uint8_t parse_tcp_flags(const std::string& letters);  // "SA" -> 0x12; throws Error

}  // namespace neutrino
