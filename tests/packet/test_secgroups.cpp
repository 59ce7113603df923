// Security groups on the tap programs, against tests/fixtures/packet-sg.json:
// which new flows each port's rules admit (tap_egress = Neutron "ingress",
// tap_ingress = Neutron "egress"), ports without groups, ports without port
// security, and the per-rule flow counters.
//
// This file also defines the security-group test environment (SgEnv) shared
// with test_antispoof.cpp and test_conntrack.cpp. TapDatapathTest cannot be
// reused for another state file (kStateFile is a constant its out-of-line
// SetUp reads, its state lives in private members, and it insists on "t-"
// tap names), so SgEnv is a second fixture of the same shape. The other two
// files repeat the declarations below (the block between "SgEnv API" marks);
// SgEnv itself is opaque there, so a changed parameter list is a link error,
// but a changed return type is not: keep the three copies identical (or move
// the block into a header, e.g. tests/packet/sg_env.hpp).
#include <arpa/inet.h>
#include <tins/dhcp.h>
#include <tins/icmp.h>
#include <tins/ipv6.h>
#include <tins/tcp.h>

#include <cstring>
#include <set>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fixture.hpp"
#include "frames.hpp"
#include "loader/links.hpp"
#include "maps/bpf_map.hpp"
#include "maps/bpf_map_store.hpp"
#include "maps/diff.hpp"
#include "maps/entries.hpp"
#include "sg_env.hpp"

namespace nt_test {


// ---- SgEnv implementation ----------------------------------------------------

struct SgEnv {
    nlohmann::json doc;
    neutrino::State state;
    neutrino::CompileResult compiled;
    std::unique_ptr<neutrino::Datapath> dp;
    std::map<std::string, TestPort> ports;
    std::vector<std::string> veths;
    static constexpr const char* kHost = "h1";

