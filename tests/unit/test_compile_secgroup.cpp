// The security-group compiler: golden entries for the example state, and a
// property test: on random rule sets, two lookups in the compiled LPM tables
// decide exactly as a naive scan over Neutron's rules does.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <tuple>

#include "maps/compile.hpp"
#include "maps/compile_secgroup.hpp"
#include "maps/diff.hpp"
#include "maps/state.hpp"

using namespace neutrino;

namespace {

State example() { return load_state_file(std::string(NT_EXAMPLES) + "/neutron-state.json"); }

CompileInput compute1() {
    CompileInput in;
    in.host = "compute-1";
    in.ifindex_by_name = {{"tapc1eef425-c0", 10}, {"tape3001647-e2", 11}, {"tapf4112758-f3", 12}};
    return in;
}

bool bits_match(const uint8_t* a, const uint8_t* b, int bits) {
    for (int i = 0; i < bits; i++) {
        int byte = i / 8, bit = 7 - i % 8;
        if (((a[byte] >> bit) & 1) != ((b[byte] >> bit) & 1)) return false;
    }
    return true;
}

// Longest-prefix match over a compiled LPM table, as the kernel does it.
template <class K, class V>
const V* lpm(const Table<K, V>& t, const K& key) {
    const V* best = nullptr;
    uint32_t best_len = 0;
    for (const auto& [k, v] : t) {
        if (k.prefixlen > key.prefixlen) continue;
        auto* kd = reinterpret_cast<const uint8_t*>(&k) + 4;
        auto* qd = reinterpret_cast<const uint8_t*>(&key) + 4;
        if (bits_match(kd, qd, static_cast<int>(k.prefixlen)) && (!best || k.prefixlen >= best_len)) {
            best = &v;
            best_len = k.prefixlen;
        }
    }
    return best;
}

struct Probe {
    uint8_t dir;  // NT_DIR_*
    int family;
    uint8_t proto;
    uint16_t port;  // dport, or ICMP type<<8|code
    IpAddr remote;
};

// The datapath's lookups, replayed on the compiled tables: the remote's
// class, then that class's rules and the any-remote rules (class 0), each
// for the protocol and for any protocol.
uint32_t compiled_classify(const MapEntries& e, uint32_t policy, const Probe& p) {
    nt_sg_remote_key rk{};
    rk.prefixlen = NT_SG_REMOTE_FIXED_BITS + 128;
    rk.policy_id = policy;
    rk.dir = p.dir;
    rk.family = static_cast<uint8_t>(p.family);
    rk.ip = p.remote.to_abi();
    const nt_sg_class* c = lpm(e.sg_remote, rk);
    auto match = [&](uint32_t class_id) -> uint32_t {
        nt_sg_ports_key pk{};
        pk.prefixlen = NT_SG_PORTS_FIXED_BITS + 16;
        pk.policy_id = policy;
        pk.class_id = class_id;
        pk.dir = p.dir;
        pk.family = static_cast<uint8_t>(p.family);
        pk.proto = p.proto;
        pk.port = htobe16(p.port);
        if (const nt_sg_match* m = lpm(e.sg_ports, pk)) return m->rule_tag;
        pk.proto = 0;
        pk.port = 0;
        const nt_sg_match* m = lpm(e.sg_ports, pk);
        return m ? m->rule_tag : 0;
    };
    if (c && c->class_id)
        if (uint32_t rule = match(c->class_id)) return rule;
    return match(0);
}

// The policy a port's nt_ports entry names.
uint32_t policy_of(const MapEntries& e, uint32_t ifindex) { return e.ports.at(nt_port_key{ifindex}).policy_id; }

// Neutron's semantics, read straight off the rules: any rule that matches.
bool naive_allows(const State& s, const Port& port, const Probe& p) {
    for (const auto& gid : port.security_groups) {
        const SecurityGroup* sg = s.find_security_group(gid);
        for (const auto& r : sg->rules) {
            if ((r.direction == Direction::Egress) != (p.dir == NT_DIR_FROM_VM)) continue;
            if ((r.ethertype == Ethertype::IPv4 ? 4 : 6) != p.family) continue;
            if (r.protocol && *r.protocol != 0 && *r.protocol != p.proto) continue;
            if (r.protocol && *r.protocol != 0 && r.port_range_min) {
                if (*r.protocol == 1 || *r.protocol == 58) {
                    if ((p.port >> 8) != *r.port_range_min) continue;
                    if (r.port_range_max && (p.port & 0xff) != *r.port_range_max) continue;
                } else if (p.port < *r.port_range_min || p.port > r.port_range_max.value_or(*r.port_range_min)) {
                    continue;
                }
            }
            if (r.remote_ip_prefix && !r.remote_ip_prefix->contains(p.remote)) continue;
            if (r.remote_group_id) {
                bool member = false;
                for (const auto& q : s.ports) {
                    if (std::find(q.security_groups.begin(), q.security_groups.end(), *r.remote_group_id) ==
                        q.security_groups.end())
                        continue;
                    for (const auto& f : q.fixed_ips) member |= f.ip_address == p.remote;
                    for (const auto& a : q.allowed_address_pairs) member |= a.ip_address.contains(p.remote);
                }
                if (!member) continue;
            }
            return true;
        }
    }
    return false;
}

IpAddr v4(const char* s) { return *IpAddr::parse(s); }

}  // namespace

