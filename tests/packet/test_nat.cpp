// NAT at a router's external side, byte for byte against libtins: default
// SNAT (TCP, UDP, ICMP echo) out of the VM's tap and its replies back in on
// the external uplink, floating IPs both ways (any protocol, before SNAT),
// the external next hop resolved by ARP (request sent, reply learned), ARP
// answered for the router's external addresses, traffic to the SNAT address
// without a binding, port exhaustion, and trace mode without side effects.
//
// State (packet-nat.json, host h1): router-1 joins net-a (10.1.0.0/24: a1
// 10.1.0.11 without a floating IP, a2 10.1.0.12 with 172.31.208.110) and,
// through its gateway port r1-gw (172.31.208.102), the flat external network
// "public" (172.31.208.0/24, gateway 172.31.208.1, physnet uplink ext0) with
// SNAT on. The upstream gateway is no Neutron port: its MAC is learned from
// ARP on ext0. The external server is 203.0.113.5, behind that gateway.
//
// SNAT ports come from bpf_get_hash_recalc(), so the test does not predict
// them: it reads the binding back from nt_nat, checks it lies in the
// router's range (nt_snat) and builds the expected frames with it.
//
// The last tests add a second host h2 (tunnel 192.0.2.2): once as router-1's
// SNAT host (h1 then sends a1's flows to the outside there, as sent, and
// keeps a2's floating IP behind a MAC of its own), once with a VM of net-a
// whose SNAT flows h1, the SNAT host, translates and sends back.
#include <arpa/inet.h>
#include <tins/icmp.h>
#include <tins/tcp.h>

#include <cstring>
#include <optional>

#include "maps/bpf_map.hpp"
#include "maps/entries.hpp"
#include "maps/net_types.hpp"
#include "maps/compile_nat.hpp"
#include "overlay_env.hpp"
#include "route_env.hpp"

namespace nt_test {
namespace {

constexpr const char* kUplink = "ext0";
constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17, kProtoGre = 47;

const Ip kGwIp{"172.31.208.1"};         // the external subnet's gateway (upstream router)
const Mac kGwMac{"02:00:00:00:ee:01"};  // its MAC, learned from ARP
const Ip kExtIp{"172.31.208.102"};      // router-1's external (SNAT) address
const Ip kFip{"172.31.208.110"};        // a2's floating IP
const Ip kServer{"203.0.113.5"};        // on the internet, via the gateway
const Ip kOther{"172.31.208.150"};      // on the external subnet, nobody's

struct L3 {
    Ip src, dst;
    uint8_t ttl = 64;
};

Tins::IP ip_of(const L3& h) {
    Tins::IP ip(h.dst, h.src);
    ip.ttl(h.ttl);
    ip.id(0x4e41);
    ip.flags(Tins::IP::DONT_FRAGMENT);
    return ip;
}

enum class Proto { Tcp, Udp, Echo };

// One packet of a flow. TCP: SYN (reply: SYN-ACK); UDP with a payload; ICMP
// echo request (reply: echo reply) whose id is sport (reply: dport, the id
// as the replier addresses it).
Bytes flow_frame(Proto p, const Mac& smac, const Mac& dmac, const L3& h, uint16_t sport, uint16_t dport,
                 bool reply) {
    Tins::EthernetII eth(dmac, smac);
    switch (p) {
    case Proto::Tcp: {
        Tins::TCP tcp(dport, sport);
        tcp.flags(reply ? (Tins::TCP::SYN | Tins::TCP::ACK) : Tins::TCP::SYN);
        tcp.seq(reply ? 0x1000 : 0x2000);
        if (reply) tcp.ack_seq(0x2001);
        tcp.window(64240);
        return bytes(eth / ip_of(h) / tcp);
    }
    case Proto::Udp:
        return bytes(eth / ip_of(h) / Tins::UDP(dport, sport) / Tins::RawPDU(std::string(24, 'u')));
    case Proto::Echo: {
        Tins::ICMP icmp(reply ? Tins::ICMP::ECHO_REPLY : Tins::ICMP::ECHO_REQUEST);
        icmp.id(reply ? dport : sport);
        icmp.sequence(7);
        return bytes(eth / ip_of(h) / icmp / Tins::RawPDU(std::string(32, 'e')));
    }
    }
    return {};
}

// An IPv4 packet of protocol 47 (GRE): no ports, nothing NAT could bind.
Bytes gre_frame(const Mac& smac, const Mac& dmac, const L3& h) {
    Tins::IP ip = ip_of(h);
    ip.protocol(kProtoGre);
    const uint8_t gre[] = {0x00, 0x00, 0x08, 0x00, 'g', 'r', 'e', '!', 'g', 'r', 'e', '!'};
    Bytes b = bytes(Tins::EthernetII(dmac, smac) / ip / Tins::RawPDU(gre, sizeof gre));
    EXPECT_EQ(b.at(14 + 9), kProtoGre) << "libtins kept the protocol";
    return b;
}

uint8_t proto_number(Proto p) { return p == Proto::Tcp ? kProtoTcp : p == Proto::Udp ? kProtoUdp : kProtoIcmp; }

union nt_ip abi(const Ip& ip) { return neutrino::IpAddr::parse(ip.to_string())->to_abi(); }
bool same_ip(const union nt_ip& a, const Ip& b) {
    const union nt_ip x = abi(b);
    return std::memcmp(&a, &x, sizeof a) == 0;
}

using NatMap = neutrino::BpfMap<nt_nat_key, nt_nat_entry>;
using Binding = std::pair<nt_nat_key, nt_nat_entry>;

class Nat : public RouteTest {
protected:
    static constexpr const char* kNatState = NT_FIXTURES "/packet-nat.json";
    const char* state_file() const override { return kNatState; }

    NatMap nat() const { return NatMap(datapath().map_fd(neutrino::kMapNat), neutrino::kMapNat); }
    std::vector<Binding> bindings() const {
        std::vector<Binding> all;
        nat().for_each([&](const nt_nat_key& k, const nt_nat_entry& e) { all.emplace_back(k, e); });
        return all;
    }
    // The binding of one direction of a flow, as that direction sees it.
    std::optional<nt_nat_entry> binding(uint8_t dir, uint8_t proto, const Ip& src, const Ip& dst, uint16_t sport,
                                        uint16_t dport) const {
        for (const auto& [k, e] : bindings())
            if (k.dir == dir && k.proto == proto && same_ip(k.src, src) && same_ip(k.dst, dst) &&
                k.sport == htons(sport) && k.dport == htons(dport))
                return e;
        return std::nullopt;
    }

