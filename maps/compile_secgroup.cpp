#include "maps/compile_secgroup.hpp"
#include "maps/abi_util.hpp"

#include <algorithm>
#include <set>

#include "maps/compile.hpp"

namespace neutrino {

namespace {



int family_of(Ethertype e) { return e == Ethertype::IPv4 ? 4 : 6; }
uint8_t abi_dir(Direction d) { return d == Direction::Egress ? NT_DIR_FROM_VM : NT_DIR_TO_VM; }

bool is_icmp(uint8_t proto) { return proto == 1 || proto == 58; }

// The classifier's port interval of a rule: destination ports, or for ICMP
// type<<8|code (port_range_min = type, port_range_max = code).
std::pair<uint32_t, uint32_t> rule_interval(const SecurityGroupRule& r) {
    if (!r.protocol || !r.port_range_min) return {0, 0xffff};
    if (is_icmp(*r.protocol)) {
        uint32_t type = *r.port_range_min << 8;
        if (!r.port_range_max) return {type, type | 0xff};
        return {type | *r.port_range_max, type | *r.port_range_max};
    }
    return {*r.port_range_min, r.port_range_max.value_or(*r.port_range_min)};
}

IpAddr link_local_of(const MacAddr& m) {  // fe80::/64 + modified EUI-64
    IpAddr a;
    a.b = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, static_cast<uint8_t>(m.b[0] ^ 2), m.b[1], m.b[2], 0xff, 0xfe,
           m.b[3], m.b[4], m.b[5]};
    return a;
}

struct Hasher {  // FNV-1a over entry bytes: the policy generation
    uint32_t h = 2166136261u;
    template <class T>
    void add(const T& v) {
        auto* p = reinterpret_cast<const uint8_t*>(&v);
        for (size_t i = 0; i < sizeof(T); i++) {
            h ^= p[i];
            h *= 16777619u;
        }
    }
};

struct RuleRef {
    uint32_t tag;
    const SecurityGroupRule* rule;
};

void add_addr(MapEntries& out, uint32_t port_tag, const MacAddr& mac, const Cidr* ip) {
    auto k = zeroed<nt_addr_key>();
    k.port_tag = port_tag;
    std::copy(mac.b.begin(), mac.b.end(), k.mac);
    auto v = zeroed<nt_addr_allow>();
    if (ip) {
        Cidr n = ip->network();
        k.prefixlen = NT_ADDR_FIXED_BITS + n.abi_bits();
        k.ip = n.addr.to_abi();
        v.flags = NT_ADDR_IP;
    } else {
        k.prefixlen = NT_ADDR_FIXED_BITS;
        v.flags = NT_ADDR_MAC_ONLY;
    }
    out.addrs[k] = v;
}

}  // namespace

void compile_port_addrs(const Port& port, uint32_t tag, MapEntries& out) {
    std::set<MacAddr> macs{port.mac_address};
    for (const auto& f : port.fixed_ips) {
        Cidr c = Cidr::host(f.ip_address);
        add_addr(out, tag, port.mac_address, &c);
    }
    for (const auto& p : port.allowed_address_pairs) {
        MacAddr m = p.mac_address.value_or(port.mac_address);
        macs.insert(m);
        add_addr(out, tag, m, &p.ip_address);
    }
    for (const auto& m : macs) {
        add_addr(out, tag, m, nullptr);
        Cidr ll = Cidr::host(link_local_of(m));
        add_addr(out, tag, m, &ll);
    }
}

namespace {

// Port LPM entries of one class: per protocol, disjoint intervals as blocks.
void add_class_ports(uint32_t policy_id, uint8_t dir, int family, uint32_t class_id,
                     const std::vector<const RuleRef*>& rules, MapEntries& out, Hasher& gen) {
    std::map<uint8_t, std::vector<TaggedInterval>> by_proto;
    for (const RuleRef* r : rules) {
        uint8_t proto = r->rule->protocol.value_or(0);  // 0: any protocol
        auto [lo, hi] = proto == 0 ? std::pair<uint32_t, uint32_t>{0, 0xffff} : rule_interval(*r->rule);
        by_proto[proto].push_back({lo, hi, r->tag});
    }
    for (auto& [proto, intervals] : by_proto) {
        for (const auto& iv : disjoint_intervals(intervals)) {
            for (auto [start, bits] : prefix_blocks(iv.lo, iv.hi)) {
                if (proto == 0 && bits != 0) continue;  // any-protocol rules have no ports
                auto k = zeroed<nt_sg_ports_key>();
                k.prefixlen = NT_SG_PORTS_FIXED_BITS + bits;
                k.policy_id = policy_id;
                k.class_id = class_id;
                k.dir = dir;
                k.family = static_cast<uint8_t>(family);
                k.proto = proto;
                k.port = htobe16(start);
                auto v = zeroed<nt_sg_match>();
                v.rule_tag = iv.tag;
                out.sg_ports[k] = v;
                gen.add(k);
                gen.add(v);
            }
        }
    }
}

}  // namespace