TEST(PrefixBlocks, WholeRangeIsOneBlock) {
    auto b = prefix_blocks(0, 65535);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0], (std::pair<uint16_t, int>{0, 0}));
}

TEST(PrefixBlocks, SinglePortIsAFullPrefix) {
    EXPECT_EQ(prefix_blocks(22, 22), (std::vector<std::pair<uint16_t, int>>{{22, 16}}));
}

TEST(PrefixBlocks, RangeIsCoveredExactlyByAlignedBlocks) {
    for (auto [lo, hi] : std::vector<std::pair<uint32_t, uint32_t>>{{1000, 2000}, {1, 65535}, {0, 0}, {1024, 2047}}) {
        uint32_t next = lo;
        for (auto [start, bits] : prefix_blocks(lo, hi)) {
            uint32_t size = 1u << (16 - bits);
            EXPECT_EQ(start, next);
            EXPECT_EQ(start % size, 0u) << "block not aligned";
            next = start + size;
        }
        EXPECT_EQ(next, hi + 1);
    }
    EXPECT_EQ(prefix_blocks(1024, 2047).size(), 1u);
    EXPECT_LE(prefix_blocks(1, 65534).size(), 30u);
}

TEST(DisjointIntervals, OverlapsTakeTheSmallestTagAndNeighboursMerge) {
    auto d = disjoint_intervals({{10, 20, 5}, {15, 30, 3}, {31, 40, 3}});
    EXPECT_EQ(d, (std::vector<TaggedInterval>{{10, 14, 5}, {15, 40, 3}}));
}

TEST(CompileSecgroup, ExampleVmA1IngressIsThreeRemotesOneClass) {
    auto r = compile(example(), compute1());
    const uint32_t tag = policy_of(r.entries, 10);
    size_t remotes = 0;
    for (const auto& [k, v] : r.entries.sg_remote) {
        if (k.policy_id != tag) continue;
        remotes++;
        EXPECT_EQ(k.dir, NT_DIR_TO_VM);
        EXPECT_EQ(k.family, 4);
        EXPECT_EQ(k.prefixlen, unsigned(NT_SG_REMOTE_FIXED_BITS + 128));
        EXPECT_NE(v.class_id, 0u);  // default-group members: .17, .18 and the .100 pair
        EXPECT_EQ(v.class_id, r.entries.sg_remote.begin()->second.class_id);  // one class
    }
    EXPECT_EQ(remotes, 3u);
    size_t ports = 0;
    for (const auto& [k, v] : r.entries.sg_ports) ports += k.policy_id == tag;
    // ingress v4: ssh, http, ping in class 0 (any remote); the group rule's
    // any-protocol entry in class 1 (the members): class 0 is looked up after
    // class 1, so its rules are not repeated there; egress v4 and v6: one
    // any-protocol entry each.
    EXPECT_EQ(ports, 6u);
}

