// Distributed routing (tap_ingress -> nt_tc_route): a frame a VM sends to its
// gateway MAC is routed on this host. Byte for byte against libtins: the
// routed frame (MACs rewritten, TTL decremented, IP checksum), the echo
// replies of the router's own addresses, and the ICMP errors it sends back
// (time exceeded, net/host unreachable, fragmentation needed); the drops,
// their reasons and counters; trace mode without side effects.
//
// State (packet-route.json, see route_env.hpp): router-1 joins net-a
// (10.1.0.0/24, a1), net-b (10.2.0.0/24: b1, nh; b2 on h2) and net-small
// (10.4.0.0/24, MTU 1280: s1), with 10.9.0.0/24 via nh (10.2.0.254),
// 10.50.0.0/16 via router-3's address on net-b (10.2.0.2), a route via an
// address on no connected subnet, a static 10.2.0.0/24 the connected one must
// win over, and an IPv6 default. router-2 has net-c (10.3.0.0/24, c1) alone.
#include <tins/icmp.h>
#include <tins/ipv6.h>
#include <tins/tcp.h>

#include "overlay_env.hpp"
#include "route_env.hpp"

namespace nt_test {
namespace {

constexpr size_t kEth = 14, kIpHdr = 20;
constexpr uint8_t kIcmpEchoReply = 0, kIcmpUnreach = 3, kIcmpEcho = 8, kIcmpTimeExceeded = 11;
constexpr uint8_t kCodeNet = 0, kCodeHost = 1, kCodeFragNeeded = 4;
constexpr uint32_t kNetBVni = 4002;

// The IPv4 header fields a test chooses; libtins fills in the rest (length,
// protocol, checksum).
struct L3 {
    Ip src, dst;
    uint8_t ttl = 64;
    uint16_t id = 0x5151;
    bool df = false;
    uint8_t tos = 0;
};

Tins::IP ip_of(const L3& h) {
    Tins::IP ip(h.dst, h.src);
    ip.ttl(h.ttl);
    ip.id(h.id);
    ip.tos(h.tos);
    ip.flags(h.df ? Tins::IP::DONT_FRAGMENT : static_cast<Tins::IP::Flags>(0));
    return ip;
}

// UDP 5000 -> 5001 with `payload` bytes after the UDP header.
Bytes udp_frame(const Mac& smac, const Mac& dmac, const L3& h, size_t payload = 32) {
    return bytes(Tins::EthernetII(dmac, smac) / ip_of(h) / Tins::UDP(5001, 5000) /
                 Tins::RawPDU(std::string(payload, 'r')));
}

Bytes tcp_syn(const Mac& smac, const Mac& dmac, const L3& h) {
    Tins::TCP tcp(22, 40000);
    tcp.flags(Tins::TCP::SYN);
    return bytes(Tins::EthernetII(dmac, smac) / ip_of(h) / tcp);
}

Bytes echo(const Mac& smac, const Mac& dmac, const L3& h, uint8_t type) {
    Tins::ICMP icmp(static_cast<Tins::ICMP::Flags>(type));
    icmp.id(0x077);
    icmp.sequence(3);
    return bytes(Tins::EthernetII(dmac, smac) / ip_of(h) / icmp / Tins::RawPDU(std::string(32, 'p')));
}

// An ICMP error (type, code, next-hop MTU for "fragmentation needed") in
// the IPv4 header h, quoting the IP header and 8 bytes of `quoted`.
Bytes icmp_error(const Mac& smac, const Mac& dmac, const L3& h, uint8_t type, uint8_t code, uint16_t mtu,
                 const Bytes& quoted) {
    Tins::ICMP icmp(static_cast<Tins::ICMP::Flags>(type));
    icmp.code(code);
    if (mtu) icmp.mtu(mtu);
    const size_t ihl = (quoted.at(kEth) & 0x0f) * 4u;
    const Bytes q(quoted.begin() + kEth, quoted.begin() + static_cast<long>(kEth + ihl + 8));
    return bytes(Tins::EthernetII(dmac, smac) / ip_of(h) / icmp /
                 Tins::RawPDU(q.data(), static_cast<uint32_t>(q.size())));
}

// What the router sends back for `offending` (a frame from `sender` to the
// router interface `router`): from that interface's MAC and address to the
// sender, with the header Linux gives its ICMP errors (tos 0xc0, TTL 64; id
// 0, no DF).
Bytes router_error(const Bytes& offending, const TestPort& sender, const TestPort& router, uint8_t type,
                   uint8_t code, uint16_t mtu = 0) {
    L3 h{router.ip, sender.ip, 64, 0, false, 0xc0};
    return icmp_error(router.mac, sender.mac, h, type, code, mtu, offending);
}

class Route : public RouteTest {
protected:
    // A trace run answered in place: the frame goes back out of the sender's
    // tap as `want`, the report names `reason` (0: an echo reply).
    void expect_reply(const std::string& from, const Bytes& frame, const Bytes& want, uint32_t reason) {
        RunResult r = ingress(from, frame, true);
        EXPECT_EQ(r.retval, kTcActRedirect) << describe(r);
        EXPECT_EQ(r.cb.verdict, NT_VERDICT_REPLY) << describe(r);
        EXPECT_EQ(r.cb.target, port(from).ifindex) << describe(r);
        EXPECT_EQ(r.cb.reason, reason) << describe(r);
        EXPECT_TRUE(same_frame(r.out, want));
    }