std::string describe_rule(const SecurityGroupRule& r, const State* state) {
    std::string s = r.direction == Direction::Ingress ? "ingress " : "egress ";
    s += r.ethertype == Ethertype::IPv4 ? "IPv4 " : "IPv6 ";
    static const std::map<int, const char*> names = {{1, "icmp"}, {6, "tcp"}, {17, "udp"}, {58, "icmpv6"}, {132, "sctp"}};
    if (!r.protocol || *r.protocol == 0) {
        s += "any";
    } else {
        auto it = names.find(*r.protocol);
        s += it != names.end() ? it->second : "proto " + std::to_string(*r.protocol);
        if (r.port_range_min) {
            if (is_icmp(*r.protocol))
                s += " type " + std::to_string(*r.port_range_min) +
                     (r.port_range_max ? " code " + std::to_string(*r.port_range_max) : "");
            else if (r.port_range_max && *r.port_range_max != *r.port_range_min)
                s += " " + std::to_string(*r.port_range_min) + "-" + std::to_string(*r.port_range_max);
            else
                s += " " + std::to_string(*r.port_range_min);
        }
    }
    s += r.direction == Direction::Ingress ? " from " : " to ";
    if (r.remote_group_id) {
        const SecurityGroup* g = state ? state->find_security_group(*r.remote_group_id) : nullptr;
        s += "group " + (g && !g->name.empty() ? g->name : *r.remote_group_id);
    }
    else if (r.remote_ip_prefix) s += r.remote_ip_prefix->str();
    else s += "any";
    return s;
}

std::string rule_name(const SecurityGroup& sg, size_t index) {
    const auto& r = sg.rules[index];
    return r.id.empty() ? sg.id + "#" + std::to_string(index) : r.id;
}

SecurityContext::SecurityContext(const State& state) : state_(state) {
    std::vector<std::string> names;
    for (const auto& sg : state.security_groups)
        for (size_t i = 0; i < sg.rules.size(); i++) names.push_back(rule_name(sg, i));  // unique (validated)
    tags_ = assign_compact_ids(names);
    for (const auto& p : state.ports) {
        for (const auto& g : p.security_groups) {
            for (const auto& f : p.fixed_ips)
                members_[{g, f.ip_address.family()}].push_back(Cidr::host(f.ip_address));
            for (const auto& a : p.allowed_address_pairs)
                members_[{g, a.ip_address.family()}].push_back(a.ip_address.network());
        }
    }
}

uint32_t SecurityContext::rule_tag(const SecurityGroup& sg, size_t index) const {
    return tags_.at(rule_name(sg, index));
}

const std::vector<Cidr>& SecurityContext::members(const std::string& group_id, int family) const {
    auto it = members_.find({group_id, family});
    return it == members_.end() ? none_ : it->second;
}

std::vector<TaggedInterval> disjoint_intervals(const std::vector<TaggedInterval>& in) {
    // Sweep: +tag at lo, -tag at hi+1; each stretch between events takes the
    // smallest active tag; equal neighbours merge.
    std::vector<std::pair<uint32_t, std::pair<int, uint32_t>>> ev;
    for (const auto& iv : in) {
        ev.push_back({iv.lo, {1, iv.tag}});
        ev.push_back({iv.hi + 1, {-1, iv.tag}});
    }
    std::sort(ev.begin(), ev.end());
    std::multiset<uint32_t> active;
    std::vector<TaggedInterval> out;
    for (size_t i = 0; i < ev.size();) {
        uint32_t pos = ev[i].first;
        for (; i < ev.size() && ev[i].first == pos; i++) {
            if (ev[i].second.first > 0) active.insert(ev[i].second.second);
            else active.erase(active.find(ev[i].second.second));
        }
        if (active.empty() || i == ev.size()) continue;
        uint32_t tag = *active.begin(), end = ev[i].first - 1;
        if (!out.empty() && out.back().tag == tag && out.back().hi + 1 == pos) out.back().hi = end;
        else out.push_back({pos, end, tag});
    }
    return out;
}

std::vector<std::pair<uint16_t, int>> prefix_blocks(uint32_t lo, uint32_t hi) {
    std::vector<std::pair<uint16_t, int>> out;
    while (lo <= hi && lo <= 0xffff) {
        int k = 16;  // block size 2^k
        while (k > 0 && ((lo & ((1u << k) - 1)) != 0 || lo + (1u << k) - 1 > hi)) k--;
        out.push_back({static_cast<uint16_t>(lo), 16 - k});
        lo += 1u << k;
    }
    return out;
}

std::vector<std::string> policy_groups(const Port& port) {
    std::vector<std::string> g = port.security_groups;
    std::sort(g.begin(), g.end());
    g.erase(std::unique(g.begin(), g.end()), g.end());
    return g;
}

std::map<std::vector<std::string>, uint32_t> assign_policy_ids(const std::set<std::vector<std::string>>& sets) {
    // A set's name is its group ids joined: one group keeps its UUID, so its
    // policy id is the group's compact id; sets of several groups hash.
    std::map<std::string, std::vector<std::string>> by_name;
    for (const auto& set : sets) {
        std::string name;
        for (const auto& g : set) name += (name.empty() ? "" : ",") + g;
        by_name[name] = set;
    }
    std::vector<std::string> names;
    for (const auto& [name, set] : by_name) names.push_back(name);
    std::map<std::vector<std::string>, uint32_t> out;
    for (const auto& [name, id] : assign_compact_ids(names)) out[by_name.at(name)] = id;
    return out;
}