TEST(CompileSecgroup, ExampleDecisions) {
    State s = example();
    auto r = compile(s, compute1());
    const uint32_t tag = policy_of(r.entries, 10);
    SecurityContext ctx(s);
    const SecurityGroup& web = *s.find_security_group("7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d");
    const SecurityGroup& def = *s.find_security_group("5f1c9e2a-3b4d-4c5e-8f6a-7b8c9d0e1f2a");
    EXPECT_EQ(compiled_classify(r.entries, tag, {NT_DIR_TO_VM, 4, 6, 22, v4("8.8.8.8")}), ctx.rule_tag(web, 0));
    EXPECT_EQ(compiled_classify(r.entries, tag, {NT_DIR_TO_VM, 4, 6, 80, v4("8.8.8.8")}), ctx.rule_tag(web, 1));
    EXPECT_EQ(compiled_classify(r.entries, tag, {NT_DIR_TO_VM, 4, 6, 23, v4("8.8.8.8")}), 0u);
    EXPECT_EQ(compiled_classify(r.entries, tag, {NT_DIR_TO_VM, 4, 1, 0x0800, v4("8.8.8.8")}), ctx.rule_tag(web, 2));
    EXPECT_EQ(compiled_classify(r.entries, tag, {NT_DIR_TO_VM, 4, 1, 0x0d00, v4("8.8.8.8")}), 0u);
    EXPECT_EQ(compiled_classify(r.entries, tag, {NT_DIR_TO_VM, 4, 17, 53, v4("192.168.1.18")}), ctx.rule_tag(def, 2));
    EXPECT_EQ(compiled_classify(r.entries, tag, {NT_DIR_TO_VM, 4, 17, 53, v4("192.168.1.100")}), ctx.rule_tag(def, 2));
    EXPECT_EQ(compiled_classify(r.entries, tag, {NT_DIR_TO_VM, 4, 17, 53, v4("192.168.1.19")}), 0u);
    EXPECT_EQ(compiled_classify(r.entries, tag, {NT_DIR_FROM_VM, 4, 17, 53, v4("1.1.1.1")}), ctx.rule_tag(def, 0));
    EXPECT_EQ(compiled_classify(r.entries, tag, {NT_DIR_FROM_VM, 6, 6, 443, *IpAddr::parse("2001:db8::1")}),
              ctx.rule_tag(def, 1));
    EXPECT_EQ(compiled_classify(r.entries, tag, {NT_DIR_TO_VM, 6, 6, 22, *IpAddr::parse("2001:db8::1")}), 0u);
}

TEST(CompileSecgroup, AntiSpoofEntriesCoverFixedIpsPairsAndLinkLocal) {
    CompileInput in;
    in.host = "compute-2";
    in.ifindex_by_name = {{"tapd2ff0536-d1", 7}};
    auto r = compile(example(), in);
    std::set<std::string> ips;
    size_t mac_only = 0;
    for (const auto& [k, v] : r.entries.addrs) {
        if (v.flags & NT_ADDR_MAC_ONLY) {
            mac_only++;
            EXPECT_EQ(k.prefixlen, unsigned(NT_ADDR_FIXED_BITS));
            continue;
        }
        IpAddr a;
        std::copy(k.ip.b, k.ip.b + 16, a.b.begin());
        ips.insert(a.str() + "/" + std::to_string(k.prefixlen - NT_ADDR_FIXED_BITS));
    }
    EXPECT_EQ(mac_only, 1u);  // the pair uses the port's own MAC
    EXPECT_EQ(ips, (std::set<std::string>{"192.168.1.18/128", "192.168.1.100/128", "fe80::f816:3eff:fea1:2/128"}));
}