    // A trace run routed to a local tap as `want`.
    void expect_routed(const std::string& from, const Bytes& frame, const std::string& to, const Bytes& want) {
        RunResult r = ingress(from, frame, true);
        EXPECT_EQ(r.retval, kTcActRedirect) << describe(r);
        EXPECT_EQ(r.cb.verdict, NT_VERDICT_REDIRECT) << describe(r);
        EXPECT_EQ(r.cb.target, port(to).ifindex) << describe(r) << " (want " << to << ")";
        EXPECT_TRUE(same_frame(r.out, want));
    }

    // `frame`, sent by `from` to the router interface `router`, comes back
    // as the router's ICMP error, reported (trace) and counted (for real,
    // once) under `reason`.
    void expect_error_back(const std::string& from, const std::string& router, const Bytes& frame, uint8_t type,
                           uint8_t code, uint32_t reason, uint16_t mtu = 0) {
        const Bytes want = router_error(frame, port(from), port(router), type, code, mtu);
        const uint64_t before = drop_packets(reason);
        expect_reply(from, frame, want, reason);
        EXPECT_EQ(drop_packets(reason), before) << "trace mode must not count";
        RunResult r = ingress(from, frame, false);
        EXPECT_EQ(r.retval, kTcActRedirect) << describe(r);
        EXPECT_TRUE(same_frame(r.out, want)) << "for real: the same error";
        EXPECT_EQ(drop_packets(reason), before + 1);
    }

