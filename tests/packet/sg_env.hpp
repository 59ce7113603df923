// The security-group test environment (SgEnv): veths, a fresh datapath and
// the packet-sg.json state, shared by test_secgroups.cpp (which implements
// it), test_conntrack.cpp and test_antispoof.cpp.
#pragma once

#include <netinet/in.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include "fixture.hpp"
#include "frames.hpp"

namespace nt_test {

struct SgEnv;
// Veth pairs for the state's ports on h1 (host end = interface_name, peer
// "v-" + the rest, wearing the port's MAC), a freshly loaded datapath (own,
// unpinned maps: conntrack starts empty) and the compiled state applied.
std::shared_ptr<SgEnv> sg_env_create(const std::string& state_file);
const TestPort& sg_port(const SgEnv& env, const std::string& name);
RunResult sg_ingress(const SgEnv& env, const std::string& port, const Bytes& frame, bool trace);
RunResult sg_egress(const SgEnv& env, const std::string& port, const Bytes& frame, bool trace);
uint64_t sg_drop_packets(const SgEnv& env, uint32_t reason);
uint64_t sg_total_drop_packets(const SgEnv& env);
nt_port_stats sg_port_stats(const SgEnv& env, const std::string& port);
// The rule_tag compiled for a rule id (from nt_rule_info); 0 if none.
uint32_t sg_rule_tag(const SgEnv& env, const std::string& rule_id);
nt_counter sg_rule_stats(const SgEnv& env, uint32_t rule_tag);
uint32_t sg_policy_gen(const SgEnv& env, const std::string& port);
std::vector<std::pair<nt_ct_key, nt_ct_entry>> sg_ct_entries(const SgEnv& env);
// The tracked flow of a port's zone whose key (first packet) is src->dst.
std::optional<nt_ct_entry> sg_ct_find(const SgEnv& env, const std::string& zone_port, uint8_t proto,
                                      const Ip& src, uint16_t sport, const Ip& dst, uint16_t dport);
// The state JSON the environment was created from.
nlohmann::json sg_state_json(const SgEnv& env);
// Parses, validates, compiles and applies another state (diff against the
// live maps, as `neutrino apply` does); the maps must then hold it exactly.
void sg_apply_json(SgEnv& env, const nlohmann::json& doc);

// Frames. TCP flags as on the wire (FIN 1, SYN 2, RST 4, PSH 8, ACK 16).
inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;
Bytes sg_tcp(const Mac& smac, const Mac& dmac, const Ip& src, const Ip& dst, uint16_t sport, uint16_t dport,
             uint8_t flags);
Bytes sg_udp(const Mac& smac, const Mac& dmac, const Ip& src, const Ip& dst, uint16_t sport, uint16_t dport);
Bytes sg_icmp_echo(const Mac& smac, const Mac& dmac, const Ip& src, const Ip& dst, uint8_t type, uint16_t id);
// An ICMP error (type/code) quoting the IP header + 8 bytes of `quoted`
// (an Ethernet frame, as built by the functions above).
Bytes sg_icmp_error(const Mac& smac, const Mac& dmac, const Ip& src, const Ip& dst, uint8_t type, uint8_t code,
                    const Bytes& quoted);
// IPv4 fragments of one datagram: the first (offset 0, MF) carries the L4
// header of proto (TCP or UDP with the given ports/flags); a later one
// (offset_units * 8 bytes, MF clear) carries only payload.
Bytes sg_first_fragment(const Mac& smac, const Mac& dmac, const Ip& src, const Ip& dst, uint8_t proto,
                        uint16_t sport, uint16_t dport, uint8_t tcp_flags, uint16_t ip_id);
Bytes sg_later_fragment(const Mac& smac, const Mac& dmac, const Ip& src, const Ip& dst, uint8_t proto,
                        uint16_t ip_id, uint16_t offset_units);
Bytes sg_udp6(const Mac& smac, const Mac& dmac, const std::string& src, const std::string& dst, uint16_t sport,
              uint16_t dport);
// A DHCPDISCOVER from 0.0.0.0:68 to 255.255.255.255:67.
Bytes sg_dhcp_discover(const Mac& client_mac);

}  // namespace nt_test