TEST(CompileSecgroup, PortWithoutPortSecurityGetsNoEntries) {
    auto r = compile(example(), compute1());
    for (const auto& [k, v] : r.entries.addrs) EXPECT_NE(k.port_tag, 0xf4112758u);
    EXPECT_EQ(r.entries.ports.at(nt_port_key{12}).policy_gen, 0u);
    EXPECT_EQ(r.entries.ports.at(nt_port_key{12}).policy_id, 0u);
}

TEST(CompileSecgroup, PolicyGenerationMovesOnlyWithThePolicy) {
    State s = example();
    auto gen = [&](const State& st) { return compile(st, compute1()).entries.ports.at(nt_port_key{10}).policy_gen; };
    const uint32_t g0 = gen(s);
    EXPECT_NE(g0, 0u);
    State other = s;
    for (auto& p : other.ports)
        if (p.name == "vm-b1") p.mac_address = *MacAddr::parse("fa:16:3e:b1:00:99");
    EXPECT_EQ(gen(other), g0);  // unrelated change
    State fewer = s;
    for (auto& sg : fewer.security_groups)
        if (sg.name == "web") sg.rules.erase(sg.rules.begin());  // drop ssh
    EXPECT_NE(gen(fewer), g0);
    State member = s;
    for (auto& p : member.ports)
        if (p.name == "vm-a2") p.fixed_ips[0].ip_address = v4("192.168.1.19");  // group membership
    EXPECT_NE(gen(member), g0);
}

// A class id means one rule set for good: when rules change, every class id
// found in both the old and the new entries has the same classifier entries
// in both. So apply, which writes the new classes before the remote prefixes
// that point at them and deletes old classes last, never lets a packet see a
// class whose rules are half rewritten.
TEST(CompileSecgroup, ClassIdsKeepTheirMeaningAcrossChanges) {
    using Rows = std::map<std::tuple<uint32_t, uint8_t, uint8_t, uint32_t>, std::vector<std::string>>;
    auto rows = [](const MapEntries& e) {
        Rows out;
        for (const auto& [k, v] : e.sg_ports) {
            std::string row(reinterpret_cast<const char*>(&k), sizeof k);
            row.append(reinterpret_cast<const char*>(&v), sizeof v);
            out[{k.policy_id, k.dir, k.family, k.class_id}].push_back(row);
        }
        return out;
    };
    const State base = example();
    auto before = compile(base, compute1());
    std::vector<State> changes;
    for (const char* prefix : {"10.9.0.0/16", "192.168.1.0/24", "0.0.0.0/0", "192.168.1.18/32"}) {
        State s = base;
        SecurityGroupRule r;
        r.id = std::string("extra-") + prefix;
        r.direction = Direction::Ingress;
        r.protocol = 6;
        r.port_range_min = 8080;
        r.port_range_max = 8080;
        r.remote_ip_prefix = *Cidr::parse(prefix);
        s.security_groups[1].rules.insert(s.security_groups[1].rules.begin(), r);
        changes.push_back(s);
    }
    State fewer = base;
    fewer.security_groups[1].rules.erase(fewer.security_groups[1].rules.begin());
    changes.push_back(fewer);
    const Rows old_rows = rows(before.entries);
    size_t shared = 0;
    for (size_t i = 0; i < changes.size(); i++) {
        auto after = compile(changes[i], compute1());
        EXPECT_NE(after.entries.sg_ports.size() + after.entries.sg_remote.size(), 0u);
        for (const auto& [id, entries] : rows(after.entries)) {
            auto it = old_rows.find(id);
            if (it == old_rows.end()) continue;
            if (std::get<3>(id) == 0) continue;  // class 0 is "any remote": its rules may change
            shared++;
            EXPECT_EQ(entries, it->second) << "change " << i << ": class " << std::get<3>(id) << " changed meaning";
        }
    }
    EXPECT_GT(shared, 0u);  // the test compared something
}

