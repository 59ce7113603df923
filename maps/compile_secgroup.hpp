// Security groups and anti-spoofing, compiled for one local port into the
// LPM structures described in include/neutrino/abi.h. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <set>
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

// A port's security policy is its set of groups (sorted, no duplicates):
// the rules and remote-group members of a set do not depend on the port, so
// ports with the same set share one compiled table (nt_port.policy_id).
std::vector<std::string> policy_groups(const Port& port);
// Compact ids of policies, stable as the compact ids of ports are: a set of
// one group gets its group's id, other sets the hash of their joined ids.
std::map<std::vector<std::string>, uint32_t> assign_policy_ids(const std::set<std::vector<std::string>>& sets);
// Adds one policy's nt_sg_remote, nt_sg_ports and nt_rule_info entries under
// policy_id; returns its generation (a hash of those entries, so an unchanged
// policy keeps its generation and its flows, and every change moves it).
uint32_t compile_policy(const SecurityContext& ctx, const std::vector<std::string>& groups, uint32_t policy_id,
                        MapEntries& out);
// Adds the port's anti-spoofing entries (nt_addrs), which are per port.
void compile_port_addrs(const Port& port, uint32_t port_tag, MapEntries& out);

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
