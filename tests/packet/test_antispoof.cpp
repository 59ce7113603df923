// Anti-spoofing on a port with port security and allowed-address pairs
// (client2 in tests/fixtures/packet-sg.json): source MAC and IP, ARP sender,
// DHCP client vs. server, IPv6 link-local addresses. Everything here happens
// in tap_ingress (frames the VM sends), before the security groups.
//
// The environment (SgEnv, frames) is defined in test_secgroups.cpp; its
// declarations are repeated here verbatim.
#include <tins/arp.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "fixture.hpp"
#include "frames.hpp"
#include "sg_env.hpp"

namespace nt_test {


namespace {

class SgAntispoof : public ::testing::Test {
protected:
    void SetUp() override { env_ = sg_env_create(NT_FIXTURES "/packet-sg.json"); }
    void TearDown() override { env_.reset(); }

    const TestPort& port(const std::string& n) const { return sg_port(*env_, n); }
    uint64_t drops(uint32_t reason) const { return sg_drop_packets(*env_, reason); }
    uint64_t total_drops() const { return sg_total_drop_packets(*env_); }

    // A frame client2's VM sends (client2's tap_ingress): trace for the
    // verdict and reason, then for real.
    void expect_sent(const Bytes& f, uint32_t verdict, const std::string& what) {
        RunResult t = sg_ingress(*env_, "client2", f, true);
        EXPECT_EQ(t.cb.verdict, verdict) << what << ": " << describe(t);
        EXPECT_EQ(t.cb.reason, 0u) << what << ": " << describe(t);
        uint64_t before = total_drops();
        RunResult r = sg_ingress(*env_, "client2", f, false);
        // A flood is TC_ACT_SHOT too (the clones carry the frame): the drop
        // counters tell a refusal apart.
        if (verdict != NT_VERDICT_FLOOD) {
            EXPECT_NE(r.retval, kTcActShot) << what << ": " << describe(r);
        }
        EXPECT_EQ(total_drops(), before) << what << ": nothing dropped";
    }
    void expect_refused(const Bytes& f, uint32_t reason, const std::string& what) {
        RunResult t = sg_ingress(*env_, "client2", f, true);
        EXPECT_EQ(t.retval, kTcActShot) << what << ": " << describe(t);
        EXPECT_EQ(t.cb.verdict, NT_VERDICT_DROP) << what << ": " << describe(t);
        EXPECT_EQ(t.cb.reason, reason) << what << ": " << describe(t);
        uint64_t before = drops(reason), total = total_drops(),
                 port_dropped = sg_port_stats(*env_, "client2").dropped.packets;
        RunResult r = sg_ingress(*env_, "client2", f, false);
        EXPECT_EQ(r.retval, kTcActShot) << what << ": " << describe(r);
        EXPECT_EQ(drops(reason), before + 1) << what << ": counted under its reason";
        EXPECT_EQ(total_drops(), total + 1) << what << ": counted once";
        EXPECT_EQ(sg_port_stats(*env_, "client2").dropped.packets, port_dropped + 1) << what;
    }
    Bytes arp(const Mac& eth_src, const Mac& sha, const Ip& spa, const Ip& asked) {
        Tins::ARP a(asked, spa, Mac(), sha);
        a.opcode(Tins::ARP::REQUEST);
        return bytes(Tins::EthernetII(kBroadcast, eth_src) / a);
    }