// Random rule sets: the compiled tables must decide exactly like the naive scan.
TEST(CompileSecgroup, CompiledLookupsEqualNaiveRuleScan) {
    std::mt19937 rng(12345);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    const std::vector<uint8_t> protos = {6, 17, 1, 47};
    const std::vector<const char*> prefixes = {"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32",
                                               "192.168.0.0/16", "0.0.0.0/0", "10.1.2.128/25"};
    for (int round = 0; round < 40; round++) {
        State s = example();
        SecurityGroup& sg = s.security_groups[1];  // "web", on vm-a1
        sg.rules.clear();
        int n = 1 + pick(25);
        for (int i = 0; i < n; i++) {
            SecurityGroupRule r;
            r.id = "rnd-" + std::to_string(i);
            r.direction = pick(2) ? Direction::Ingress : Direction::Egress;
            r.ethertype = Ethertype::IPv4;
            if (pick(5)) r.protocol = protos[pick(static_cast<int>(protos.size()))];
            if (r.protocol && (*r.protocol == 6 || *r.protocol == 17) && pick(3)) {
                uint32_t lo = static_cast<uint32_t>(pick(200)), hi = lo + static_cast<uint32_t>(pick(100));
                r.port_range_min = lo;
                r.port_range_max = hi;
            } else if (r.protocol && *r.protocol == 1 && pick(2)) {
                r.port_range_min = static_cast<uint32_t>(pick(3) * 8);
                if (pick(2)) r.port_range_max = 0;
            }
            int remote = pick(4);
            if (remote == 1) r.remote_ip_prefix = *Cidr::parse(prefixes[pick(static_cast<int>(prefixes.size()))]);
            if (remote == 2) r.remote_group_id = s.security_groups[0].id;  // default group members
            sg.rules.push_back(r);
        }
        s.security_groups[0].rules.clear();  // only the random rules decide
        auto r = compile(s, compute1());
        const Port& port = *s.find_port("c1eef425-c0a4-4c84-9d3c-1f2a3b4c5d6e");
        const std::vector<const char*> remotes = {"10.1.2.3",    "10.1.2.200", "10.1.3.1",     "10.2.0.1",
                                                  "192.168.1.18", "192.168.1.100", "8.8.8.8", "192.168.7.7"};
        for (int q = 0; q < 300; q++) {
            Probe p{static_cast<uint8_t>(pick(2) ? NT_DIR_TO_VM : NT_DIR_FROM_VM), 4,
                    protos[pick(static_cast<int>(protos.size()))], 0, v4(remotes[pick(static_cast<int>(remotes.size()))])};
            p.port = p.proto == 1 ? static_cast<uint16_t>((pick(3) * 8) << 8 | pick(2))
                                  : static_cast<uint16_t>(pick(320));
            bool want = naive_allows(s, port, p);
            bool got = compiled_classify(r.entries, policy_of(r.entries, 10), p) != 0;
            ASSERT_EQ(got, want) << "round " << round << " dir " << int(p.dir) << " proto " << int(p.proto)
                                 << " port " << p.port << " remote " << p.remote.str();
        }
    }
}

// ---- Policies: ports with the same set of groups share one table ----------