    ~SgEnv() {
        dp.reset();
        for (const auto& v : veths) neutrino::delete_link(v);
    }
};

namespace {

void check(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error("sg fixture: " + what);
}

neutrino::CompileResult compile_here(const neutrino::State& state) {
    neutrino::CompileInput in;
    in.host = SgEnv::kHost;
    in.ifindex_by_name = neutrino::list_interfaces();
    return neutrino::compile(state, in);
}

}  // namespace

std::shared_ptr<SgEnv> sg_env_create(const std::string& state_file) {
    auto env = std::make_shared<SgEnv>();
    std::ifstream in(state_file);
    check(bool(in), "cannot read " + state_file);
    env->doc = nlohmann::json::parse(in);
    env->state = neutrino::load_state_text(env->doc.dump(), state_file);

    for (const auto& p : env->state.ports) {
        if (p.host_id != SgEnv::kHost) continue;
        check(p.interface_name.size() > 2 && p.interface_name[1] == '-',
              "fixture taps are named <letter>-<name>: " + p.interface_name);
        TestPort tp;
        tp.name = p.name;
        tp.tap = p.interface_name;
        tp.peer = "v-" + p.interface_name.substr(2);
        std::copy(p.mac_address.b.begin(), p.mac_address.b.end(), tp.mac.begin());
        check(p.fixed_ips.size() == 1, p.name + " needs exactly one fixed IP");
        tp.ip = Ip(p.fixed_ips[0].ip_address.str());
        neutrino::delete_link(tp.tap);  // left over by a test that died in SetUp
        neutrino::create_veth(tp.tap, tp.peer, -1, p.mac_address);
        env->veths.push_back(tp.tap);
        neutrino::set_link_up(tp.tap);
        neutrino::set_link_up(tp.peer);
        env->ports[tp.name] = tp;
    }

    env->dp = neutrino::Datapath::load(std::nullopt);
    env->compiled = compile_here(env->state);
    check(env->compiled.pending_ports.empty(), "every fixture tap exists, none may be pending");
    check(env->compiled.local_ports.size() == env->ports.size(), "local ports");
    for (const auto& lp : env->compiled.local_ports) {
        const auto* p = env->state.find_port(lp.port_id);
        check(p != nullptr, "local port " + lp.port_id);
        auto& tp = env->ports.at(p->name);
        tp.ifindex = lp.ifindex;
        tp.port_tag = lp.port_tag;
    }
    neutrino::BpfMapStore store(env->dp->maps());
    store.apply(neutrino::diff({}, env->compiled.entries));
    check(store.read_all() == env->compiled.entries, "maps hold the compiled state");
    return env;
}

void sg_apply_json(SgEnv& env, const nlohmann::json& doc) {
    neutrino::State next_state = neutrino::load_state_text(doc.dump(), "sg_apply_json");
    neutrino::CompileResult next = compile_here(next_state);
    neutrino::BpfMapStore store(env.dp->maps());
    store.apply(neutrino::diff(store.read_all(), next.entries));
    check(store.read_all() == next.entries, "maps hold the re-applied state");
    env.doc = doc;
    env.state = std::move(next_state);
    env.compiled = std::move(next);
}

const TestPort& sg_port(const SgEnv& env, const std::string& name) {
    auto it = env.ports.find(name);
    if (it == env.ports.end()) throw std::out_of_range("no port named " + name + " in packet-sg.json");
    return it->second;
}

RunResult sg_ingress(const SgEnv& env, const std::string& port, const Bytes& frame, bool trace) {
    return run(env.dp->tap_ingress_fd(), frame, sg_port(env, port).ifindex, trace);
}

RunResult sg_egress(const SgEnv& env, const std::string& port, const Bytes& frame, bool trace) {
    return run(env.dp->tap_egress_fd(), frame, sg_port(env, port).ifindex, trace);
}

uint64_t sg_drop_packets(const SgEnv& env, uint32_t reason) {
    neutrino::PerCpuBpfMap<__u32, nt_counter> m(env.dp->map_fd(neutrino::kMapDropStats), neutrino::kMapDropStats);
    return sum_counters(m.lookup(reason)).packets;
}

uint64_t sg_total_drop_packets(const SgEnv& env) {
    uint64_t total = 0;
    for (uint32_t r = 0; r < NT_DROP_MAX; r++) total += sg_drop_packets(env, r);
    return total;
}

nt_port_stats sg_port_stats(const SgEnv& env, const std::string& port) {
    neutrino::PerCpuBpfMap<__u32, nt_port_stats> m(env.dp->map_fd(neutrino::kMapPortStats),
                                                    neutrino::kMapPortStats);
    return sum_port_stats(m.lookup(sg_port(env, port).port_tag));
}

uint32_t sg_rule_tag(const SgEnv& env, const std::string& rule_id) {
    for (const auto& [tag, info] : env.compiled.entries.rule_info)
        if (std::strncmp(info.rule_id, rule_id.c_str(), sizeof info.rule_id) == 0) return tag;
    return 0;
}

nt_counter sg_rule_stats(const SgEnv& env, uint32_t rule_tag) {
    neutrino::PerCpuBpfMap<__u32, nt_counter> m(env.dp->map_fd(neutrino::kMapRuleStats), neutrino::kMapRuleStats);
    return sum_counters(m.lookup(rule_tag));
}

uint32_t sg_policy_gen(const SgEnv& env, const std::string& port) {
    nt_port_key k{};
    k.ifindex = sg_port(env, port).ifindex;
    neutrino::BpfMap<nt_port_key, nt_port> m(env.dp->map_fd(neutrino::kMapPorts), neutrino::kMapPorts);
    auto v = m.lookup(k);
    check(v.has_value(), "no nt_ports entry for " + port);
    return v->policy_gen;
}

std::vector<std::pair<nt_ct_key, nt_ct_entry>> sg_ct_entries(const SgEnv& env) {
    neutrino::BpfMap<nt_ct_key, nt_ct_entry> m(env.dp->map_fd(neutrino::kMapCt), neutrino::kMapCt);
    std::vector<std::pair<nt_ct_key, nt_ct_entry>> out;
    m.for_each([&](const nt_ct_key& k, const nt_ct_entry& e) { out.emplace_back(k, e); });
    return out;
}

namespace {

nt_ip mapped(const Ip& v4) {
    nt_ip a{};
    a.w[2] = htonl(0xffff);
    uint32_t be = static_cast<uint32_t>(v4);  // libtins keeps network byte order
    std::memcpy(&a.w[3], &be, 4);
    return a;
}

}  // namespace

std::optional<nt_ct_entry> sg_ct_find(const SgEnv& env, const std::string& zone_port, uint8_t proto,
                                      const Ip& src, uint16_t sport, const Ip& dst, uint16_t dport) {
    nt_ct_key k{};
    k.zone = sg_port(env, zone_port).port_tag;
    k.proto = proto;
    k.family = 4;
    k.src = mapped(src);
    k.dst = mapped(dst);
    k.sport = htons(sport);
    k.dport = htons(dport);
    neutrino::BpfMap<nt_ct_key, nt_ct_entry> m(env.dp->map_fd(neutrino::kMapCt), neutrino::kMapCt);
    return m.lookup(k);
}

nlohmann::json sg_state_json(const SgEnv& env) { return env.doc; }

// ---- frames ----

Bytes sg_tcp(const Mac& smac, const Mac& dmac, const Ip& src, const Ip& dst, uint16_t sport, uint16_t dport,
             uint8_t flags) {
    Tins::TCP tcp(dport, sport);
    tcp.flags(flags);
    tcp.seq(1000);
    tcp.ack_seq((flags & kAck) ? 2000 : 0);
    return bytes(Tins::EthernetII(dmac, smac) / Tins::IP(dst, src) / tcp / Tins::RawPDU("sg"));
}

Bytes sg_udp(const Mac& smac, const Mac& dmac, const Ip& src, const Ip& dst, uint16_t sport, uint16_t dport) {
    return bytes(Tins::EthernetII(dmac, smac) / Tins::IP(dst, src) / Tins::UDP(dport, sport) /
                 Tins::RawPDU("neutrino sg test"));
}

Bytes sg_icmp_echo(const Mac& smac, const Mac& dmac, const Ip& src, const Ip& dst, uint8_t type, uint16_t id) {
    Tins::ICMP icmp(static_cast<Tins::ICMP::Flags>(type));
    icmp.id(id);
    icmp.sequence(1);
    return bytes(Tins::EthernetII(dmac, smac) / Tins::IP(dst, src) / icmp / Tins::RawPDU("ping"));
}

Bytes sg_icmp_error(const Mac& smac, const Mac& dmac, const Ip& src, const Ip& dst, uint8_t type, uint8_t code,
                    const Bytes& quoted) {
    constexpr size_t kEth = 14;
    if (quoted.size() < kEth + 20 + 8) throw std::invalid_argument("quoted frame too short");
    size_t ihl = (quoted[kEth] & 0x0f) * 4u;
    std::vector<uint8_t> q(quoted.begin() + kEth, quoted.begin() + static_cast<long>(kEth + ihl + 8));
    Tins::ICMP icmp(static_cast<Tins::ICMP::Flags>(type));
    icmp.code(code);
    return bytes(Tins::EthernetII(dmac, smac) / Tins::IP(dst, src) / icmp / Tins::RawPDU(q.data(), q.size()));
}

namespace {

// libtins picks the IP protocol from the inner PDU; a later fragment's inner
// PDU is raw payload, so the protocol (and the header checksum) is patched.
void set_ip_protocol(Bytes& frame, uint8_t proto) {
    constexpr size_t kIp = 14;
    frame[kIp + 9] = proto;
    frame[kIp + 10] = frame[kIp + 11] = 0;
    size_t ihl = (frame[kIp] & 0x0f) * 4u;
    uint32_t sum = 0;
    for (size_t i = 0; i < ihl; i += 2) sum += uint32_t(frame[kIp + i]) << 8 | frame[kIp + i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    uint16_t csum = static_cast<uint16_t>(~sum);
    frame[kIp + 10] = static_cast<uint8_t>(csum >> 8);
    frame[kIp + 11] = static_cast<uint8_t>(csum);
}

}  // namespace

Bytes sg_first_fragment(const Mac& smac, const Mac& dmac, const Ip& src, const Ip& dst, uint8_t proto,
                        uint16_t sport, uint16_t dport, uint8_t tcp_flags, uint16_t ip_id) {
    Tins::IP ip(dst, src);
    ip.id(ip_id);
    ip.flags(Tins::IP::MORE_FRAGMENTS);
    ip.fragment_offset(0);
    const std::string payload(24, 'f');  // the first 8-byte units of a larger datagram
    if (proto == IPPROTO_TCP) {
        Tins::TCP tcp(dport, sport);
        tcp.flags(tcp_flags);
        return bytes(Tins::EthernetII(dmac, smac) / ip / tcp / Tins::RawPDU(payload));
    }
    return bytes(Tins::EthernetII(dmac, smac) / ip / Tins::UDP(dport, sport) / Tins::RawPDU(payload));
}

Bytes sg_later_fragment(const Mac& smac, const Mac& dmac, const Ip& src, const Ip& dst, uint8_t proto,
                        uint16_t ip_id, uint16_t offset_units) {
    Tins::IP ip(dst, src);
    ip.id(ip_id);
    ip.flags(static_cast<Tins::IP::Flags>(0));
    ip.fragment_offset(offset_units);
    Bytes f = bytes(Tins::EthernetII(dmac, smac) / ip / Tins::RawPDU(std::string(40, 'g')));
    set_ip_protocol(f, proto);
    return f;
}

Bytes sg_udp6(const Mac& smac, const Mac& dmac, const std::string& src, const std::string& dst, uint16_t sport,
              uint16_t dport) {
    return bytes(Tins::EthernetII(dmac, smac) / Tins::IPv6(Tins::IPv6Address(dst), Tins::IPv6Address(src)) /
                 Tins::UDP(dport, sport) / Tins::RawPDU("v6 sg test"));
}

Bytes sg_dhcp_discover(const Mac& client_mac) {
    Tins::DHCP dhcp;
    dhcp.opcode(Tins::BootP::BOOTREQUEST);
    dhcp.htype(1);
    dhcp.hlen(6);
    dhcp.xid(0x5e5e5e5e);
    dhcp.chaddr(client_mac);
    dhcp.type(Tins::DHCP::DISCOVER);
    dhcp.end();
    return bytes(Tins::EthernetII(kBroadcast, client_mac) / Tins::IP(Ip::broadcast, Ip("0.0.0.0")) /
                 Tins::UDP(67, 68) / dhcp);
}

// ---- the tests ----------------------------------------------------------------

namespace {

class SgPolicy : public ::testing::Test {
protected:
    void SetUp() override { env_ = sg_env_create(NT_FIXTURES "/packet-sg.json"); }
    void TearDown() override { env_.reset(); }

