// `neutrino monitor`, the pure part: a ring buffer record as userspace reads
// it, the packet it carries decoded (addresses, 5-tuple), the filters, and
// one event as text or JSON. No kernel here: unit-tested as is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "maps/net_types.hpp"
#include "neutrino/abi.h"

namespace neutrino {

// The datapath's rate limit for `rate` events/s and `burst` over all CPUs:
// one bucket per CPU, each with an equal share (rounded so the sum never
// exceeds the total rate; the burst share rounded up, at least 1).
struct MonitorLimit {
    uint64_t interval_ns = 0;  // one event per interval per CPU
    uint32_t burst = 0;        // per CPU
};
MonitorLimit monitor_limit(double rate, uint32_t burst, unsigned cpus);

// One nt_mon_event record, checked: size, kind, cap_len within the snapshot.
struct MonitorEvent {
    uint64_t ts_ns = 0;  // bpf_ktime_get_ns() (CLOCK_MONOTONIC)
    uint32_t kind = 0, reason = 0, ifindex = 0, pkt_len = 0, cpu = 0;
    uint16_t hook = 0;
    std::vector<uint8_t> data;  // the first bytes of the packet
};

// nullopt for a record of the wrong size or with an impossible cap_len.
std::optional<MonitorEvent> parse_monitor_event(const void* record, size_t size);

// What the first bytes of a frame say. Fields are valid as far as the
// snapshot reaches: `ip` needs the whole IP header, `ports` the first four
// bytes of the TCP/UDP/SCTP header (ICMP: type and code).
struct PacketSummary {
    bool eth = false;
    MacAddr src_mac, dst_mac;
    std::vector<uint16_t> vlans;  // 802.1Q/802.1ad tags in the bytes, outer first
    uint16_t ethertype = 0;       // after the tags
    bool arp = false;
    uint16_t arp_op = 0;
    IpAddr arp_sender, arp_target;
    bool ip = false;
    IpAddr src, dst;
    uint8_t proto = 0;
    bool fragment = false;  // a non-first fragment: no L4 header
    bool ports = false;
    uint16_t sport = 0, dport = 0;
    bool icmp = false;  // ICMP / ICMPv6: type and code
    uint8_t icmp_type = 0, icmp_code = 0;
};

PacketSummary decode_packet(const uint8_t* data, size_t len);

// "udp 10.0.0.1:40000 -> 10.0.0.2:53", "icmp 10.0.0.1 -> 10.0.0.2 type 8 code 0",
// "arp request 10.0.0.1 -> 10.0.0.2", "ethertype 0x88cc"; "" without Ethernet.
std::string flow_text(const PacketSummary& p);
std::string ip_proto_name(uint8_t proto);  // "tcp", "udp", ..., else the number

// Filters that the datapath cannot apply (addresses), and the ones it does
// (interface, reasons) again, so a record is never shown against them.
struct MonitorFilter {
    std::optional<uint32_t> ifindex;
    uint64_t reasons = 0;     // bit per reason; 0 = any
    std::vector<Cidr> addrs;  // source or destination (IP or ARP) in any; empty = any

    bool matches(const MonitorEvent& e, const PacketSummary& p) const;
};

// A drop reason by name ("spoofed-ip") or number; nullopt if unknown.
std::optional<uint32_t> parse_drop_reason(std::string_view s);

// Names for an event's interface, from the datapath's userspace-only maps.
struct MonitorIface {
    std::string ifname;
    std::string port_id, port_name;        // empty for an uplink
    std::string network_id, network_name;
};
using MonitorNames = std::map<uint32_t, MonitorIface>;  // by ifindex

// wall_ns: the event's time on the realtime clock (nanoseconds since the epoch).
std::string monitor_event_text(const MonitorEvent& e, const PacketSummary& p, const MonitorNames& names,
                               uint64_t wall_ns);
nlohmann::json monitor_event_json(const MonitorEvent& e, const PacketSummary& p, const MonitorNames& names,
                                  uint64_t wall_ns);
// "2026-11-26T10:45:01.123456Z"
std::string utc_timestamp(uint64_t wall_ns);

}  // namespace neutrino