namespace {

const char* kDefault = "5f1c9e2a-3b4d-4c5e-8f6a-7b8c9d0e1f2a";
const char* kWeb = "7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d";

Port& port_named(State& s, const std::string& name) {
    for (auto& p : s.ports)
        if (p.name == name) return p;
    throw std::runtime_error("no port " + name);
}

template <class K, class V>
size_t count_policy(const Table<K, V>& t, uint32_t policy) {
    size_t n = 0;
    for (const auto& [k, v] : t) n += k.policy_id == policy;
    return n;
}

std::set<uint32_t> policies_in(const MapEntries& e) {
    std::set<uint32_t> out;
    for (const auto& [k, v] : e.sg_ports) out.insert(k.policy_id);
    for (const auto& [k, v] : e.sg_remote) out.insert(k.policy_id);
    return out;
}

}  // namespace

TEST(CompilePolicy, TwoPortsWithTheSameGroupsShareOneTable) {
    State s = example();
    auto alone = compile(s, compute1()).entries;  // vm-a1 {default, web}, vm-b1 {default}
    const uint32_t a1 = policy_of(alone, 10);
    port_named(s, "vm-b1").security_groups = {kWeb, kDefault, kWeb};  // same set: order and repeats do not count
    auto r = compile(s, compute1()).entries;
    EXPECT_EQ(policy_of(r, 11), policy_of(r, 10));
    EXPECT_EQ(r.ports.at(nt_port_key{11}).policy_gen, r.ports.at(nt_port_key{10}).policy_gen);
    EXPECT_EQ(policies_in(r), std::set<uint32_t>{a1}) << "one table for both ports";
    EXPECT_EQ(policy_of(r, 10), a1) << "a1's policy id does not depend on who shares it";
    EXPECT_EQ(count_policy(r.sg_ports, a1), count_policy(alone.sg_ports, a1));
    EXPECT_EQ(count_policy(r.sg_remote, a1), count_policy(alone.sg_remote, a1));
    // b1 now decides as a1 does (web's ssh from anywhere).
    const Probe ssh{NT_DIR_TO_VM, 4, 6, 22, v4("8.8.8.8")};
    EXPECT_NE(compiled_classify(r, policy_of(r, 11), ssh), 0u);
    EXPECT_EQ(compiled_classify(alone, policy_of(alone, 11), ssh), 0u);
}

TEST(CompilePolicy, DifferentSetsGetDistinctTables) {
    auto r = compile(example(), compute1()).entries;
    const uint32_t a1 = policy_of(r, 10), b1 = policy_of(r, 11);
    EXPECT_NE(a1, b1);
    EXPECT_NE(a1, 0u);
    EXPECT_EQ(b1, 0x5f1c9e2au) << "a set of one group has its group's compact id";
    EXPECT_EQ(policies_in(r), (std::set<uint32_t>{a1, b1}));
    EXPECT_GT(count_policy(r.sg_ports, a1), 0u);
    EXPECT_GT(count_policy(r.sg_ports, b1), 0u);
    EXPECT_NE(r.ports.at(nt_port_key{10}).policy_gen, r.ports.at(nt_port_key{11}).policy_gen);
}

TEST(CompilePolicy, ChangingOnePortsGroupsMovesOnlyThatPort) {
    State shared = example();
    port_named(shared, "vm-b1").security_groups = {kDefault, kWeb};
    State apart = example();  // vm-b1 back to {default}
    auto before = compile(shared, compute1()).entries;
    auto after = compile(apart, compute1()).entries;
    const uint32_t a1 = policy_of(before, 10), def = policy_of(after, 11);

    Plan split = diff(before, after);
    ASSERT_EQ(split.ports.upserts.size(), 1u) << "only b1's nt_ports entry";
    EXPECT_EQ(split.ports.upserts.begin()->first.ifindex, 11u);
    EXPECT_TRUE(split.ports.deletes.empty());
    EXPECT_EQ(split.sg_ports.upserts.size(), count_policy(after.sg_ports, def)) << "the new table, once";
    for (const auto& [k, v] : split.sg_ports.upserts) EXPECT_EQ(k.policy_id, def);
    EXPECT_TRUE(split.sg_ports.deletes.empty()) << "a1 still uses the shared table";
    EXPECT_TRUE(split.sg_remote.deletes.empty());
    EXPECT_TRUE(split.addrs.upserts.empty() && split.addrs.deletes.empty()) << "anti-spoofing is per port and did not change";
    EXPECT_EQ(after.ports.at(nt_port_key{10}).policy_gen, before.ports.at(nt_port_key{10}).policy_gen)
        << "a1's flows keep their generation";

    Plan join = diff(after, before);  // b1 joins a1's set: its old table goes
    ASSERT_EQ(join.ports.upserts.size(), 1u);
    EXPECT_TRUE(join.sg_ports.upserts.empty());
    EXPECT_TRUE(join.sg_remote.upserts.empty());
    EXPECT_EQ(join.sg_ports.deletes.size(), count_policy(after.sg_ports, def));
    for (const auto& k : join.sg_ports.deletes) EXPECT_EQ(k.policy_id, def);
    EXPECT_EQ(count_policy(before.sg_ports, a1), count_policy(after.sg_ports, a1));
}