    const Mac kPairMac{"fa:16:3e:00:00:99"};  // client2's pair 10.0.5.0/24
    std::shared_ptr<SgEnv> env_;
};

TEST_F(SgAntispoof, SourceAddressesMustBeOwnOrAnAllowedPair) {
    const auto &c2 = port("client2"), &web = port("web");
    auto to_web = [&](const Mac& mac, const Ip& src) { return sg_udp(mac, web.mac, src, web.ip, 40000, 9999); };

    // Allowed: own MAC/IP, the single-IP pair with the port's MAC, the CIDR
    // pair with its own MAC. client2's egress rule admits anything, so an
    // allowed source is redirected to web.
    expect_sent(to_web(c2.mac, c2.ip), NT_VERDICT_REDIRECT, "own MAC, own IP");
    expect_sent(to_web(c2.mac, Ip("10.0.0.100")), NT_VERDICT_REDIRECT, "pair 10.0.0.100 with the port MAC");
    expect_sent(to_web(kPairMac, Ip("10.0.5.7")), NT_VERDICT_REDIRECT, "pair 10.0.5.0/24 with its MAC");
    expect_sent(to_web(kPairMac, Ip("10.0.5.255")), NT_VERDICT_REDIRECT, "last address of the pair's /24");

    // Refused: each address only with the MAC it was allowed with.
    expect_refused(to_web(c2.mac, Ip("10.0.5.7")), NT_DROP_SPOOFED_IP, "pair CIDR with the port's own MAC");
    expect_refused(to_web(kPairMac, Ip("10.0.0.100")), NT_DROP_SPOOFED_IP, "single pair with the other pair's MAC");
    expect_refused(to_web(kPairMac, c2.ip), NT_DROP_SPOOFED_IP, "own fixed IP with the pair's MAC");
    expect_refused(to_web(kPairMac, Ip("10.0.6.1")), NT_DROP_SPOOFED_IP, "just outside the pair's /24");
    expect_refused(to_web(c2.mac, Ip("10.0.0.31")), NT_DROP_SPOOFED_IP, "a neighbour's address");
    expect_refused(to_web(c2.mac, port("client").ip), NT_DROP_SPOOFED_IP, "another port's fixed IP");
    expect_refused(to_web(c2.mac, Ip("10.0.0.101")), NT_DROP_SPOOFED_IP, "next to the single pair");
    expect_refused(to_web(kForeignMac, c2.ip), NT_DROP_SPOOFED_MAC, "foreign MAC, own IP");
    expect_refused(to_web(port("client").mac, port("client").ip), NT_DROP_SPOOFED_MAC, "another port's MAC and IP");
    expect_refused(sg_udp(c2.mac, web.mac, Ip("0.0.0.0"), web.ip, 40000, 9999), NT_DROP_SPOOFED_IP,
                   "unspecified source, not DHCP");
    EXPECT_EQ(sg_port_stats(*env_, "web").dropped.packets, 0u) << "drops belong to the sender";
}

TEST_F(SgAntispoof, ArpSenderMustBeOwnOrAnAllowedPair) {
    const auto &c2 = port("client2"), &web = port("web");
    // The responder answers an honest request for web's address.
    expect_sent(arp(c2.mac, c2.mac, c2.ip, web.ip), NT_VERDICT_REPLY, "own sender");
    expect_sent(arp(c2.mac, c2.mac, Ip("10.0.0.100"), web.ip), NT_VERDICT_REPLY, "sender = single pair");
    expect_sent(arp(kPairMac, kPairMac, Ip("10.0.5.7"), web.ip), NT_VERDICT_REPLY, "sender = CIDR pair + its MAC");

    // A probe (sender IP 0.0.0.0) needs only an allowed MAC; it is not
    // answered for the asker's own address, but passes.
    RunResult t = sg_ingress(*env_, "client2", arp(c2.mac, c2.mac, Ip("0.0.0.0"), c2.ip), true);
    EXPECT_NE(t.cb.verdict, NT_VERDICT_DROP) << "probe: " << describe(t);
    EXPECT_EQ(t.cb.reason, 0u) << "probe: " << describe(t);
    t = sg_ingress(*env_, "client2", arp(kPairMac, kPairMac, Ip("0.0.0.0"), Ip("10.0.5.7")), true);
    EXPECT_NE(t.cb.verdict, NT_VERDICT_DROP) << "probe with the pair MAC: " << describe(t);

    expect_refused(arp(c2.mac, c2.mac, Ip("10.0.0.99"), web.ip), NT_DROP_SPOOFED_ARP, "sender IP not owned");
    expect_refused(arp(c2.mac, c2.mac, web.ip, web.ip), NT_DROP_SPOOFED_ARP, "gratuitous ARP for web's IP");
    expect_refused(arp(c2.mac, c2.mac, Ip("10.0.5.7"), web.ip), NT_DROP_SPOOFED_ARP,
                   "CIDR pair with the port's MAC as sender");
    expect_refused(arp(c2.mac, kForeignMac, c2.ip, web.ip), NT_DROP_SPOOFED_ARP,
                   "sender MAC not the frame's and not allowed");
    expect_refused(arp(c2.mac, kForeignMac, Ip("0.0.0.0"), web.ip), NT_DROP_SPOOFED_ARP, "probe from a foreign MAC");
    expect_refused(arp(kForeignMac, kForeignMac, c2.ip, web.ip), NT_DROP_SPOOFED_MAC, "foreign Ethernet source");
}

TEST_F(SgAntispoof, DhcpClientYesDhcpServerNo) {
    const auto &c2 = port("client2"), &client = port("client");
    // A DISCOVER from 0.0.0.0 passes anti-spoofing and the built-in allow
    // (DHCP is off on the subnet: it floods).
    expect_sent(sg_dhcp_discover(c2.mac), NT_VERDICT_FLOOD, "DHCPDISCOVER from 0.0.0.0");
    // Answering as a server: sport 67, whatever the addresses.
    expect_refused(sg_udp(c2.mac, client.mac, c2.ip, client.ip, 67, 68), NT_DROP_DHCP_SERVER, "offer to client");
    expect_refused(sg_udp(c2.mac, kBroadcast, c2.ip, Ip::broadcast, 67, 68), NT_DROP_DHCP_SERVER,
                   "broadcast offer");
    expect_refused(sg_udp(c2.mac, client.mac, c2.ip, client.ip, 67, 9999), NT_DROP_DHCP_SERVER,
                   "anything from port 67");
    // From the unspecified address only the client direction is allowed.
    expect_refused(sg_udp(c2.mac, kBroadcast, Ip("0.0.0.0"), Ip::broadcast, 67, 68), NT_DROP_SPOOFED_IP,
                   "server reply from 0.0.0.0");
    EXPECT_TRUE(sg_ct_entries(*env_).empty()) << "DHCP is not tracked, refused flows neither";
}

TEST_F(SgAntispoof, Ipv6LinkLocalOfAnAllowedMac) {
    const auto& c2 = port("client2");
    const Mac v6_mcast{"33:33:00:00:00:01"};
    // client2 has no IPv6 rules, so a UDP datagram that passes the address
    // check stops at the classifier (sg-no-match); one that fails it never
    // gets there (spoofed-ip). That isolates the address check.
    auto udp6 = [&](const Mac& mac, const std::string& src) {
        return sg_udp6(mac, v6_mcast, src, "ff02::1", 40000, 9999);
    };
    struct Case {
        const char* what;
        Bytes frame;
        uint32_t reason;
    } cases[] = {
        {"EUI-64 link-local of the port MAC", udp6(c2.mac, "fe80::f816:3eff:fe00:30"), NT_DROP_SG_NO_MATCH},
        {"EUI-64 link-local of the pair MAC", udp6(kPairMac, "fe80::f816:3eff:fe00:99"), NT_DROP_SG_NO_MATCH},
        {"another link-local", udp6(c2.mac, "fe80::1234"), NT_DROP_SPOOFED_IP},
        {"the pair MAC's link-local from the port MAC", udp6(c2.mac, "fe80::f816:3eff:fe00:99"), NT_DROP_SPOOFED_IP},
        {"the port MAC's link-local from the pair MAC", udp6(kPairMac, "fe80::f816:3eff:fe00:30"),
         NT_DROP_SPOOFED_IP},
        {"a global address", udp6(c2.mac, "2001:db8::30"), NT_DROP_SPOOFED_IP},
        {"unspecified, not ICMPv6", udp6(c2.mac, "::"), NT_DROP_SPOOFED_IP},
    };
    for (const auto& c : cases) expect_refused(c.frame, c.reason, c.what);
}

}  // namespace
}  // namespace nt_test
