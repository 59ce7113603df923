// Security groups and anti-spoofing, compiled for one local port into the
// LPM structures described in include/neutrino/abi.h. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "maps/entries.hpp"
#include "maps/state.hpp"

namespace neutrino {

// What every port's compilation shares: rule tags and remote-group members.
class SecurityContext {
public:
    explicit SecurityContext(const State& state);

    // Compact tag of a rule (never 0). Rules are named by their id, or
    // "<group id>#<index>" when they have none.
    uint32_t rule_tag(const SecurityGroup& sg, size_t index) const;
    // Prefixes of a remote group's members (fixed IPs and allowed-address
    // pairs of every port in the group, on any host) of one family.
    const std::vector<Cidr>& members(const std::string& group_id, int family) const;
    const State& state() const { return state_; }

private:
    const State& state_;
    std::map<std::string, uint32_t> tags_;
    std::map<std::pair<std::string, int>, std::vector<Cidr>> members_;
    std::vector<Cidr> none_;
};

std::string rule_name(const SecurityGroup& sg, size_t index);
// "ingress IPv4 tcp 22-80 from 10.0.0.0/8", "egress IPv6 any to group web";
// groups are named by name when the state is given, else by id.
std::string describe_rule(const SecurityGroupRule& r, const State* state = nullptr);

// Adds the port's nt_sg_remote, nt_sg_ports, nt_addrs and nt_rule_info
// entries; returns its policy generation (a hash of its classifier entries,
// so an unchanged policy keeps its generation and its flows).
uint32_t compile_port_security(const SecurityContext& ctx, const Port& port, uint32_t port_tag,
                               MapEntries& out);

// Disjoint cover of overlapping [lo, hi] intervals, each point carrying the
// smallest tag of the intervals covering it. Exposed for tests.
struct TaggedInterval {
    uint32_t lo, hi, tag;
    bool operator==(const TaggedInterval&) const = default;
};
std::vector<TaggedInterval> disjoint_intervals(const std::vector<TaggedInterval>& in);
// [lo, hi] within 0..65535 as aligned blocks (start, prefix bits of 16).
std::vector<std::pair<uint16_t, int>> prefix_blocks(uint32_t lo, uint32_t hi);

}  // namespace neutrino