// The bench's "1,000 ports x 100 rules" shape: one group of 100 ingress rules,
// every fourth from its own /24, on 1,000 ports. One table of about one
// entry per rule, not one per port, class and rule.
TEST(CompilePolicy, ThousandPortsOneGroupCompileOneTableOfAboutTheRules) {
    State s = example();
    SecurityGroup& def = *std::find_if(s.security_groups.begin(), s.security_groups.end(),
                                       [](const SecurityGroup& g) { return g.id == kDefault; });
    def.rules.clear();
    for (uint32_t r = 0; r < 100; r++) {
        SecurityGroupRule rule;
        rule.id = "big-" + std::to_string(r);
        rule.direction = Direction::Ingress;
        rule.protocol = r % 2 ? 17 : 6;
        rule.port_range_min = rule.port_range_max = 10000 + r;
        if (r % 4 == 3) rule.remote_ip_prefix = *Cidr::parse("192.168." + std::to_string(r) + ".0/24");
        def.rules.push_back(rule);
    }
    const Port proto = port_named(s, "vm-b1");
    CompileInput in = compute1();
    for (uint32_t i = 0; i < 1000; i++) {
        Port p = proto;
        char id[40];
        std::snprintf(id, sizeof id, "b%07x-0000-4000-8000-%012x", i, i);
        p.id = id;
        p.name = "big" + std::to_string(i);
        p.interface_name = "tapb" + std::to_string(i);
        char mac[18];
        std::snprintf(mac, sizeof mac, "fa:16:3e:b0:%02x:%02x", i >> 8, i & 0xff);
        p.mac_address = *MacAddr::parse(mac);
        p.fixed_ips = {};
        p.allowed_address_pairs = {};
        s.ports.push_back(p);
        in.ifindex_by_name[p.interface_name] = 1000 + i;
    }
    auto r = compile(s, in).entries;
    const uint32_t pol = policy_of(r, 1000);
    for (uint32_t i = 0; i < 1000; i++) ASSERT_EQ(policy_of(r, 1000 + i), pol);
    EXPECT_EQ(count_policy(r.sg_remote, pol), 25u);  // the 25 prefixes
    // 75 any-remote rules + 25 prefix classes of one rule each, + egress none.
    EXPECT_EQ(count_policy(r.sg_ports, pol), 100u);
    const Probe hit{NT_DIR_TO_VM, 4, 17, 10003, v4("192.168.3.9")}, miss{NT_DIR_TO_VM, 4, 17, 10003, v4("192.168.4.9")};
    const Probe any{NT_DIR_TO_VM, 4, 6, 10000, v4("192.168.3.9")};
    EXPECT_NE(compiled_classify(r, pol, hit), 0u);
    EXPECT_EQ(compiled_classify(r, pol, miss), 0u);
    EXPECT_NE(compiled_classify(r, pol, any), 0u) << "class 0 is found from a prefix's class too";
}