uint32_t compile_policy(const SecurityContext& ctx, const std::vector<std::string>& groups, uint32_t policy_id,
                        MapEntries& out) {
    const State& st = ctx.state();
    std::vector<RuleRef> all;
    for (const auto& gid : groups) {
        const SecurityGroup* sg = st.find_security_group(gid);
        if (!sg) continue;
        for (size_t i = 0; i < sg->rules.size(); i++) {
            uint32_t tag = ctx.rule_tag(*sg, i);
            all.push_back({tag, &sg->rules[i]});
            auto info = zeroed<nt_rule_info>();
            copy_name(info.rule_id, rule_name(*sg, i));
            copy_name(info.sg_id, sg->id);
            copy_name(info.sg_name, sg->name);
            copy_name(info.desc, describe_rule(sg->rules[i], &st));
            out.rule_info[tag] = info;
        }
    }
    Hasher gen;
    for (auto dir : {Direction::Egress, Direction::Ingress}) {
        for (auto eth : {Ethertype::IPv4, Ethertype::IPv6}) {
            const int family = family_of(eth);
            std::vector<const RuleRef*> any;
            std::map<Cidr, std::vector<const RuleRef*>> by_prefix;
            for (const auto& r : all) {
                if (r.rule->direction != dir || r.rule->ethertype != eth) continue;
                if (r.rule->remote_group_id) {
                    for (const auto& m : ctx.members(*r.rule->remote_group_id, family))
                        by_prefix[m.network()].push_back(&r);
                } else if (r.rule->remote_ip_prefix && r.rule->remote_ip_prefix->prefix > 0) {
                    by_prefix[r.rule->remote_ip_prefix->network()].push_back(&r);
                } else {
                    any.push_back(&r);
                }
            }
            // Each prefix's class: its rules and its ancestors'. The rules
            // with any remote are class 0, which the datapath looks up after
            // the address's own class, so they are compiled once, not again
            // in every class (that made the table grow as prefixes x rules).
            auto tags_of = [](std::vector<const RuleRef*> v) {
                std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->tag < b->tag; });
                v.erase(std::unique(v.begin(), v.end(), [](auto* a, auto* b) { return a->tag == b->tag; }),
                        v.end());
                return v;
            };
            auto key_of = [](const std::vector<const RuleRef*>& v) {
                std::vector<uint32_t> k;
                for (auto* r : v) k.push_back(r->tag);
                return k;
            };
            std::map<std::vector<uint32_t>, std::pair<uint32_t, std::vector<const RuleRef*>>> classes;
            std::vector<std::pair<Cidr, std::vector<uint32_t>>> remote;
            for (const auto& [p, rules] : by_prefix) {
                std::vector<const RuleRef*> set;
                for (int len = 0; len <= p.prefix; len++) {
                    auto it = by_prefix.find(Cidr{p.addr, len}.network());
                    if (it != by_prefix.end()) set.insert(set.end(), it->second.begin(), it->second.end());
                }
                set = tags_of(set);
                auto k = key_of(set);
                if (!classes.count(k)) classes[k] = {0, set};
                remote.push_back({p, k});
            }
            // A class id names its rule set (a hash of the rule tags), not a
            // position: when rules change, a changed set gets a new id, so
            // apply adds the new class's entries, then points the remote
            // prefixes at it, then deletes the old class, and no packet
            // meets an id whose rules are half rewritten (positional ids
            // shifted whenever a set sorted in before them). A collision
            // takes the next free id, in rule-set order: deterministic.
            std::set<uint32_t> used{0};
            for (auto& [k, c] : classes) {
                Hasher h;
                for (uint32_t t : k) h.add(t);
                uint32_t id = h.h;
                while (used.count(id)) id++;
                used.insert(id);
                c.first = id;
            }
            for (const auto& [p, k] : remote) {
                auto rk = zeroed<nt_sg_remote_key>();
                rk.prefixlen = NT_SG_REMOTE_FIXED_BITS + p.abi_bits();
                rk.policy_id = policy_id;
                rk.dir = abi_dir(dir);
                rk.family = static_cast<uint8_t>(family);
                rk.ip = p.addr.to_abi();
                auto v = zeroed<nt_sg_class>();
                v.class_id = classes.at(k).first;
                out.sg_remote[rk] = v;
                gen.add(rk);
                gen.add(v);
            }
            add_class_ports(policy_id, abi_dir(dir), family, 0, tags_of(any), out, gen);
            for (const auto& [k, c] : classes)
                add_class_ports(policy_id, abi_dir(dir), family, c.first, c.second, out, gen);
        }
    }
    // The id is part of every key, so a port moving to another policy
    // always sees another generation; an empty policy too.
    gen.add(policy_id);
    return gen.h ? gen.h : 1;
}

}  // namespace neutrino