    // router-1's SNAT entry (the only one): its id, range and SNAT host.
    std::pair<uint32_t, nt_snat> snat() const {
        neutrino::BpfMap<__u32, nt_snat> m(datapath().map_fd("nt_snat"), "nt_snat");
        std::vector<std::pair<uint32_t, nt_snat>> all;
        m.for_each([&](const __u32& k, const nt_snat& v) { all.emplace_back(k, v); });
        EXPECT_EQ(all.size(), 1u) << "router-1 alone has SNAT";
        return all.at(0);
    }

    size_t learned() const {
        neutrino::BpfMap<nt_neigh_key, nt_neigh> m(datapath().map_fd("nt_ext_neigh"), "nt_ext_neigh");
        size_t n = 0;
        m.for_each([&](const nt_neigh_key& k, const nt_neigh& v) {
            n++;
            EXPECT_TRUE(same_ip(k.ip, kGwIp));
            EXPECT_EQ(Mac(v.mac), kGwMac);
        });
        return n;
    }

    std::vector<nt_uplink_stats> uplink_record() const {
        neutrino::PerCpuBpfMap<__u32, nt_uplink_stats> m(datapath().map_fd("nt_uplink_stats"), "nt_uplink_stats");
        return m.lookup(ifindex(kUplink));
    }

    // The gateway answers the router's ARP request: learned from ext0.
    void learn_gateway() {
        RunResult r = uplink_ingress(kUplink, arp_reply(kGwMac, kGwIp, port("r1-gw").mac, kExtIp), false);
        EXPECT_EQ(r.retval, kTcActShot) << "an ARP reply to the router is consumed: " << describe(r);
        ASSERT_EQ(learned(), 1u);
    }

    // A run that leaves by `ifindex` (redirect) as `want`; in trace mode the
    // report names that interface.
    void expect_out(const RunResult& r, uint32_t ifindex, const Bytes& want, bool trace) {
        EXPECT_EQ(r.retval, kTcActRedirect) << describe(r);
        if (trace) {
            EXPECT_EQ(r.cb.verdict, NT_VERDICT_REDIRECT) << describe(r);
            EXPECT_EQ(r.cb.target, ifindex) << describe(r);
        }
        EXPECT_TRUE(same_frame(r.out, want));
    }