    const TestPort& port(const std::string& n) const { return sg_port(*env_, n); }
    RunResult ingress(const std::string& p, const Bytes& f, bool trace) { return sg_ingress(*env_, p, f, trace); }
    RunResult egress(const std::string& p, const Bytes& f, bool trace) { return sg_egress(*env_, p, f, trace); }
    uint64_t drops(uint32_t reason) const { return sg_drop_packets(*env_, reason); }
    uint64_t total_drops() const { return sg_total_drop_packets(*env_); }

    // New TCP/UDP/ICMP flows from an address into web (its tap_egress).
    Bytes tcp_to_web(const Ip& src, uint16_t dport, uint8_t flags = kSyn) {
        return sg_tcp(port("client").mac, port("web").mac, src, port("web").ip, 40000, dport, flags);
    }
    Bytes udp_to_web(const Ip& src, uint16_t dport) {
        return sg_udp(port("client").mac, port("web").mac, src, port("web").ip, 40001, dport);
    }

    static void expect_drop(const RunResult& r, uint32_t reason, const std::string& what) {
        EXPECT_EQ(r.retval, kTcActShot) << what << ": " << describe(r);
        EXPECT_EQ(r.cb.verdict, NT_VERDICT_DROP) << what << ": " << describe(r);
        EXPECT_EQ(r.cb.reason, reason) << what << ": " << describe(r);
    }
    static void expect_deliver(const RunResult& r, const std::string& what) {
        EXPECT_EQ(r.retval, kTcActOk) << what << ": " << describe(r);
        EXPECT_EQ(r.cb.verdict, NT_VERDICT_DELIVER) << what << ": " << describe(r);
        EXPECT_EQ(r.cb.reason, 0u) << what << ": " << describe(r);
    }

