// `neutrino trace`, the pure half: the packet a trace starts with, a decoder
// for the frames the programs leave behind, the result of a trace and its
// text and JSON renderings. The kernel half (running the pinned programs)
// is loader/trace.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "maps/net_types.hpp"

namespace neutrino {

using Frame = std::vector<uint8_t>;

// One IPv4 packet in an Ethernet frame, as a VM (or the outside) sends it.
struct PacketSpec {
    MacAddr src_mac, dst_mac;
    IpAddr src, dst;  // IPv4
    uint8_t proto = 6;  // 6 tcp, 17 udp, 1 icmp (echo request)
    uint16_t sport = 0, dport = 0;  // ICMP: sport is the echo identifier
    uint8_t ttl = 64;
    uint8_t tcp_flags = 0x02;  // SYN: a new connection
    uint16_t payload = 0;      // zero bytes after the L4 header
};

// Valid checksums (IP, TCP/UDP with the pseudo-header, ICMP); DF set.
// Throws std::invalid_argument for non-IPv4 addresses or another protocol.
Frame build_frame(const PacketSpec& spec);

// An inner frame wrapped as another host sends it over an overlay.
struct OuterSpec {
    MacAddr src_mac, dst_mac;
    IpAddr src, dst;  // the VTEPs (IPv4)
    uint32_t type = NT_NET_VXLAN;  // NT_NET_VXLAN or NT_NET_GRE
    uint32_t seg_id = 0;           // VNI or GRE key
};
Frame encapsulate(const OuterSpec& outer, const Frame& inner);

uint8_t proto_number(const std::string& name);  // "tcp" -> 6; throws std::invalid_argument
std::string proto_name(uint8_t proto);          // 6 -> "tcp", else the number

// A decoded header: its protocol and fields in wire order, e.g.
// {"ipv4", {{"src","10.1.0.11"}, {"dst","10.2.0.12"}, {"ttl","63"}, ...}}.
struct Layer {
    std::string proto;
    std::vector<std::pair<std::string, std::string>> fields;
    std::string get(const std::string& key) const;  // "" when absent
};

// Ethernet, 802.1Q, ARP, IPv4, IPv6 (header only), TCP, UDP, ICMP, VXLAN
// (UDP 4789) and GRE with transparent Ethernet bridging, inner frames
// included. Stops (with a "truncated" layer) where the bytes run out.
std::vector<Layer> decode_frame(const Frame& f);
std::string layers_text(const std::vector<Layer>& layers);  // one line per header level
nlohmann::json layers_json(const std::vector<Layer>& layers);

// ---- The result of a trace --------------------------------------------------

// One run of one real program on the packet.
struct TraceStage {
    std::string host;      // the instance the program belongs to
    std::string program;   // tap_ingress, tap_egress, uplink_ingress
    std::string interface; // the hook's interface
    uint32_t ifindex = 0;
    std::string port;      // the Neutron port on that tap ("" for uplinks)
    int retval = 0;        // the TC action the program returned
    uint32_t verdict = 0;  // enum nt_verdict
    uint32_t target = 0;   // ifindex or copy count
    std::string target_name;
    uint32_t reason = 0;   // enum nt_drop_reason (also set on an ICMP error REPLY)
    uint32_t policy = 0;   // enum nt_trace_policy
    uint32_t rule_tag = 0;
    std::string rule_id, rule_group, rule_desc;  // from nt_rule_info
    Frame in, out;
    std::vector<std::string> notes;  // what the stage's output means (NAT, encap, ...)
};

struct TraceResult {
    std::vector<TraceStage> stages;
    // delivered | dropped | replied | flooded | leaves | to-host | redirected
    std::string outcome;
    std::string summary;  // one sentence: where it would go, or why it would be dropped
};

const char* verdict_name(uint32_t verdict);      // "redirect", ...
const char* trace_policy_text(uint32_t policy);  // "new flow admitted by rule", ...

std::string trace_text(const TraceResult& r);
nlohmann::json trace_json(const TraceResult& r);

}  // namespace neutrino