    // A SNAT flow from a1 to kServer: out through ext0 with the router's
    // address and a port of the range, the reply back to a1 as it was sent.
    void snat_round_trip(Proto p) {
        learn_gateway();
        const TestPort &a1 = port("a1"), &r1a = port("r1-a"), &gw = port("r1-gw");
        const uint16_t sport = 40123, dport = p == Proto::Echo ? sport : 443;
        const uint8_t proto = proto_number(p);

        const Bytes out = flow_frame(p, a1.mac, r1a.mac, {a1.ip, kServer}, sport, dport, false);
        RunResult r = ingress("a1", out, false);
        ASSERT_EQ(r.retval, kTcActRedirect) << describe(r);

        const auto ob = binding(NT_NAT_OUT, proto, a1.ip, kServer, sport, dport);
        ASSERT_TRUE(ob) << "an OUT binding for the flow";
        EXPECT_TRUE(same_ip(ob->addr, kExtIp));
        const uint16_t ext_port = ntohs(ob->port);
        const auto [rid, sn] = snat();
        EXPECT_GE(ext_port, sn.port_min);
        EXPECT_LE(ext_port, sn.port_max);
        EXPECT_EQ(sn.port_min, NT_SNAT_PORT_MIN) << "h1 is router-1's SNAT host: the whole range";
        EXPECT_EQ(sn.port_max, NT_SNAT_PORT_MAX);
        const auto ib = binding(NT_NAT_IN, proto, kServer, kExtIp, p == Proto::Echo ? ext_port : dport, ext_port);
        ASSERT_TRUE(ib) << "the IN binding, keyed as the reply arrives";
        EXPECT_TRUE(same_ip(ib->addr, a1.ip));
        EXPECT_EQ(ntohs(ib->port), sport);
        EXPECT_EQ(bindings().size(), 2u);

        const uint16_t out_dport = p == Proto::Echo ? ext_port : dport;
        const Bytes want = flow_frame(p, gw.mac, kGwMac, {kExtIp, kServer, 63}, ext_port, out_dport, false);
        expect_out(r, 0, want, false);
        // Trace mode sees the same translation, and where it goes.
        expect_out(ingress("a1", out, true), ifindex(kUplink), want, true);
        EXPECT_EQ(bindings().size(), 2u);

        // The reply, from the server to the router's address and port.
        const Bytes in = flow_frame(p, kGwMac, gw.mac, {kServer, kExtIp}, dport, ext_port, true);
        const uint16_t back_dport = sport;
        const Bytes back = flow_frame(p, r1a.mac, a1.mac, {kServer, a1.ip, 63}, dport, back_dport, true);
        expect_out(uplink_ingress(kUplink, in, false), 0, back, false);
        expect_out(uplink_ingress(kUplink, in, true), a1.ifindex, back, true);
        EXPECT_EQ(bindings().size(), 2u) << "the reply makes no binding";
    }
};

// The gateway's MAC is unknown: the packet becomes the router's ARP request
// for it (60 bytes, broadcast, from the external address and gateway MAC),
// counted no-neighbour; nothing is bound yet.
TEST_F(Nat, UnknownNextHopSendsArpRequest) {
    const TestPort &a1 = port("a1"), &r1a = port("r1-a"), &gw = port("r1-gw");
    const Bytes out = flow_frame(Proto::Udp, a1.mac, r1a.mac, {a1.ip, kServer}, 40000, 53, false);
    const uint64_t before = drop_packets(NT_DROP_NO_NEIGHBOUR);

    RunResult t = ingress("a1", out, true);
    expect_trace_drop(t, NT_DROP_NO_NEIGHBOUR);
    EXPECT_EQ(drop_packets(NT_DROP_NO_NEIGHBOUR), before) << "trace mode must not count";

    RunResult r = ingress("a1", out, false);
    const Bytes want = bytes(Tins::ARP::make_arp_request(kGwIp, kExtIp, gw.mac));
    ASSERT_EQ(want.size(), 60u);
    EXPECT_EQ(r.out.size(), 60u);
    expect_out(r, 0, want, false);
    EXPECT_EQ(drop_packets(NT_DROP_NO_NEIGHBOUR), before + 1);
    EXPECT_TRUE(bindings().empty()) << "no binding before the next hop is known";
}

// The gateway's ARP reply is learned for real, not in trace mode.
TEST_F(Nat, ArpReplyOnUplinkIsLearned) {
    const Bytes reply = arp_reply(kGwMac, kGwIp, port("r1-gw").mac, kExtIp);
    RunResult t = uplink_ingress(kUplink, reply, true);
    EXPECT_EQ(t.retval, kTcActShot) << describe(t);
    EXPECT_EQ(learned(), 0u) << "trace mode learns nothing";
    learn_gateway();
}

TEST_F(Nat, SnatTcp) { snat_round_trip(Proto::Tcp); }
TEST_F(Nat, SnatUdp) { snat_round_trip(Proto::Udp); }
TEST_F(Nat, SnatIcmpEcho) { snat_round_trip(Proto::Echo); }

// a2's floating IP: source rewritten on the way out, ports untouched, no SNAT
// binding (the floating IP comes first); inbound to the floating IP goes to
// the fixed IP. Stateless: a GRE packet works as well as UDP, both ways.
TEST_F(Nat, FloatingIpBothWaysAnyProtocol) {
    learn_gateway();
    const TestPort &a2 = port("a2"), &r1a = port("r1-a"), &gw = port("r1-gw");

    const Bytes udp_out = flow_frame(Proto::Udp, a2.mac, r1a.mac, {a2.ip, kServer}, 5353, 53, false);
    const Bytes udp_want = flow_frame(Proto::Udp, gw.mac, kGwMac, {kFip, kServer, 63}, 5353, 53, false);
    expect_out(ingress("a2", udp_out, true), ifindex(kUplink), udp_want, true);
    expect_out(ingress("a2", udp_out, false), 0, udp_want, false);

    const Bytes gre_out = gre_frame(a2.mac, r1a.mac, {a2.ip, kServer});
    const Bytes gre_want = gre_frame(gw.mac, kGwMac, {kFip, kServer, 63});
    expect_out(ingress("a2", gre_out, true), ifindex(kUplink), gre_want, true);
    expect_out(ingress("a2", gre_out, false), 0, gre_want, false);
    EXPECT_TRUE(bindings().empty()) << "a floating IP takes precedence over SNAT: no binding";

    const Bytes udp_in = flow_frame(Proto::Udp, kGwMac, gw.mac, {kServer, kFip}, 53, 5353, true);
    const Bytes udp_back = flow_frame(Proto::Udp, r1a.mac, a2.mac, {kServer, a2.ip, 63}, 53, 5353, true);
    expect_out(uplink_ingress(kUplink, udp_in, true), a2.ifindex, udp_back, true);
    expect_out(uplink_ingress(kUplink, udp_in, false), 0, udp_back, false);

    // Inbound to a port nobody opened: a floating IP is 1:1, no state.
    const Bytes gre_in = gre_frame(kGwMac, gw.mac, {kServer, kFip});
    const Bytes gre_back = gre_frame(r1a.mac, a2.mac, {kServer, a2.ip, 63});
    expect_out(uplink_ingress(kUplink, gre_in, true), a2.ifindex, gre_back, true);
    expect_out(uplink_ingress(kUplink, gre_in, false), 0, gre_back, false);
    EXPECT_TRUE(bindings().empty());
}

// ARP on ext0 for the router's external address and for the floating IP is
// answered with the gateway port's MAC; for another address it is not.
TEST_F(Nat, ArpAnsweredForExternalAddressesOnly) {
    const Mac gw_mac = port("r1-gw").mac;
    for (const Ip& asked : {kExtIp, kFip}) {
        SCOPED_TRACE(asked.to_string());
        const Bytes req = arp_request(kGwMac, kGwIp, asked);
        const Bytes want = arp_reply(gw_mac, asked, kGwMac, kGwIp);
        for (bool trace : {true, false}) {
            RunResult r = uplink_ingress(kUplink, req, trace);
            EXPECT_EQ(r.retval, kTcActRedirect) << describe(r);
            if (trace) {
                EXPECT_EQ(r.cb.verdict, NT_VERDICT_REPLY) << describe(r);
                EXPECT_EQ(r.cb.target, ifindex(kUplink)) << describe(r);
            }
            EXPECT_TRUE(same_frame(r.out, want));
        }
    }
    RunResult r = uplink_ingress(kUplink, arp_request(kGwMac, kGwIp, kOther), true);
    EXPECT_NE(r.retval, kTcActRedirect) << describe(r);
    EXPECT_NE(r.cb.verdict, NT_VERDICT_REPLY) << describe(r);
    EXPECT_TRUE(same_frame(r.out, arp_request(kGwMac, kGwIp, kOther))) << "not answered";
}

// To the SNAT address with no binding: TCP is dropped no-nat-binding; a ping
// of the router's address is answered by the router, out of ext0.
TEST_F(Nat, InboundWithoutBinding) {
    learn_gateway();
    const Mac gw_mac = port("r1-gw").mac;

    const Bytes syn = flow_frame(Proto::Tcp, kGwMac, gw_mac, {kServer, kExtIp}, 443, 2222, false);
    const uint64_t before = drop_packets(NT_DROP_NO_NAT_BINDING);
    RunResult t = uplink_ingress(kUplink, syn, true);
    expect_trace_drop(t, NT_DROP_NO_NAT_BINDING);
    EXPECT_EQ(drop_packets(NT_DROP_NO_NAT_BINDING), before) << "trace mode must not count";
    RunResult r = uplink_ingress(kUplink, syn, false);
    EXPECT_EQ(r.retval, kTcActShot) << describe(r);
    EXPECT_EQ(drop_packets(NT_DROP_NO_NAT_BINDING), before + 1);

    const Bytes ping = flow_frame(Proto::Echo, kGwMac, gw_mac, {kServer, kExtIp}, 0x0101, 0x0101, false);
    const Bytes pong = flow_frame(Proto::Echo, gw_mac, kGwMac, {kExtIp, kServer, 64}, 0, 0x0101, true);
    RunResult e = uplink_ingress(kUplink, ping, true);
    EXPECT_EQ(e.retval, kTcActRedirect) << describe(e);
    EXPECT_EQ(e.cb.verdict, NT_VERDICT_REPLY) << describe(e);
    EXPECT_EQ(e.cb.target, ifindex(kUplink)) << describe(e);
    EXPECT_TRUE(same_frame(e.out, pong));
    EXPECT_TRUE(same_frame(uplink_ingress(kUplink, ping, false).out, pong));
    EXPECT_TRUE(bindings().empty());
}

// A range of one port: the first flow takes it; a second flow to the same
// server and port finds it held and is dropped nat-exhausted, the first
// flow's binding untouched. (A flow to another server may use the same
// external port: the inbound key includes the remote end.)
TEST_F(Nat, PortExhaustion) {
    learn_gateway();
    const TestPort &a1 = port("a1"), &r1a = port("r1-a"), &gw = port("r1-gw");
    constexpr uint16_t kOnly = 61000;
    {
        auto [rid, sn] = snat();
        sn.port_min = sn.port_max = kOnly;
        neutrino::BpfMap<__u32, nt_snat>(datapath().map_fd("nt_snat"), "nt_snat").update(rid, sn);
    }
    const Bytes first = flow_frame(Proto::Udp, a1.mac, r1a.mac, {a1.ip, kServer}, 5000, 53, false);
    const Bytes first_want = flow_frame(Proto::Udp, gw.mac, kGwMac, {kExtIp, kServer, 63}, kOnly, 53, false);
    expect_out(ingress("a1", first, false), 0, first_want, false);
    const auto held = bindings();
    ASSERT_EQ(held.size(), 2u);

    const Bytes second = flow_frame(Proto::Udp, a1.mac, r1a.mac, {a1.ip, kServer}, 5001, 53, false);
    const uint64_t before = drop_packets(NT_DROP_NAT_EXHAUSTED);
    RunResult r = ingress("a1", second, false);
    EXPECT_EQ(r.retval, kTcActShot) << describe(r);
    EXPECT_EQ(drop_packets(NT_DROP_NAT_EXHAUSTED), before + 1);

    const auto now = bindings();
    ASSERT_EQ(now.size(), held.size()) << "no binding added";
    for (const auto& [k, e] : held) {
        auto cur = nat().lookup(k);
        ASSERT_TRUE(cur) << "a live binding was removed";
        EXPECT_EQ(std::memcmp(&cur->addr, &e.addr, sizeof e.addr), 0) << "a live binding was overwritten";
        EXPECT_EQ(cur->port, e.port) << "a live binding was overwritten";
    }
    // The first flow still goes out, and its reply still comes back to it.
    expect_out(ingress("a1", first, false), 0, first_want, false);
    const Bytes in = flow_frame(Proto::Udp, kGwMac, gw.mac, {kServer, kExtIp}, 53, kOnly, true);
    const Bytes back = flow_frame(Proto::Udp, r1a.mac, a1.mac, {kServer, a1.ip, 63}, 53, 5000, true);
    expect_out(uplink_ingress(kUplink, in, true), a1.ifindex, back, true);

    const Ip other_server{"203.0.113.6"};
    const Bytes third = flow_frame(Proto::Udp, a1.mac, r1a.mac, {a1.ip, other_server}, 5001, 53, false);
    expect_out(ingress("a1", third, false), 0,
               flow_frame(Proto::Udp, gw.mac, kGwMac, {kExtIp, other_server, 63}, kOnly, 53, false), false);
}

// A trace run of a new SNAT flow: routed, shown untranslated, no binding, no
// counter moved.
TEST_F(Nat, TraceMakesNoBinding) {
    learn_gateway();
    const TestPort &a1 = port("a1"), &r1a = port("r1-a"), &gw = port("r1-gw");
    const size_t records = counter_records();
    const uint64_t drops = total_drop_packets();
    const auto uplink_before = uplink_record();
    const auto a1_before = port_stats("a1");

    const Bytes out = flow_frame(Proto::Tcp, a1.mac, r1a.mac, {a1.ip, kServer}, 40200, 443, false);
    const Bytes want = flow_frame(Proto::Tcp, gw.mac, kGwMac, {a1.ip, kServer, 63}, 40200, 443, false);
    expect_out(ingress("a1", out, true), ifindex(kUplink), want, true);

    EXPECT_TRUE(bindings().empty()) << "trace mode must not bind";
    EXPECT_EQ(counter_records(), records);
    EXPECT_EQ(total_drop_packets(), drops);
    const auto uplink_after = uplink_record();
    ASSERT_EQ(uplink_after.size(), uplink_before.size());
    for (size_t i = 0; i < uplink_after.size(); i++)
        EXPECT_EQ(std::memcmp(&uplink_after[i], &uplink_before[i], sizeof uplink_after[i]), 0) << "cpu " << i;
    const auto a1_after = port_stats("a1");
    EXPECT_EQ(std::memcmp(&a1_after, &a1_before, sizeof a1_after), 0) << "a1's counters moved";
}

// An ICMP error as `from` sends it to `to`, quoting the IP header and first
// 8 bytes of `offending` (an Ethernet frame as flow_frame builds it).
Bytes icmp_error_frame(const Mac& smac, const Mac& dmac, const L3& h, uint8_t type, uint8_t code,
                       const Bytes& offending) {
    const std::vector<uint8_t> quote(offending.begin() + 14, offending.begin() + 14 + 28);
    Tins::ICMP icmp(static_cast<Tins::ICMP::Flags>(type));
    icmp.code(code);
    Tins::EthernetII eth = Tins::EthernetII(dmac, smac) / ip_of(h) / icmp / Tins::RawPDU(quote);
    return bytes(eth);
}

// An ICMP error about a SNATed flow (port unreachable for UDP, a TCP RST's
// cousin "admin prohibited" for TCP, time exceeded for an echo) arrives at
// the router's address quoting the translated packet; it reaches the VM with
// the outer destination and the quote translated back (address, port or echo
// id), every checksum right: the quote then reads as the VM sent it.
TEST_F(Nat, IcmpErrorAboutSnatFlowIsTranslatedInnerAndOuter) {
    learn_gateway();
    const TestPort &a1 = port("a1"), &r1a = port("r1-a"), &gw = port("r1-gw");
    struct Case {
        Proto p;
        uint8_t type, code;
    };
    for (const Case c : {Case{Proto::Udp, 3, 3}, Case{Proto::Tcp, 3, 13}, Case{Proto::Echo, 11, 0}}) {
        SCOPED_TRACE(int(proto_number(c.p)));
        const uint16_t sport = 40200, dport = c.p == Proto::Echo ? sport : 5000;
        ASSERT_EQ(ingress("a1", flow_frame(c.p, a1.mac, r1a.mac, {a1.ip, kServer}, sport, dport, false), false).retval,
                  kTcActRedirect);
        const auto ob = binding(NT_NAT_OUT, proto_number(c.p), a1.ip, kServer, sport, dport);
        ASSERT_TRUE(ob);
        const uint16_t ext = ntohs(ob->port);
        // What the server got, and what the VM sent (both after the hop: TTL 63).
        const Bytes seen = flow_frame(c.p, gw.mac, kGwMac, {kExtIp, kServer, 63}, ext,
                                      c.p == Proto::Echo ? ext : dport, false);
        const Bytes sent = flow_frame(c.p, gw.mac, kGwMac, {a1.ip, kServer, 63}, sport, dport, false);

        const Bytes err = icmp_error_frame(kGwMac, gw.mac, {kServer, kExtIp}, c.type, c.code, seen);
        const Bytes want = icmp_error_frame(r1a.mac, a1.mac, {kServer, a1.ip, 63}, c.type, c.code, sent);
        expect_out(uplink_ingress(kUplink, err, true), a1.ifindex, want, true);
        expect_out(uplink_ingress(kUplink, err, false), 0, want, false);
    }
}

// The same for a floating IP: the quoted source goes back from the floating
// to the fixed address (ports untouched), the UDP checksum in the quote too.
TEST_F(Nat, IcmpErrorAboutFloatingIpFlowIsTranslatedInnerAndOuter) {
    learn_gateway();
    const TestPort &a2 = port("a2"), &r1a = port("r1-a"), &gw = port("r1-gw");
    const Bytes seen = flow_frame(Proto::Udp, gw.mac, kGwMac, {kFip, kServer, 63}, 5353, 53, false);
    const Bytes sent = flow_frame(Proto::Udp, gw.mac, kGwMac, {a2.ip, kServer, 63}, 5353, 53, false);
    const Bytes err = icmp_error_frame(kGwMac, gw.mac, {kServer, kFip}, 3, 3, seen);
    const Bytes want = icmp_error_frame(r1a.mac, a2.mac, {kServer, a2.ip, 63}, 3, 3, sent);
    expect_out(uplink_ingress(kUplink, err, true), a2.ifindex, want, true);
    expect_out(uplink_ingress(kUplink, err, false), 0, want, false);
}

// What the router itself sends back out of ext0 about `offending` (a frame
// from the outside to the router's MAC there): from its MAC and external
// address, with the header Linux gives its ICMP errors (tos 0xc0, TTL 64,
// id 0, no DF), quoting the IP header and 8 bytes of `offending` as sent.
Bytes router_error_out(const Mac& router_mac, const Bytes& offending, uint8_t type, uint8_t code, uint16_t mtu) {
    Tins::IP ip(kServer, kExtIp);
    ip.ttl(64);
    ip.tos(0xc0);
    ip.id(0);
    ip.flags(static_cast<Tins::IP::Flags>(0));
    Tins::ICMP icmp(static_cast<Tins::ICMP::Flags>(type));
    icmp.code(code);
    if (mtu) icmp.mtu(mtu);
    const Bytes q(offending.begin() + 14, offending.begin() + 14 + 28);
    return bytes(Tins::EthernetII(kGwMac, router_mac) / ip / icmp /
                 Tins::RawPDU(q.data(), static_cast<uint32_t>(q.size())));
}

// Errors the router sends about inbound traffic it translated (TTL running
// out, a floating IP's VM behind a smaller MTU) quote the packet as the
// outside sent it: to the floating IP, or to the SNAT address and port, not
// the fixed address the router had rewritten it to, or the sender's stack
// cannot match the error to its socket (no PMTU discovery, no traceroute).
TEST_F(Nat, RouterErrorsAboutInboundTranslatedTrafficQuoteItAsSent) {
    learn_gateway();
    const TestPort &a1 = port("a1"), &r1a = port("r1-a"), &gw = port("r1-gw");

    const Bytes to_fip = flow_frame(Proto::Udp, kGwMac, gw.mac, {kServer, kFip, 1}, 53, 5353, true);
    const Bytes want = router_error_out(gw.mac, to_fip, 11, 0, 0);
    RunResult t = uplink_ingress(kUplink, to_fip, true);
    EXPECT_EQ(t.cb.verdict, NT_VERDICT_REPLY) << describe(t);
    EXPECT_EQ(t.cb.reason, NT_DROP_TTL_EXCEEDED) << describe(t);
    EXPECT_TRUE(same_frame(t.out, want));
    expect_out(uplink_ingress(kUplink, to_fip, false), 0, want, false);

    // 1,472 bytes of UDP with DF to the floating IP: a2's net-a has MTU 1450.
    Tins::IP big_ip = ip_of({kServer, kFip});
    const Bytes big = bytes(Tins::EthernetII(gw.mac, kGwMac) / big_ip / Tins::UDP(5353, 53) /
                            Tins::RawPDU(std::string(1472 - 28, 'b')));
    expect_out(uplink_ingress(kUplink, big, false), 0, router_error_out(gw.mac, big, 3, 4, 1450), false);

    // A SNAT flow's reply, TTL 1: quoted to the router's address and port.
    ASSERT_EQ(ingress("a1", flow_frame(Proto::Udp, a1.mac, r1a.mac, {a1.ip, kServer}, 40400, 53, false), false)
                  .retval,
              kTcActRedirect);
    const auto ob = binding(NT_NAT_OUT, kProtoUdp, a1.ip, kServer, 40400, 53);
    ASSERT_TRUE(ob);
    const Bytes reply = flow_frame(Proto::Udp, kGwMac, gw.mac, {kServer, kExtIp, 1}, 53, ntohs(ob->port), true);
    expect_out(uplink_ingress(kUplink, reply, false), 0, router_error_out(gw.mac, reply, 11, 0, 0), false);
    // And an echo request's id: a ping to the floating IP with TTL 1.
    const Bytes ping = flow_frame(Proto::Echo, kGwMac, gw.mac, {kServer, kFip, 1}, 77, 77, false);
    expect_out(uplink_ingress(kUplink, ping, false), 0, router_error_out(gw.mac, ping, 11, 0, 0), false);
}

// The other way: a VM's own ICMP error about a packet that came in
// translated. a2 (floating IP) refuses UDP that reached it through
// 172.31.208.110; its port-unreachable quotes its fixed address, and must
// leave quoting the floating IP, or the remote cannot match it to its socket.
TEST_F(Nat, VmIcmpErrorAboutFloatingIpTrafficLeavesQuotingTheFloatingIp) {
    learn_gateway();
    const TestPort &a2 = port("a2"), &r1a = port("r1-a"), &gw = port("r1-gw");
    const Bytes got = flow_frame(Proto::Udp, r1a.mac, a2.mac, {kServer, a2.ip, 63}, 53, 5353, true);
    const Bytes sent = flow_frame(Proto::Udp, kGwMac, gw.mac, {kServer, kFip, 63}, 53, 5353, true);
    const Bytes err = icmp_error_frame(a2.mac, r1a.mac, {a2.ip, kServer}, 3, 3, got);
    const Bytes want = icmp_error_frame(gw.mac, kGwMac, {kFip, kServer, 63}, 3, 3, sent);
    expect_out(ingress("a2", err, true), ifindex(kUplink), want, true);
    expect_out(ingress("a2", err, false), 0, want, false);
}

// And for a SNAT flow: a1's error about a reply of its flow (its socket gone)
// quotes its fixed address and port; it leaves from the router's address
// quoting the external address and port of the binding.
TEST_F(Nat, VmIcmpErrorAboutSnatReplyLeavesQuotingTheBinding) {
    learn_gateway();
    const TestPort &a1 = port("a1"), &r1a = port("r1-a"), &gw = port("r1-gw");
    const uint16_t sport = 40300, dport = 5000;
    ASSERT_EQ(ingress("a1", flow_frame(Proto::Udp, a1.mac, r1a.mac, {a1.ip, kServer}, sport, dport, false), false)
                  .retval,
              kTcActRedirect);
    const auto ob = binding(NT_NAT_OUT, kProtoUdp, a1.ip, kServer, sport, dport);
    ASSERT_TRUE(ob);
    const uint16_t ext = ntohs(ob->port);
    const Bytes got = flow_frame(Proto::Udp, r1a.mac, a1.mac, {kServer, a1.ip, 63}, dport, sport, true);
    const Bytes sent = flow_frame(Proto::Udp, kGwMac, gw.mac, {kServer, kExtIp, 63}, dport, ext, true);
    const Bytes err = icmp_error_frame(a1.mac, r1a.mac, {a1.ip, kServer}, 3, 3, got);
    const Bytes want = icmp_error_frame(gw.mac, kGwMac, {kExtIp, kServer, 63}, 3, 3, sent);
    expect_out(ingress("a1", err, true), ifindex(kUplink), want, true);
    expect_out(ingress("a1", err, false), 0, want, false);
}

// ---- Another host in the picture: DVR's central SNAT ------------------------------

constexpr uint32_t kNetAVni = 5001;  // net-a's VXLAN VNI
constexpr size_t kEth = 14;

const neutrino::Port& state_port(const neutrino::State& s, const std::string& name) {
    for (const auto& p : s.ports)
        if (p.name == name) return p;
    throw std::out_of_range("no port " + name);
}

void add_h2(neutrino::State& s) {
    neutrino::Host h2;
    h2.name = "h2";
    h2.tunnel_ip = neutrino::IpAddr::parse("192.0.2.2");
    s.hosts.push_back(h2);
}

// The tunnel packet h1 sends to h2 around inner, its IP id and UDP source
// port (flow hash) taken from the output; compared from the outer IP header
// on (the outer Ethernet header is left to the kernel).
::testing::AssertionResult same_vxlan_to_h2(const Bytes& got, const Bytes& inner) {
    if (got.size() < kEth + 20 + 8) return ::testing::AssertionFailure() << "too short for a tunnel packet";
    Outer o = outer(Mac(), Mac(), Ip("192.0.2.1"), Ip("192.0.2.2"));
    o.ip_id = static_cast<uint16_t>(got[18] << 8 | got[19]);
    o.udp_sport = static_cast<uint16_t>(got[34] << 8 | got[35]);
    const Bytes want = vxlan_packet(o, kNetAVni, inner);
    return same_frame(Bytes(got.begin() + kEth, got.end()), Bytes(want.begin() + kEth, want.end()));
}

// h2 holds router-1's gateway port: h2 is the SNAT host, h1 is not.
class NatElsewhere : public Nat {
protected:
    void adjust_state(neutrino::State& s) const override {
        add_h2(s);
        for (auto& p : s.ports)
            if (p.name == "r1-gw") p.host_id = "h2";
    }
    // router-1's MAC on "public" as h1 uses it (not the gateway port's).
    Mac h1_mac() const {
        const auto m = neutrino::external_mac(state(), state().routers.at(0), state_port(state(), "r1-gw"), "h1");
        return Mac(m.b.data());
    }
};

// a1 (no floating IP) to the outside: the frame goes to h2 over net-a's
// tunnel exactly as a1 sent it (h2 routes and translates it); h1 binds
// nothing and needs no next hop on the external network for it.
TEST_F(NatElsewhere, SnatFlowGoesToTheSnatHostAsSent) {
    const TestPort &a1 = port("a1"), &r1a = port("r1-a");
    EXPECT_EQ(snat().second.flags, unsigned(NT_SNAT_REMOTE));
    for (Proto p : {Proto::Tcp, Proto::Udp, Proto::Echo}) {
        const Bytes out = flow_frame(p, a1.mac, r1a.mac, {a1.ip, kServer}, 40123, p == Proto::Echo ? 40123 : 443, false);
        RunResult t = ingress("a1", out, true);
        EXPECT_EQ(t.retval, kTcActRedirect) << describe(t);
        EXPECT_EQ(t.cb.target, tunnel_ifindex()) << describe(t);
        RunResult r = ingress("a1", out, false);
        EXPECT_EQ(r.retval, kTcActRedirect) << describe(r);
        EXPECT_TRUE(same_vxlan_to_h2(r.out, out));
    }
    EXPECT_TRUE(bindings().empty()) << "h1 binds no SNAT port";
    EXPECT_EQ(learned(), 0u);
}

// a2's floating IP is h1's to translate, with h1's own MAC on the external
// network both ways: the switch learns it on h1's port alone.
TEST_F(NatElsewhere, FloatingIpIsTranslatedHereBehindThisHostsMac) {
    learn_gateway();
    const TestPort &a2 = port("a2"), &r1a = port("r1-a"), &gw = port("r1-gw");
    const Mac mine = h1_mac();
    ASSERT_NE(mine, gw.mac);
    const Bytes out = flow_frame(Proto::Udp, a2.mac, r1a.mac, {a2.ip, kServer}, 5353, 53, false);
    expect_out(ingress("a2", out, false), 0, flow_frame(Proto::Udp, mine, kGwMac, {kFip, kServer, 63}, 5353, 53, false),
               false);
    const Bytes in = flow_frame(Proto::Udp, kGwMac, mine, {kServer, kFip}, 53, 5353, true);
    expect_out(uplink_ingress(kUplink, in, true), a2.ifindex,
               flow_frame(Proto::Udp, r1a.mac, a2.mac, {kServer, a2.ip, 63}, 53, 5353, true), true);
    // Sent to the SNAT host's MAC it is not h1's frame: not routed here.
    RunResult r = uplink_ingress(kUplink, flow_frame(Proto::Udp, kGwMac, gw.mac, {kServer, kFip}, 53, 5353, true), true);
    EXPECT_NE(r.cb.verdict, NT_VERDICT_REDIRECT) << describe(r);
    EXPECT_TRUE(bindings().empty());
}

// On the external network h1 answers ARP for its floating IP (with its own
// MAC), never for the router's external address (h2's); a VM's ping of that
// address is still answered here.
TEST_F(NatElsewhere, OnlyTheSnatHostAnswersArpForTheExternalAddress) {
    const Bytes fip_req = arp_request(kGwMac, kGwIp, kFip);
    expect_out(uplink_ingress(kUplink, fip_req, false), 0, arp_reply(h1_mac(), kFip, kGwMac, kGwIp), false);
    const Bytes ext_req = arp_request(kGwMac, kGwIp, kExtIp);
    RunResult r = uplink_ingress(kUplink, ext_req, true);
    EXPECT_NE(r.cb.verdict, NT_VERDICT_REPLY) << describe(r);
    EXPECT_TRUE(same_frame(r.out, ext_req)) << "not answered";

    const TestPort &a1 = port("a1"), &r1a = port("r1-a");
    const Bytes ping = flow_frame(Proto::Echo, a1.mac, r1a.mac, {a1.ip, kExtIp}, 7, 7, false);
    RunResult t = ingress("a1", ping, true);
    EXPECT_EQ(t.cb.verdict, NT_VERDICT_REPLY) << describe(t);
    EXPECT_TRUE(same_frame(t.out, flow_frame(Proto::Echo, r1a.mac, a1.mac, {kExtIp, a1.ip, 64}, 7, 7, true)));
}

// h1 is the SNAT host; h2 has a VM "r2" on net-a (10.1.0.21) whose flows to
// the outside h2 sends here over the tunnel.
class NatSnatHost : public Nat {
protected:
    void adjust_state(neutrino::State& s) const override {
        add_h2(s);
        neutrino::Port vm = state_port(s, "a1");
        vm.id = "a1000021-0000-4000-8000-000000000021";
        vm.name = "r2";
        vm.host_id = "h2";
        vm.mac_address = *neutrino::MacAddr::parse("fa:16:3e:00:21:21");
        vm.fixed_ips.at(0).ip_address = *neutrino::IpAddr::parse("10.1.0.21");
        vm.interface_name = neutrino::default_interface_name(vm.id);
        s.ports.push_back(vm);
    }
    RunResult from_h2(const Bytes& inner, bool trace) {
        return uplink_ingress(kTunnelIf, vxlan_packet(outer(Mac("02:00:00:00:00:02"), Mac("02:00:00:00:00:01"),
                                                            kVtep2, kVtep1),
                                                      kNetAVni, inner),
                              trace);
    }