    std::shared_ptr<SgEnv> env_;
};

TEST_F(SgPolicy, WebIngressRulesAdmitExactlyWhatTheyName) {
    const Ip client = port("client").ip, outsider("192.168.0.1"), non_member("10.0.0.50");
    const auto& web = port("web");
    struct Case {
        const char* what;
        Bytes frame;
        uint32_t reason;  // 0 = delivered
    } cases[] = {
        {"tcp/22 SYN from anywhere (ssh rule, 0.0.0.0/0)", tcp_to_web(outsider, 22), 0},
        // client is in 10.0.0.0/24 and a member of clients: its address has a
        // class of its own (http-alt, dns), and the any-remote rules (class
        // 0) are looked up after that class.
        {"tcp/22 SYN from a member in 10.0.0.0/24 (any-remote rule, after its class)", tcp_to_web(client, 22), 0},
        {"tcp/23 SYN: no rule", tcp_to_web(client, 23), NT_DROP_SG_NO_MATCH},
        {"tcp/21 SYN: just below the ssh port", tcp_to_web(client, 21), NT_DROP_SG_NO_MATCH},
        {"udp/53 from a member of clients", udp_to_web(client, 53), 0},
        {"udp/53 from client2 (member)", udp_to_web(port("client2").ip, 53), 0},
        {"udp/53 from client2's pair 10.0.0.100 (members include pairs)", udp_to_web(Ip("10.0.0.100"), 53), 0},
        {"udp/53 from client2's pair 10.0.5.0/24", udp_to_web(Ip("10.0.5.7"), 53), 0},
        {"udp/53 from 10.0.0.50, not a member", udp_to_web(non_member, 53), NT_DROP_SG_NO_MATCH},
        {"udp/53 from nogroup, not a member", udp_to_web(port("nogroup").ip, 53), NT_DROP_SG_NO_MATCH},
        {"tcp/53 from a member: the dns rule is udp only", tcp_to_web(client, 53), NT_DROP_SG_NO_MATCH},
        {"udp/54 from a member", udp_to_web(client, 54), NT_DROP_SG_NO_MATCH},
        {"icmp echo request (type 8) from anywhere",
         sg_icmp_echo(port("client").mac, web.mac, outsider, web.ip, 8, 7), 0},
        {"icmp echo request from a member (any-remote rule, after its class)",
         sg_icmp_echo(port("client").mac, web.mac, client, web.ip, 8, 9), 0},
        {"icmp timestamp request (type 13)", sg_icmp_echo(port("client").mac, web.mac, client, web.ip, 13, 7),
         NT_DROP_SG_NO_MATCH},
        {"tcp/8050 from 10.0.0.x", tcp_to_web(client, 8050), 0},
        {"tcp/8000 from 10.0.0.x (range start)", tcp_to_web(non_member, 8000), 0},
        {"tcp/8100 from 10.0.0.x (range end)", tcp_to_web(client, 8100), 0},
        {"tcp/8050 from 192.168.0.1: outside 10.0.0.0/24", tcp_to_web(outsider, 8050), NT_DROP_SG_NO_MATCH},
        {"tcp/8101 from 10.0.0.x: past the range", tcp_to_web(client, 8101), NT_DROP_SG_NO_MATCH},
        {"tcp/7999 from 10.0.0.x: before the range", tcp_to_web(client, 7999), NT_DROP_SG_NO_MATCH},
        {"udp/8050 from 10.0.0.x: the range rule is tcp only", udp_to_web(client, 8050), NT_DROP_SG_NO_MATCH},
    };
    for (const auto& c : cases) {
        RunResult r = egress("web", c.frame, true);
        if (c.reason)
            expect_drop(r, c.reason, c.what);
        else
            expect_deliver(r, c.what);
    }
    EXPECT_EQ(total_drops(), 0u) << "trace mode counts nothing";
    EXPECT_TRUE(sg_ct_entries(*env_).empty()) << "trace mode tracks nothing";

    // The same decisions for real: drops are counted once each, under their
    // reason and on web's port; admitted flows are tracked in web's zone.
    uint64_t denied = 0, admitted = 0;
    for (const auto& c : cases) {
        RunResult r = egress("web", c.frame, false);
        EXPECT_EQ(r.retval, c.reason ? kTcActShot : kTcActOk) << c.what << ": " << describe(r);
        (c.reason ? denied : admitted)++;
    }
    EXPECT_EQ(drops(NT_DROP_SG_NO_MATCH), denied);
    EXPECT_EQ(total_drops(), denied);
    auto ps = sg_port_stats(*env_, "web");
    EXPECT_EQ(ps.dropped.packets, denied);
    EXPECT_EQ(ps.to_vm.packets, admitted);
    EXPECT_EQ(sg_ct_entries(*env_).size(), admitted);
    for (const auto& [k, e] : sg_ct_entries(*env_)) {
        EXPECT_EQ(k.zone, web.port_tag) << "the zone is the receiving port";
        EXPECT_EQ(e.origin, NT_DIR_TO_VM);
        EXPECT_NE(e.rule_tag, 0u);
        EXPECT_EQ(e.policy_gen, sg_policy_gen(*env_, "web"));
    }
    ASSERT_TRUE(sg_ct_find(*env_, "web", IPPROTO_TCP, outsider, 40000, web.ip, 22).has_value());
    EXPECT_EQ(sg_ct_find(*env_, "web", IPPROTO_TCP, client, 40000, web.ip, 22)->rule_tag,
              sg_rule_tag(*env_, "web-ssh"));
    EXPECT_EQ(sg_ct_find(*env_, "web", IPPROTO_TCP, outsider, 40000, web.ip, 22)->state, NT_CT_SYN_SENT);
    EXPECT_EQ(sg_ct_find(*env_, "web", IPPROTO_UDP, client, 40001, web.ip, 53)->state, NT_CT_UNREPLIED);
}

TEST_F(SgPolicy, WebHasNoEgressRulesSoItCannotOpenFlows) {
    // web's only rules are ingress: a new flow from web is refused at its own
    // tap (tap_ingress), before L2.
    const auto &web = port("web"), &client = port("client");
    expect_drop(ingress("web", sg_tcp(web.mac, client.mac, web.ip, client.ip, 40000, 22, kSyn), true),
                NT_DROP_SG_NO_MATCH, "tcp SYN from web");
    expect_drop(ingress("web", sg_udp(web.mac, client.mac, web.ip, client.ip, 40000, 53), true),
                NT_DROP_SG_NO_MATCH, "udp from web");
    expect_drop(ingress("web", sg_icmp_echo(web.mac, client.mac, web.ip, client.ip, 8, 1), true),
                NT_DROP_SG_NO_MATCH, "ping from web");
    // client's egress rule (any IPv4, any remote) admits anything it opens.
    RunResult r = ingress("client", sg_tcp(client.mac, web.mac, client.ip, web.ip, 40000, 23, kSyn), true);
    EXPECT_EQ(r.cb.verdict, NT_VERDICT_REDIRECT) << describe(r);
    EXPECT_EQ(r.cb.target, web.ifindex) << describe(r);
    r = ingress("client", sg_udp(client.mac, web.mac, client.ip, Ip("8.8.8.8"), 40000, 9999), true);
    EXPECT_NE(r.cb.verdict, NT_VERDICT_DROP) << describe(r);
}

TEST_F(SgPolicy, ClientsAdmitOnlyGroupMembersInbound) {
    const auto &client = port("client"), &client2 = port("client2"), &web = port("web");
    // "ingress any from group clients": any protocol from client2 (a member),
    // nothing from web or nogroup (not members).
    expect_deliver(egress("client", sg_tcp(client2.mac, client.mac, client2.ip, client.ip, 1, 5555, kSyn), true),
                   "tcp from member");
    expect_deliver(egress("client", sg_udp(client2.mac, client.mac, client2.ip, client.ip, 1, 9), true),
                   "udp from member");
    expect_deliver(egress("client", sg_icmp_echo(client2.mac, client.mac, client2.ip, client.ip, 13, 1), true),
                   "icmp from member");
    expect_deliver(egress("client", sg_udp(client2.mac, client.mac, Ip("10.0.5.200"), client.ip, 1, 9), true),
                   "udp from a member's address pair");
    expect_drop(egress("client", sg_tcp(web.mac, client.mac, web.ip, client.ip, 1, 5555, kSyn), true),
                NT_DROP_SG_NO_MATCH, "tcp from web");
    expect_drop(egress("client", sg_udp(web.mac, client.mac, port("nogroup").ip, client.ip, 1, 9), true),
                NT_DROP_SG_NO_MATCH, "udp from nogroup");
    expect_drop(egress("client", sg_udp(web.mac, client.mac, Ip("10.0.6.1"), client.ip, 1, 9), true),
                NT_DROP_SG_NO_MATCH, "udp from just outside the pair's /24");
}

TEST_F(SgPolicy, PortsWithTheSameGroupsShareOneTable) {
    // client and client2 are both in "clients" alone: one policy, one table
    // in nt_sg_ports / nt_sg_remote; web has another.
    neutrino::BpfMap<nt_port_key, nt_port> ports(env_->dp->map_fd(neutrino::kMapPorts), neutrino::kMapPorts);
    auto policy = [&](const std::string& name) { return ports.lookup(nt_port_key{port(name).ifindex})->policy_id; };
    const uint32_t clients = policy("client");
    EXPECT_NE(clients, 0u);
    EXPECT_EQ(policy("client2"), clients);
    EXPECT_EQ(sg_policy_gen(*env_, "client2"), sg_policy_gen(*env_, "client"));
    EXPECT_NE(policy("web"), clients);
    EXPECT_EQ(policy("open"), 0u) << "no port security, no policy";
    std::set<uint32_t> in_maps;
    for (const auto& [k, v] : env_->compiled.entries.sg_ports) in_maps.insert(k.policy_id);
    EXPECT_EQ(in_maps, (std::set<uint32_t>{clients, policy("web")}));

    // The shared table decides for each port by its own tap: client2 admits
    // what client does (any protocol from members), and not from web.
    const auto &client = port("client"), &client2 = port("client2"), &web = port("web");
    expect_deliver(egress("client2", sg_tcp(client.mac, client2.mac, client.ip, client2.ip, 1, 5555, kSyn), true),
                   "tcp from member into client2");
    expect_drop(egress("client2", sg_tcp(web.mac, client2.mac, web.ip, client2.ip, 1, 5555, kSyn), true),
                NT_DROP_SG_NO_MATCH, "tcp from web into client2");

    // Moving client2 to web's groups points its port entry at web's table;
    // the clients table stays (client keeps it), no third table appears.
    // (client2 also leaves the clients group, so the member prefixes of
    // both tables change with it.)
    nlohmann::json doc = sg_state_json(*env_);
    for (auto& p : doc["ports"])
        if (p["name"] == "client2") p["security_groups"] = {"5a000000-0000-4000-8000-00000000000a"};
    sg_apply_json(*env_, doc);
    in_maps.clear();
    for (const auto& [k, v] : env_->compiled.entries.sg_ports) in_maps.insert(k.policy_id);
    EXPECT_EQ(in_maps, (std::set<uint32_t>{clients, policy("web")}));
    EXPECT_EQ(policy("client2"), policy("web"));
    EXPECT_EQ(policy("client"), clients);
    expect_drop(egress("client2", sg_tcp(client.mac, client2.mac, client.ip, client2.ip, 1, 5555, kSyn), true),
                NT_DROP_SG_NO_MATCH, "tcp/5555 into client2 under web's rules");
    expect_deliver(egress("client2", sg_tcp(web.mac, client2.mac, Ip("192.168.0.1"), client2.ip, 1, 22, kSyn), true),
                   "ssh into client2 under web's rules");
}

TEST_F(SgPolicy, PortWithoutGroupsDropsAllIpButArpAndDhcp) {
    const auto &ng = port("nogroup"), &web = port("web");

    // IPv4 in either direction: no rule, no flow.
    Bytes in_tcp = sg_tcp(web.mac, ng.mac, web.ip, ng.ip, 40000, 22, kSyn);
    Bytes out_tcp = sg_tcp(ng.mac, web.mac, ng.ip, web.ip, 40000, 22, kSyn);
    expect_drop(egress("nogroup", in_tcp, true), NT_DROP_SG_NO_MATCH, "tcp SYN to nogroup");
    expect_drop(ingress("nogroup", out_tcp, true), NT_DROP_SG_NO_MATCH, "tcp SYN from nogroup");
    expect_drop(egress("nogroup", sg_icmp_echo(web.mac, ng.mac, web.ip, ng.ip, 8, 1), true), NT_DROP_SG_NO_MATCH,
                "ping to nogroup");

    // ARP both ways: the responder answers nogroup's request for web.
    RunResult r = ingress("nogroup", arp_request(ng.mac, ng.ip, web.ip), true);
    EXPECT_EQ(r.cb.verdict, NT_VERDICT_REPLY) << describe(r);
    EXPECT_EQ(r.cb.reason, 0u) << describe(r);
    expect_deliver(egress("nogroup", arp_request(web.mac, web.ip, ng.ip), true), "ARP to nogroup");

    // DHCPDISCOVER from 0.0.0.0: passes anti-spoofing (unspecified source,
    // 68->67) and the built-in allow; DHCP is off on the subnet, so it floods.
    r = ingress("nogroup", sg_dhcp_discover(ng.mac), true);
    EXPECT_NE(r.cb.verdict, NT_VERDICT_DROP) << describe(r);
    EXPECT_EQ(r.cb.reason, 0u) << describe(r);
    EXPECT_EQ(r.cb.verdict, NT_VERDICT_FLOOD) << describe(r);
    // The server side of DHCP towards the VM is built-in allowed too.
    expect_deliver(egress("nogroup", sg_udp(web.mac, ng.mac, Ip("10.0.0.2"), ng.ip, 67, 68), true),
                   "DHCP offer to nogroup");
    // But nothing else from the unspecified address.
    expect_drop(ingress("nogroup", sg_udp(ng.mac, kBroadcast, Ip("0.0.0.0"), Ip::broadcast, 68, 69), true),
                NT_DROP_SPOOFED_IP, "udp 68->69 from 0.0.0.0");

    // Real runs: counted, and nothing tracked for built-in traffic.
    EXPECT_EQ(egress("nogroup", in_tcp, false).retval, kTcActShot);
    EXPECT_EQ(ingress("nogroup", out_tcp, false).retval, kTcActShot);
    EXPECT_EQ(drops(NT_DROP_SG_NO_MATCH), 2u);
    EXPECT_EQ(sg_port_stats(*env_, "nogroup").dropped.packets, 2u);
    ingress("nogroup", sg_dhcp_discover(ng.mac), false);
    EXPECT_EQ(total_drops(), 2u);
    EXPECT_TRUE(sg_ct_entries(*env_).empty()) << "built-in allows are not tracked";
}

TEST_F(SgPolicy, PortSecurityOffChecksNothing) {
    const auto &open = port("open"), &web = port("web");
    // Foreign MAC and IP out of "open": no anti-spoofing, no groups; L2 still
    // delivers to web.
    RunResult r = ingress("open", sg_tcp(kForeignMac, web.mac, Ip("172.16.9.9"), web.ip, 1, 23, kSyn), true);
    EXPECT_EQ(r.cb.verdict, NT_VERDICT_REDIRECT) << describe(r);
    EXPECT_EQ(r.cb.target, web.ifindex) << describe(r);
    r = ingress("open", sg_udp(open.mac, web.mac, open.ip, web.ip, 67, 68), true);
    EXPECT_EQ(r.cb.verdict, NT_VERDICT_REDIRECT) << "even a DHCP server reply: " << describe(r);
    r = ingress("open", arp_request(kForeignMac, Ip("172.16.9.9"), web.ip), true);
    EXPECT_NE(r.cb.verdict, NT_VERDICT_DROP) << "ARP with a foreign sender: " << describe(r);
    // Anything inbound, including what conntrack would call invalid.
    expect_deliver(egress("open", sg_tcp(web.mac, open.mac, web.ip, open.ip, 1, 23, kSyn), true), "tcp/23 SYN");
    expect_deliver(egress("open", sg_tcp(web.mac, open.mac, web.ip, open.ip, 1, 23, kAck), true), "stray ACK");
    expect_deliver(egress("open", sg_udp(web.mac, open.mac, Ip("192.168.0.1"), open.ip, 1, 9), true), "udp");

    // For real: not tracked, not counted as drops.
    EXPECT_EQ(egress("open", sg_tcp(web.mac, open.mac, web.ip, open.ip, 1, 23, kSyn), false).retval, kTcActOk);
    EXPECT_EQ(egress("open", sg_tcp(web.mac, open.mac, web.ip, open.ip, 1, 23, kAck), false).retval, kTcActOk);
    EXPECT_EQ(total_drops(), 0u);
    EXPECT_TRUE(sg_ct_entries(*env_).empty()) << "a port without port security is not tracked";
    EXPECT_EQ(sg_port_stats(*env_, "open").to_vm.packets, 2u);
}

TEST_F(SgPolicy, RuleCountersCountAdmittedFlowsNotPackets) {
    const auto &client = port("client"), &web = port("web");
    const uint32_t ssh = sg_rule_tag(*env_, "web-ssh"), dns = sg_rule_tag(*env_, "web-dns"),
                   egress_any = sg_rule_tag(*env_, "clients-egress");
    ASSERT_NE(ssh, 0u);
    ASSERT_NE(dns, 0u);
    ASSERT_NE(egress_any, 0u);
    EXPECT_NE(ssh, dns);

    Bytes syn = sg_tcp(client.mac, web.mac, client.ip, web.ip, 40000, 22, kSyn);
    EXPECT_EQ(egress("web", syn, true).cb.verdict, NT_VERDICT_DELIVER);
    EXPECT_EQ(sg_rule_stats(*env_, ssh).packets, 0u) << "trace mode counts no rule";

    EXPECT_EQ(ingress("client", syn, false).retval, kTcActRedirect);
    EXPECT_EQ(egress("web", syn, false).retval, kTcActOk);
    EXPECT_EQ(sg_rule_stats(*env_, ssh).packets, 1u);
    EXPECT_EQ(sg_rule_stats(*env_, ssh).bytes, syn.size());
    EXPECT_EQ(sg_rule_stats(*env_, egress_any).packets, 1u) << "client's side of the same flow";
    auto ct = sg_ct_find(*env_, "web", IPPROTO_TCP, client.ip, 40000, web.ip, 22);
    ASSERT_TRUE(ct.has_value());
    EXPECT_EQ(ct->rule_tag, ssh);

    // More packets of the same flow (SYN-ACK, ACK) do not count again.
    Bytes synack = sg_tcp(web.mac, client.mac, web.ip, client.ip, 22, 40000, kSyn | kAck);
    Bytes ack = sg_tcp(client.mac, web.mac, client.ip, web.ip, 40000, 22, kAck);
    EXPECT_EQ(ingress("web", synack, false).retval, kTcActRedirect);
    EXPECT_EQ(egress("client", synack, false).retval, kTcActOk);
    EXPECT_EQ(egress("web", ack, false).retval, kTcActOk);
    EXPECT_EQ(sg_rule_stats(*env_, ssh).packets, 1u);
    EXPECT_EQ(sg_rule_stats(*env_, egress_any).packets, 1u);

    // A second flow under another rule counts there; a refused flow nowhere.
    EXPECT_EQ(egress("web", sg_udp(client.mac, web.mac, client.ip, web.ip, 40001, 53), false).retval, kTcActOk);
    EXPECT_EQ(egress("web", sg_udp(client.mac, web.mac, Ip("10.0.0.50"), web.ip, 40001, 53), false).retval,
              kTcActShot);
    EXPECT_EQ(sg_rule_stats(*env_, dns).packets, 1u);
    EXPECT_EQ(sg_rule_stats(*env_, ssh).packets, 1u);
}

// Trace mode also says what admitted a packet: the rule in skb->mark, how in
// skb->priority (enum nt_trace_policy); `neutrino trace` names the rule.
TEST_F(SgPolicy, TraceReportsTheRuleAndHowItAdmits) {
    const auto &client = port("client"), &web = port("web");
    const uint32_t ssh = sg_rule_tag(*env_, "web-ssh"), egress_any = sg_rule_tag(*env_, "clients-egress");
    ASSERT_NE(ssh, 0u);
    Bytes syn = sg_tcp(client.mac, web.mac, client.ip, web.ip, 40000, 22, kSyn);
    RunResult r = ingress("client", syn, true);
    EXPECT_EQ(r.priority, NT_TRACE_POLICY_NEW) << describe(r);
    EXPECT_EQ(r.mark, egress_any);
    r = egress("web", syn, true);
    EXPECT_EQ(r.priority, NT_TRACE_POLICY_NEW) << describe(r);
    EXPECT_EQ(r.mark, ssh);
    // Refused: no rule, no decision.
    r = egress("web", sg_tcp(client.mac, web.mac, client.ip, web.ip, 40000, 23, kSyn), true);
    EXPECT_EQ(r.cb.reason, NT_DROP_SG_NO_MATCH) << describe(r);
    EXPECT_EQ(r.mark, 0u);
    EXPECT_EQ(r.priority, NT_TRACE_POLICY_NONE);

    // Once tracked: the reply stands on the rule that admitted the flow.
    ASSERT_EQ(ingress("client", syn, false).retval, kTcActRedirect);
    ASSERT_EQ(egress("web", syn, false).retval, kTcActOk);
    Bytes synack = sg_tcp(web.mac, client.mac, web.ip, client.ip, 22, 40000, kSyn | kAck);
    r = ingress("web", synack, true);
    EXPECT_EQ(r.priority, NT_TRACE_POLICY_REPLY) << describe(r);
    EXPECT_EQ(r.mark, ssh);
    r = egress("web", syn, true);
    EXPECT_EQ(r.priority, NT_TRACE_POLICY_ESTABLISHED) << describe(r);
    EXPECT_EQ(r.mark, ssh);

    // ARP is not the groups' business; a port without port security checks nothing.
    r = ingress("client", arp_request(client.mac, client.ip, web.ip), true);
    EXPECT_EQ(r.priority, NT_TRACE_POLICY_NONE) << describe(r);
    EXPECT_EQ(r.mark, 0u);
    r = egress("open", sg_tcp(web.mac, port("open").mac, web.ip, port("open").ip, 1, 23, kSyn), true);
    EXPECT_EQ(r.priority, NT_TRACE_POLICY_OFF) << describe(r);

    // Real packets keep their mark and priority (zero here).
    r = egress("web", syn, false);
    EXPECT_EQ(r.mark, 0u);
    EXPECT_EQ(r.priority, 0u);
}

}  // namespace
}  // namespace nt_test