    // `frame` is dropped with `reason` and nothing is sent back; counted
    // once for real, not in trace mode.
    void expect_dropped(const std::string& from, const Bytes& frame, uint32_t reason) {
        const uint64_t before = drop_packets(reason);
        RunResult t = ingress(from, frame, true);
        expect_trace_drop(t, reason);
        EXPECT_TRUE(same_frame(t.out, frame)) << "a drop sends nothing back";
        EXPECT_EQ(drop_packets(reason), before) << "trace mode must not count";
        RunResult r = ingress(from, frame, false);
        EXPECT_EQ(r.retval, kTcActShot) << describe(r);
        EXPECT_EQ(drop_packets(reason), before + 1);
    }
};

TEST_F(Route, FrameBetweenTwoLocalNetworksIsRoutedWithMacsAndTtlRewritten) {
    // a1 (net-a) -> b1 (net-b) through router-1. b1's subnet is connected:
    // the static 10.2.0.0/24 via a1 must not win over it.
    const auto &a1 = port("a1"), &b1 = port("b1");
    const Bytes frame = udp_frame(a1.mac, port("r1-a").mac, {a1.ip, b1.ip, 64, 0x1234});
    const Bytes want = udp_frame(port("r1-b").mac, b1.mac, {a1.ip, b1.ip, 63, 0x1234});
    expect_routed("a1", frame, "b1", want);
    EXPECT_EQ(total_drop_packets(), 0u);

    RunResult r = ingress("a1", frame, false);
    EXPECT_EQ(r.retval, kTcActRedirect) << describe(r);
    EXPECT_TRUE(same_frame(r.out, want));
    EXPECT_EQ(port_stats("a1").from_vm.packets, 1u);
    EXPECT_EQ(total_drop_packets(), 0u);

    // Other TTLs and a DF bit: only the TTL (and the checksum) change.
    for (uint8_t ttl : {2, 255}) {
        SCOPED_TRACE(int(ttl));
        expect_routed("a1", udp_frame(a1.mac, port("r1-a").mac, {a1.ip, b1.ip, ttl, 0xbeef, true}), "b1",
                      udp_frame(port("r1-b").mac, b1.mac, {a1.ip, b1.ip, uint8_t(ttl - 1), 0xbeef, true}));
    }
    // And back: b1 -> a1 through router-1's MAC on net-b.
    expect_routed("b1", udp_frame(b1.mac, port("r1-b").mac, {b1.ip, a1.ip}), "a1",
                  udp_frame(port("r1-a").mac, a1.mac, {b1.ip, a1.ip, 63}));
}

TEST_F(Route, EchoRequestToTheRouterIsAnsweredInPlace) {
    const auto &a1 = port("a1"), &gw = port("r1-a");
    // The gateway on a1's own subnet, and router-1's address on net-b
    // (answered from there, out of a1's tap). TTL 1 is no obstacle: the
    // packet is for the router itself. The reply has TTL 64.
    for (const Ip& to : {gw.ip, port("r1-b").ip, port("r1-small").ip}) {
        for (uint8_t ttl : {1, 17, 64}) {
            SCOPED_TRACE(to.to_string() + " ttl " + std::to_string(ttl));
            const Bytes frame = echo(a1.mac, gw.mac, {a1.ip, to, ttl, 0x4242, true}, kIcmpEcho);
            expect_reply("a1", frame, echo(gw.mac, a1.mac, {to, a1.ip, 64, 0x4242, true}, kIcmpEchoReply), 0);
        }
    }
    RunResult r = ingress("a1", echo(a1.mac, gw.mac, {a1.ip, gw.ip}, kIcmpEcho), false);
    EXPECT_EQ(r.retval, kTcActRedirect) << describe(r);
    EXPECT_TRUE(same_frame(r.out, echo(gw.mac, a1.mac, {gw.ip, a1.ip}, kIcmpEchoReply)));
    EXPECT_EQ(total_drop_packets(), 0u);
}

TEST_F(Route, EchoFromAPortWithoutPortSecurityIsAnsweredToo) {
    const auto &nh = port("nh"), &gw = port("r1-b");
    expect_reply("nh", echo(nh.mac, gw.mac, {nh.ip, gw.ip}, kIcmpEcho),
                 echo(gw.mac, nh.mac, {gw.ip, nh.ip}, kIcmpEchoReply), 0);
}

TEST_F(Route, GatewayAnswersArpOnItsOwnNetwork) {
    // Broadcast, and unicast to the gateway MAC as a VM's stack re-checks a
    // stale neighbour entry: both answered by the responder, never routed.
    const auto &a1 = port("a1"), &gw = port("r1-a");
    const Bytes want = arp_reply(gw.mac, gw.ip, a1.mac, a1.ip);
    Bytes unicast = arp_request(a1, gw.ip);
    std::copy(gw.mac.begin(), gw.mac.end(), unicast.begin());
    for (const Bytes& request : {arp_request(a1, gw.ip), unicast}) expect_reply("a1", request, want, 0);
}

TEST_F(Route, NonIpv4ToTheRouterMacIsNotRouted) {
    // IPv6 is not routed (yet): dropped with no-route, nothing sent back.
    // From nh: a1's port security would refuse an address it does not own.
    const auto &nh = port("nh"), &gw = port("r1-b");
    const Bytes v6 = bytes(Tins::EthernetII(gw.mac, nh.mac) /
                           Tins::IPv6(Tins::IPv6Address("2001:db8:1::5"), Tins::IPv6Address("2001:db8:2::fe")) /
                           Tins::UDP(5001, 5000) / Tins::RawPDU(std::string(32, 'r')));
    expect_dropped("nh", v6, NT_DROP_NO_ROUTE);
}

TEST_F(Route, TtlRunningOutIsTimeExceededFromTheGateway) {
    // The error quotes the packet as it came, TTL included. A destination
    // without a neighbour gets the same: TTL is checked first.
    const auto &a1 = port("a1"), &gw = port("r1-a");
    for (auto [dst, ttl] : {std::pair{port("b1").ip, 1}, std::pair{port("b1").ip, 0}, std::pair{Ip("10.2.0.99"), 1}}) {
        SCOPED_TRACE(dst.to_string() + " ttl " + std::to_string(ttl));
        expect_error_back("a1", "r1-a", udp_frame(a1.mac, gw.mac, {a1.ip, dst, uint8_t(ttl)}), kIcmpTimeExceeded, 0,
                          NT_DROP_TTL_EXCEEDED);
    }
    EXPECT_EQ(total_drop_packets(), 3u) << "no other reason";
}

TEST_F(Route, DestinationOutsideEveryPrefixIsNetUnreachable) {
    // 10.99.0.1 and 172.16.0.1 match no IPv4 route of router-1. Its IPv6
    // default (::/0) must not catch them: IPv4 lives in the same trie as
    // ::ffff:a.b.c.d.
    const auto &a1 = port("a1"), &gw = port("r1-a");
    for (const char* dst : {"10.99.0.1", "172.16.0.1", "10.8.0.1" /* via a next hop on no subnet */}) {
        SCOPED_TRACE(dst);
        expect_error_back("a1", "r1-a", udp_frame(a1.mac, gw.mac, {a1.ip, Ip(dst)}), kIcmpUnreach, kCodeNet,
                          NT_DROP_NO_ROUTE);
    }
}

TEST_F(Route, UnknownHostOnAConnectedSubnetIsHostUnreachable) {
    const auto &a1 = port("a1"), &gw = port("r1-a");
    expect_error_back("a1", "r1-a", udp_frame(a1.mac, gw.mac, {a1.ip, Ip("10.2.0.99")}), kIcmpUnreach, kCodeHost,
                      NT_DROP_NO_NEIGHBOUR);
    EXPECT_EQ(total_drop_packets(), 1u);
}

TEST_F(Route, AnythingButEchoToTheRouterIsDropped) {
    const auto &a1 = port("a1"), &gw = port("r1-a");
    const Bytes frames[] = {
        udp_frame(a1.mac, gw.mac, {a1.ip, gw.ip}),
        tcp_syn(a1.mac, gw.mac, {a1.ip, port("r1-b").ip}),
        echo(a1.mac, gw.mac, {a1.ip, gw.ip}, kIcmpEchoReply),
    };
    for (const auto& f : frames) expect_dropped("a1", f, NT_DROP_TO_ROUTER);
    EXPECT_EQ(total_drop_packets(), std::size(frames));
    EXPECT_EQ(port_stats("a1").dropped.packets, std::size(frames));
}

TEST_F(Route, StaticRouteGoesToTheNexthopMac) {
    // 10.9.0.0/24 via nh (10.2.0.254, on net-b).
    const auto &a1 = port("a1"), &nh = port("nh");
    const Ip far("10.9.0.5");
    expect_routed("a1", udp_frame(a1.mac, port("r1-a").mac, {a1.ip, far, 30}), "nh",
                  udp_frame(port("r1-b").mac, nh.mac, {a1.ip, far, 29}));
}

TEST_F(Route, StaticRouteViaAnotherRoutersAddressIsNotAnsweredByThisRouter) {
    // 10.50.0.0/16 via 10.2.0.2, router-3's interface on net-b. The next hop
    // being a router says nothing about the destination: router-1 must not
    // answer a ping to 10.50.0.1 in that host's name, nor refuse other
    // packets to it as addressed to itself.
    const auto &a1 = port("a1"), &gw = port("r1-a");
    const Ip far("10.50.0.1");
    for (const Bytes& f : {echo(a1.mac, gw.mac, {a1.ip, far}, kIcmpEcho), udp_frame(a1.mac, gw.mac, {a1.ip, far})}) {
        RunResult r = ingress("a1", f, true);
        EXPECT_NE(r.cb.verdict, NT_VERDICT_REPLY) << describe(r);
        EXPECT_NE(r.cb.reason, NT_DROP_TO_ROUTER) << describe(r);
        EXPECT_FALSE(same_frame(r.out, echo(gw.mac, a1.mac, {far, a1.ip}, kIcmpEchoReply)));
    }
}

TEST_F(Route, TooBigForTheEgressNetworkIsFragNeededWithItsMtu) {
    // a1's net-a has MTU 1450, s1's net-small 1280.
    const auto &a1 = port("a1"), &s1 = port("s1"), &gw = port("r1-a");
    constexpr size_t kUdpHdr = 8;
    const size_t fits = 1280 - kIpHdr - kUdpHdr;  // payload of a 1280-byte IP packet

    expect_error_back("a1", "r1-a", udp_frame(a1.mac, gw.mac, {a1.ip, s1.ip, 64, 7, true}, fits + 1), kIcmpUnreach,
                      kCodeFragNeeded, NT_DROP_MTU_EXCEEDED, 1280);
    // Exactly the MTU passes.
    expect_routed("a1", udp_frame(a1.mac, gw.mac, {a1.ip, s1.ip, 64, 7, true}, fits), "s1",
                  udp_frame(port("r1-small").mac, s1.mac, {a1.ip, s1.ip, 63, 7, true}, fits));
    // Without DF there is nothing to tell the sender: only the drop.
    expect_dropped("a1", udp_frame(a1.mac, gw.mac, {a1.ip, s1.ip, 64, 7, false}, fits + 1), NT_DROP_MTU_EXCEEDED);
    EXPECT_EQ(total_drop_packets(), 2u);
}

TEST_F(Route, SubnetsOfAnotherRouterAreUnreachable) {
    const auto &a1 = port("a1"), &c1 = port("c1"), &r1 = port("r1-a"), &r2 = port("r2-c");
    // a1 -> c1 through router-1: router-1 has no route to 10.3.0.0/24.
    expect_error_back("a1", "r1-a", udp_frame(a1.mac, r1.mac, {a1.ip, c1.ip}), kIcmpUnreach, kCodeNet,
                      NT_DROP_NO_ROUTE);
    // c1 -> a1 through router-2, and its echo to router-1's address.
    expect_error_back("c1", "r2-c", udp_frame(c1.mac, r2.mac, {c1.ip, a1.ip}), kIcmpUnreach, kCodeNet,
                      NT_DROP_NO_ROUTE);
    expect_error_back("c1", "r2-c", echo(c1.mac, r2.mac, {c1.ip, r1.ip}, kIcmpEcho), kIcmpUnreach, kCodeNet,
                      NT_DROP_NO_ROUTE);
    // router-2's MAC is no router on net-a: a frame to it there is unknown
    // unicast, flooded in net-a and never routed. (Flooded nowhere here:
    // net-a's other ports are on h2 and h3, which have no neighbour entry.)
    expect_trace_drop(ingress("a1", udp_frame(a1.mac, r2.mac, {a1.ip, c1.ip}), true), NT_DROP_NO_FLOOD_TARGET);
}

TEST_F(Route, RoutedToAPortOnAnotherHostIsEncapsulated) {
    // b2 lives on h2: the routed frame takes net-b's VXLAN tunnel (VNI 4002)
    // to 192.0.2.2. No neighbour entry for h2 exists, so the outer Ethernet
    // header is left to the kernel (bpf_redirect_neigh): checked from the
    // outer IP header on. The IP id and UDP source port come from the flow
    // hash and are taken from the output.
    const auto &a1 = port("a1"), &b2 = port("b2");
    const Bytes frame = udp_frame(a1.mac, port("r1-a").mac, {a1.ip, b2.ip, 9});
    const Bytes inner = udp_frame(port("r1-b").mac, b2.mac, {a1.ip, b2.ip, 8});
    RunResult r = ingress("a1", frame, true);
    EXPECT_EQ(r.retval, kTcActRedirect) << describe(r);
    EXPECT_EQ(r.cb.verdict, NT_VERDICT_REDIRECT) << describe(r);
    EXPECT_EQ(r.cb.target, tunnel_ifindex()) << describe(r);
    ASSERT_GE(r.out.size(), kEth + kIpHdr + 8);
    Outer o = outer(Mac(), Mac(), kVtep1, kVtep2);
    o.ip_id = static_cast<uint16_t>(r.out[18] << 8 | r.out[19]);
    o.udp_sport = static_cast<uint16_t>(r.out[34] << 8 | r.out[35]);
    const Bytes want = vxlan_packet(o, kNetBVni, inner);
    EXPECT_TRUE(same_frame(Bytes(r.out.begin() + kEth, r.out.end()), Bytes(want.begin() + kEth, want.end())));
}

TEST_F(Route, NoIcmpErrorIsSentAboutAnIcmpError) {
    // a1 sends an ICMP error (about some earlier b1 -> a1 datagram) that
    // cannot be routed: dropped with the reason, nothing sent back.
    const auto &a1 = port("a1"), &b1 = port("b1"), &gw = port("r1-a");
    const Bytes earlier = udp_frame(b1.mac, a1.mac, {b1.ip, a1.ip});
    auto error_to = [&](const Ip& dst, uint8_t ttl, uint8_t type) {
        return icmp_error(a1.mac, gw.mac, {a1.ip, dst, ttl, 0x99}, type, kCodeHost, 0, earlier);
    };
    expect_dropped("a1", error_to(b1.ip, 1, kIcmpUnreach), NT_DROP_TTL_EXCEEDED);
    expect_dropped("a1", error_to(b1.ip, 1, kIcmpTimeExceeded), NT_DROP_TTL_EXCEEDED);
    expect_dropped("a1", error_to(Ip("172.16.0.1"), 64, kIcmpUnreach), NT_DROP_NO_ROUTE);
    expect_dropped("a1", error_to(Ip("10.2.0.99"), 64, kIcmpUnreach), NT_DROP_NO_NEIGHBOUR);
    // A routable one is routed as any packet.
    expect_routed("a1", error_to(b1.ip, 5, kIcmpUnreach), "b1",
                  icmp_error(port("r1-b").mac, b1.mac, {a1.ip, b1.ip, 4, 0x99}, kIcmpUnreach, kCodeHost, 0, earlier));
    EXPECT_EQ(total_drop_packets(), 4u);
}

TEST_F(Route, NoIcmpErrorIsSentAboutALaterFragment) {
    // nh (no port security) sends the second fragment of a datagram with
    // TTL 1: RFC 1812 allows an error about the first fragment only.
    const auto &nh = port("nh"), &gw = port("r1-b");
    Tins::IP ip = ip_of({nh.ip, port("a1").ip, 1, 0x77});
    ip.fragment_offset(8);
    ip.protocol(17);
    const Bytes later = bytes(Tins::EthernetII(gw.mac, nh.mac) / ip / Tins::RawPDU(std::string(40, 'f')));
    expect_dropped("nh", later, NT_DROP_TTL_EXCEEDED);
}

TEST_F(Route, TraceModeHasNoSideEffects) {
    const auto &a1 = port("a1"), &gw = port("r1-a"), &b1 = port("b1"), &s1 = port("s1");
    const Bytes frames[] = {
        udp_frame(a1.mac, gw.mac, {a1.ip, b1.ip}),                            // routed
        udp_frame(a1.mac, gw.mac, {a1.ip, port("b2").ip}),                    // routed, encapsulated
        echo(a1.mac, gw.mac, {a1.ip, gw.ip}, kIcmpEcho),                      // answered
        udp_frame(a1.mac, gw.mac, {a1.ip, b1.ip, 1}),                         // time exceeded
        udp_frame(a1.mac, gw.mac, {a1.ip, Ip("172.16.0.1")}),                 // net unreachable
        udp_frame(a1.mac, gw.mac, {a1.ip, Ip("10.2.0.99")}),                  // host unreachable
        udp_frame(a1.mac, gw.mac, {a1.ip, gw.ip}),                            // to the router
        udp_frame(a1.mac, gw.mac, {a1.ip, s1.ip, 64, 1, true}, 1300),         // frag needed
        udp_frame(a1.mac, gw.mac, {a1.ip, s1.ip, 64, 1, false}, 1300),        // too big, no DF
    };
    for (const auto& f : frames) {
        RunResult r = ingress("a1", f, true);
        EXPECT_NE(r.cb.verdict, NT_VERDICT_NONE) << describe(r);
    }
    EXPECT_EQ(total_drop_packets(), 0u);
    EXPECT_EQ(counter_records(), 0u) << "no per-port or per-uplink record may be created";
    EXPECT_EQ(ct_entries(), 0u) << "no connection may be tracked";

    // The same frames for real do count (the check above can fail).
    for (const auto& f : frames) ingress("a1", f, false);
    EXPECT_EQ(port_stats("a1").from_vm.packets, std::size(frames));
    EXPECT_EQ(total_drop_packets(), 6u);
    EXPECT_EQ(counter_records(), 2u) << "a1's counters and vtep0's";
    EXPECT_GT(ct_entries(), 0u);
}

}  // namespace
}  // namespace nt_test