    // r2's flow: translated here and out of ext0; the reply translated back
    // and sent to h2 over the tunnel, routed (r2's MAC, TTL 63).
    void round_trip(Proto p) {
        learn_gateway();
        const TestPort &r2 = port("r2"), &r1a = port("r1-a"), &gw = port("r1-gw");
        const uint16_t sport = 40555, dport = p == Proto::Echo ? sport : 8080;
        const uint8_t proto = proto_number(p);
        const Bytes sent = flow_frame(p, r2.mac, r1a.mac, {r2.ip, kServer}, sport, dport, false);

        RunResult t = from_h2(sent, true);
        EXPECT_EQ(t.retval, kTcActRedirect) << describe(t);
        EXPECT_EQ(t.cb.target, ifindex(kUplink)) << describe(t);
        EXPECT_TRUE(bindings().empty()) << "trace binds nothing";
        RunResult r = from_h2(sent, false);
        ASSERT_EQ(r.retval, kTcActRedirect) << describe(r);
        const auto ob = binding(NT_NAT_OUT, proto, r2.ip, kServer, sport, dport);
        ASSERT_TRUE(ob) << "the SNAT host binds the flow";
        const uint16_t ext = ntohs(ob->port);
        EXPECT_TRUE(same_frame(r.out, flow_frame(p, gw.mac, kGwMac, {kExtIp, kServer, 63}, ext,
                                                 p == Proto::Echo ? ext : dport, false)));

        const Bytes reply = flow_frame(p, kGwMac, gw.mac, {kServer, kExtIp}, dport, ext, true);
        RunResult b = uplink_ingress(kUplink, reply, false);
        EXPECT_EQ(b.retval, kTcActRedirect) << describe(b);
        EXPECT_TRUE(same_vxlan_to_h2(b.out, flow_frame(p, r1a.mac, r2.mac, {kServer, r2.ip, 63}, dport, sport, true)));
    }
};

TEST_F(NatSnatHost, TcpFromAnotherHostIsTranslatedHereAndTheReplyGoesBack) { round_trip(Proto::Tcp); }
TEST_F(NatSnatHost, UdpFromAnotherHostIsTranslatedHereAndTheReplyGoesBack) { round_trip(Proto::Udp); }
TEST_F(NatSnatHost, EchoFromAnotherHostIsTranslatedHereAndTheReplyGoesBack) { round_trip(Proto::Echo); }

// Over the tunnel only SNAT flows are routed: every host routes its own
// VMs' other frames. East-west or to the router itself: dropped with the
// reason, no ICMP error sent back (it would leave untunnelled).
TEST_F(NatSnatHost, FromAnotherHostOnlySnatFlowsAreRouted) {
    learn_gateway();
    const TestPort &r2 = port("r2"), &r1a = port("r1-a"), &a1 = port("a1");
    const Bytes east_west = flow_frame(Proto::Udp, r2.mac, r1a.mac, {r2.ip, a1.ip}, 1000, 2000, false);
    const Bytes to_router = flow_frame(Proto::Echo, r2.mac, r1a.mac, {r2.ip, kExtIp}, 9, 9, false);
    for (const auto& [frame, reason] : {std::pair{east_west, NT_DROP_NO_ROUTE}, std::pair{to_router, NT_DROP_TO_ROUTER}}) {
        expect_trace_drop(from_h2(frame, true), reason);
        const uint64_t before = drop_packets(reason);
        RunResult r = from_h2(frame, false);
        EXPECT_EQ(r.retval, kTcActShot) << describe(r);
        EXPECT_EQ(drop_packets(reason), before + 1);
    }
    EXPECT_TRUE(bindings().empty());
}

// ---- A flat tenant network: no tunnel to the SNAT host ----------------------------------
// net-a as a flat network on the physnet "tenant" (ten0 on every host): other
// hosts reach the SNAT host at the router's SNAT MAC there.
void make_net_a_flat(neutrino::State& s) {
    for (auto& n : s.networks)
        if (n.name == "net-a") {
            n.type = neutrino::NetworkType::Flat;
            n.segmentation_id.reset();
            n.physical_network = "tenant";
        }
    for (auto& h : s.hosts) h.physical_interface_mappings["tenant"] = "ten0";
}

class NatElsewhereFlat : public NatElsewhere {
protected:
    void adjust_state(neutrino::State& s) const override {
        NatElsewhere::adjust_state(s);
        make_net_a_flat(s);
    }
};

// a1's flow to the outside leaves by net-a's uplink as a1 sent it, but to
// the router's SNAT MAC (only h2, the SNAT host, routes frames to it).
TEST_F(NatElsewhereFlat, SnatFlowGoesToTheRoutersSnatMacOnTheNetwork) {
    const TestPort &a1 = port("a1"), &r1a = port("r1-a");
    const auto transit = neutrino::snat_transit_mac(state().routers.at(0));
    const Bytes out = flow_frame(Proto::Udp, a1.mac, r1a.mac, {a1.ip, kServer}, 40123, 443, false);
    const Bytes want = flow_frame(Proto::Udp, a1.mac, Mac(transit.b.data()), {a1.ip, kServer}, 40123, 443, false);
    expect_out(ingress("a1", out, true), ifindex("ten0"), want, true);
    expect_out(ingress("a1", out, false), 0, want, false);
    EXPECT_TRUE(bindings().empty());
}

class NatSnatHostFlat : public NatSnatHost {
protected:
    void adjust_state(neutrino::State& s) const override {
        NatSnatHost::adjust_state(s);
        make_net_a_flat(s);
    }
};

// h1, the SNAT host: r2's (h2) flow arrives on ten0 to the SNAT MAC, leaves
// translated; the reply goes back out of ten0 to r2, from the SNAT MAC (so
// the switch learns it). Only SNAT flows are routed from that MAC.
TEST_F(NatSnatHostFlat, SnatFlowFromAnotherHostArrivesAtTheSnatMac) {
    learn_gateway();
    const TestPort &r2 = port("r2"), &gw = port("r1-gw"), &a1 = port("a1");
    const Mac transit(neutrino::snat_transit_mac(state().routers.at(0)).b.data());
    const Bytes sent = flow_frame(Proto::Udp, r2.mac, transit, {r2.ip, kServer}, 40600, 53, false);
    RunResult r = uplink_ingress("ten0", sent, false);
    ASSERT_EQ(r.retval, kTcActRedirect) << describe(r);
    const auto ob = binding(NT_NAT_OUT, kProtoUdp, r2.ip, kServer, 40600, 53);
    ASSERT_TRUE(ob);
    const uint16_t ext = ntohs(ob->port);
    EXPECT_TRUE(same_frame(r.out, flow_frame(Proto::Udp, gw.mac, kGwMac, {kExtIp, kServer, 63}, ext, 53, false)));

    const Bytes reply = flow_frame(Proto::Udp, kGwMac, gw.mac, {kServer, kExtIp}, 53, ext, true);
    expect_out(uplink_ingress(kUplink, reply, true), ifindex("ten0"),
               flow_frame(Proto::Udp, transit, r2.mac, {kServer, r2.ip, 63}, 53, 40600, true), true);

    const Bytes east_west = flow_frame(Proto::Udp, r2.mac, transit, {r2.ip, a1.ip}, 1000, 2000, false);
    expect_trace_drop(uplink_ingress("ten0", east_west, true), NT_DROP_NO_ROUTE);
}

// ---- A VLAN external network ---------------------------------------------------------
// "public" as VLAN 208 on ext0: what the router answers from the uplink goes
// back tagged as it came. The stack moves a received tag into the skb
// metadata before TC runs, which a test run cannot do: uplink_ingress is
// attached to ext0 for real and tagged frames come from the "switch".
constexpr uint16_t kExtVlan = 208;

class NatVlan : public Nat {
protected:
    void adjust_state(neutrino::State& s) const override {
        for (auto& n : s.networks)
            if (n.external) {
                n.type = neutrino::NetworkType::Vlan;
                n.segmentation_id = kExtVlan;
            }
    }
    void SetUp() override {
        Nat::SetUp();
        attach_tc(neutrino::kProgUplinkIngress, kUplink, true);
    }
    // What comes back out of ext0 for one tagged frame sent to it.
    std::vector<Bytes> answers_to(const Bytes& frame) {
        Capture wire("sw-ext0");
        inject("sw-ext0", with_vlan_tag(frame, kExtVlan));
        return wire.frames();
    }
};

TEST_F(NatVlan, AnswersFromTheUplinkGoBackTagged) {
    const Mac gw = port("r1-gw").mac;
    auto got = answers_to(arp_request(kGwMac, kGwIp, kExtIp));
    ASSERT_EQ(got.size(), 1u) << "ARP for the router's address";
    EXPECT_TRUE(same_frame(got[0], with_vlan_tag(arp_reply(gw, kExtIp, kGwMac, kGwIp), kExtVlan)));

    got = answers_to(flow_frame(Proto::Echo, kGwMac, gw, {kServer, kExtIp}, 7, 7, false));
    ASSERT_EQ(got.size(), 1u) << "a ping of the router's address";
    EXPECT_TRUE(same_frame(got[0], with_vlan_tag(flow_frame(Proto::Echo, gw, kGwMac, {kExtIp, kServer, 64}, 7, 7, true),
                                                 kExtVlan)));

    // TTL 1 on the way in to a2's floating IP: time exceeded from the router,
    // back on VLAN 208 (it left untagged, on no VLAN, before).
    got = answers_to(flow_frame(Proto::Udp, kGwMac, gw, {kServer, kFip, 1}, 53, 5353, true));
    ASSERT_EQ(got.size(), 1u) << "an ICMP error from the router";
    const Bytes& e = got[0];
    ASSERT_GE(e.size(), 4u + kEth + 20 + 8);
    EXPECT_EQ(e[12] << 8 | e[13], 0x8100) << "tagged";
    EXPECT_EQ((e[14] << 8 | e[15]) & 0x0fff, kExtVlan);
    EXPECT_EQ(e[4 + kEth + 9], kProtoIcmp);
    EXPECT_EQ(e[4 + kEth + 20], 11) << "time exceeded";
    EXPECT_EQ(Mac(&e[0]), kGwMac) << "back to the sender";
}

}  // namespace
}  // namespace nt_test
