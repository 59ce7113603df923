// The ARP responder of tap_ingress: a request for an address the state knows
// in the asker's network is answered in place and sent back to the asker;
// anything else is left alone and forwarded like any broadcast.
#include "fixture.hpp"
#include "frames.hpp"

namespace nt_test {
namespace {

class TapArp : public TapDatapathTest {
protected:
    // Not answered: left byte for byte as it was and flooded in the network.
    void expect_not_answered(const std::string& asker, const Bytes& request, uint32_t copies) {
        RunResult t = ingress(asker, request, true);
        EXPECT_EQ(t.retval, kTcActShot) << describe(t);
        EXPECT_EQ(t.cb.verdict, NT_VERDICT_FLOOD) << describe(t);
        EXPECT_EQ(t.cb.target, copies) << describe(t);
        EXPECT_TRUE(same_frame(t.out, request)) << "an unanswered request must be forwarded unchanged";
    }
};

TEST_F(TapArp, RequestForAPortOfTheNetworkIsAnsweredInPlace) {
    const auto &red1 = port("red1"), &red2 = port("red2");
    Bytes request = arp_request(red1, red2.ip);
    Bytes reply = arp_reply(red2.mac, red2.ip, red1.mac, red1.ip);

    RunResult t = ingress("red1", request, true);
    EXPECT_EQ(t.retval, kTcActRedirect) << describe(t);
    EXPECT_EQ(t.cb.verdict, NT_VERDICT_REPLY) << describe(t);
    EXPECT_EQ(t.cb.target, red1.ifindex) << "the reply goes back out of the asker's tap: " << describe(t);
    EXPECT_TRUE(same_frame(t.out, reply));

    RunResult r = ingress("red1", request, false);
    EXPECT_EQ(r.retval, kTcActRedirect) << describe(r);
    EXPECT_TRUE(same_frame(r.out, reply));
    auto s = port_stats("red1");
    EXPECT_EQ(s.arp_reply.packets, 1u);
    EXPECT_EQ(s.flooded.packets, 0u);
    EXPECT_EQ(total_drop_packets(), 0u);
}

TEST_F(TapArp, UnpaddedRequestIsAnsweredAtItsOwnLength) {
    // A VM's frames reach the tap unpadded (42 bytes for ARP): the responder
    // must not rely on the 60-byte minimum a NIC would add.
    const auto &red1 = port("red1"), &red2 = port("red2");
    Bytes request = arp_request(red1, red2.ip);
    Bytes reply = arp_reply(red2.mac, red2.ip, red1.mac, red1.ip);
    ASSERT_GE(request.size(), 42u);
    request.resize(42);
    reply.resize(42);

    RunResult t = ingress("red1", request, true);
    EXPECT_EQ(t.cb.verdict, NT_VERDICT_REPLY) << describe(t);
    EXPECT_TRUE(same_frame(t.out, reply));
}

TEST_F(TapArp, OverlappingNetworksEachAnswerWithTheirOwnPort) {
    // 10.0.0.12 is red2 in red and blue2 in blue.
    const auto &blue1 = port("blue1"), &blue2 = port("blue2");
    RunResult b = ingress("blue1", arp_request(blue1, Ip("10.0.0.12")), true);
    EXPECT_EQ(b.cb.verdict, NT_VERDICT_REPLY) << describe(b);
    EXPECT_EQ(b.cb.target, blue1.ifindex) << describe(b);
    EXPECT_TRUE(same_frame(b.out, arp_reply(blue2.mac, Ip("10.0.0.12"), blue1.mac, blue1.ip)));

    const auto &red1 = port("red1"), &red2 = port("red2");
    RunResult r = ingress("red1", arp_request(red1, Ip("10.0.0.12")), true);
    EXPECT_EQ(r.cb.verdict, NT_VERDICT_REPLY) << describe(r);
    EXPECT_TRUE(same_frame(r.out, arp_reply(red2.mac, Ip("10.0.0.12"), red1.mac, red1.ip)));
}

TEST_F(TapArp, AddressOfAnotherNetworkIsNotAnswered) {
    // 10.0.0.13 is red3's; blue has no such port.
    expect_not_answered("blue1", arp_request(port("blue1"), Ip("10.0.0.13")), 1);
}

TEST_F(TapArp, RequestForAnUnknownAddressIsNotAnswered) {
    expect_not_answered("red1", arp_request(port("red1"), Ip("10.0.0.99")), 3);  // red-down (admin down) gets no copy
}

TEST_F(TapArp, GratuitousArpIsNotAnswered) {
    const auto& red1 = port("red1");
    expect_not_answered("red1", arp_request(red1.mac, red1.ip, red1.ip), 3);  // red-down (admin down) gets no copy
}

TEST_F(TapArp, GratuitousArpForAnotherPortsAddressIsNotAnswered) {
    // A VM taking over an address (keepalived, pacemaker) announces it;
    // answering "10.0.0.12 is-at red2" to the announcer would fake a conflict.
    const auto& nosec = port("red-nosec");
    expect_not_answered("red-nosec", arp_request(nosec.mac, port("red2").ip, port("red2").ip), 3);  // red-down (admin down) gets no copy
}

TEST_F(TapArp, ProbeForTheAskersOwnAddressIsNotAnswered) {
    // RFC 5227 probe: sender IP 0.0.0.0, asking for the address it wants.
    // Answering it with the asker's own MAC would look like a conflict.
    const auto& red1 = port("red1");
    expect_not_answered("red1", arp_request(red1.mac, Ip("0.0.0.0"), red1.ip), 3);  // red-down (admin down) gets no copy
}

TEST_F(TapArp, ArpReplyIsForwardedNotAnswered) {
    const auto &red1 = port("red1"), &red2 = port("red2");
    Bytes reply = arp_reply(red1.mac, red1.ip, red2.mac, red2.ip);
    RunResult t = ingress("red1", reply, true);
    EXPECT_EQ(t.cb.verdict, NT_VERDICT_REDIRECT) << describe(t);
    EXPECT_EQ(t.cb.target, red2.ifindex) << describe(t);
    EXPECT_TRUE(same_frame(t.out, reply));
}

TEST_F(TapArp, TruncatedArpIsDroppedAsMalformed) {
    Bytes request = arp_request(port("red1"), port("red2").ip);
    Bytes truncated(request.begin(), request.begin() + 14 + 10);  // Ethernet + 10 of 28 ARP bytes

    RunResult t = ingress("red1", truncated, true);
    EXPECT_EQ(t.retval, kTcActShot) << describe(t);
    EXPECT_EQ(t.cb.verdict, NT_VERDICT_DROP) << describe(t);
    EXPECT_EQ(t.cb.reason, NT_DROP_MALFORMED) << describe(t);
    EXPECT_EQ(drop_packets(NT_DROP_MALFORMED), 0u) << "trace mode must not count";

    RunResult r = ingress("red1", truncated, false);
    EXPECT_EQ(r.retval, kTcActShot) << describe(r);
    EXPECT_EQ(drop_packets(NT_DROP_MALFORMED), 1u);
    EXPECT_EQ(port_stats("red1").dropped.packets, 1u);
}

}  // namespace
}  // namespace nt_test
