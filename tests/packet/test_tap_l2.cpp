// The L2 decision of tap_ingress: known unicast is redirected to its tap,
// everything else is replicated to the other taps of the same network only.
#include <map>

#include "fixture.hpp"
#include "frames.hpp"

namespace nt_test {
namespace {

class TapL2 : public TapDatapathTest {
protected:
    // Every fixture port, by name, with a capture on its VM side.
    std::map<std::string, std::unique_ptr<Capture>> capture_all() {
        std::map<std::string, std::unique_ptr<Capture>> caps;
        for (const char* name : {"red1", "red2", "red3", "red-nosec", "red-down", "blue1", "blue2"})
            caps[name] = std::make_unique<Capture>(port(name).peer);
        return caps;
    }

    // Sends frame from red1 for real and checks where the clones went: one
    // copy on every other port of red that is up, nothing back to red1,
    // nothing to admin-down red-down (see test_tap_admin_down.cpp), nothing
    // in blue.
    void expect_flooded_within_red(const Bytes& frame) {
        auto caps = capture_all();
        RunResult r = ingress("red1", frame, false);
        EXPECT_EQ(r.retval, kTcActShot) << describe(r) << " (the clones carry the frame)";

        auto until = Capture::Clock::now() + Capture::kWait;
        std::map<std::string, std::vector<Bytes>> got;
        for (auto& [name, cap] : caps) got[name] = cap->frames(until);
        for (const char* name : {"red2", "red3", "red-nosec"}) {
            ASSERT_EQ(got[name].size(), 1u) << name << " must get exactly one copy";
            EXPECT_TRUE(same_frame(got[name][0], frame)) << "copy received by " << name;
        }
        for (const char* name : {"red1", "red-down", "blue1", "blue2"})
            EXPECT_TRUE(got[name].empty()) << name << " got " << got[name].size() << " frame(s)";

        EXPECT_EQ(port_stats("red1").flooded.packets, 1u);
        EXPECT_EQ(port_stats("red1").from_vm.packets, 1u);
        EXPECT_EQ(total_drop_packets(), 0u) << "a flood is not a drop";
    }
};

TEST_F(TapL2, KnownUnicastIsRedirectedToTheTargetTap) {
    Bytes frame = udp(port("red1"), port("red2"));

    RunResult t = ingress("red1", frame, true);
    EXPECT_EQ(t.retval, kTcActRedirect) << describe(t);
    EXPECT_EQ(t.cb.verdict, NT_VERDICT_REDIRECT) << describe(t);
    EXPECT_EQ(t.cb.target, port("red2").ifindex) << describe(t);
    EXPECT_TRUE(same_frame(t.out, frame)) << "L2 forwarding must not touch the frame";

    RunResult r = ingress("red1", frame, false);
    EXPECT_EQ(r.retval, kTcActRedirect) << describe(r);
    EXPECT_TRUE(same_frame(r.out, frame));
    EXPECT_EQ(r.cb.verdict, NT_VERDICT_NONE) << "without the trace magic the program reports nothing";
    auto s = port_stats("red1");
    EXPECT_EQ(s.from_vm.packets, 1u);
    EXPECT_EQ(s.from_vm.bytes, frame.size());
}

TEST_F(TapL2, UdpBroadcastIsClonedToEveryOtherPortOfTheNetwork) {
    expect_flooded_within_red(udp_broadcast(port("red1")));
}

TEST_F(TapL2, UnansweredArpRequestIsClonedToEveryOtherPortOfTheNetwork) {
    expect_flooded_within_red(arp_request(port("red1"), Ip("10.0.0.99")));
}

TEST_F(TapL2, UnknownUnicastIsClonedWithinTheNetwork) {
    expect_flooded_within_red(udp(port("red1").mac, kForeignMac, port("red1").ip, Ip("10.0.0.99")));
}

TEST_F(TapL2, FloodTraceCountsCopiesWithoutSendingAny) {
    auto caps = capture_all();
    for (const Bytes& frame : {udp_broadcast(port("red1")),
                               udp(port("red1").mac, kMulticast, port("red1").ip, Ip("224.0.0.251"))}) {
        RunResult t = ingress("red1", frame, true);
        EXPECT_EQ(t.retval, kTcActShot) << describe(t);
        EXPECT_EQ(t.cb.verdict, NT_VERDICT_FLOOD) << describe(t);
        EXPECT_EQ(t.cb.target, 3u) << "red2, red3, red-nosec (red-down is admin down): " << describe(t);
        EXPECT_TRUE(same_frame(t.out, frame));
    }
    // blue has two ports: one copy, to the other one.
    RunResult b = ingress("blue1", udp_broadcast(port("blue1")), true);
    EXPECT_EQ(b.cb.verdict, NT_VERDICT_FLOOD) << describe(b);
    EXPECT_EQ(b.cb.target, 1u) << describe(b);

    auto until = Capture::Clock::now() + Capture::kWait;
    for (auto& [name, cap] : caps) EXPECT_TRUE(cap->frames(until).empty()) << "trace mode sent a clone to " << name;
}

TEST_F(TapL2, UnicastToAnotherNetworksMacStaysInTheSendersNetwork) {
    // blue1's MAC is unknown in red: red1's frame to it must not reach blue1
    // (the FDB key carries the network), it floods within red like any
    // unknown unicast.
    Bytes frame = udp(port("red1"), port("blue1"));
    RunResult t = ingress("red1", frame, true);
    EXPECT_EQ(t.cb.verdict, NT_VERDICT_FLOOD) << describe(t);
    EXPECT_NE(t.cb.target, port("blue1").ifindex);
    expect_flooded_within_red(frame);
}

TEST_F(TapL2, UnicastWithinBlueIsRedirectedToBlue2) {
    Bytes frame = udp(port("blue1"), port("blue2"));
    RunResult t = ingress("blue1", frame, true);
    EXPECT_EQ(t.retval, kTcActRedirect) << describe(t);
    EXPECT_EQ(t.cb.verdict, NT_VERDICT_REDIRECT) << describe(t);
    EXPECT_EQ(t.cb.target, port("blue2").ifindex) << describe(t);
    EXPECT_TRUE(same_frame(t.out, frame));
}

TEST_F(TapL2, SameIpInTwoNetworksReachesTheRightPort) {
    // red1 and blue1 share 10.0.0.11; only the MAC and the network decide.
    RunResult to_red = ingress("red2", udp(port("red2"), port("red1")), true);
    EXPECT_EQ(to_red.cb.verdict, NT_VERDICT_REDIRECT) << describe(to_red);
    EXPECT_EQ(to_red.cb.target, port("red1").ifindex) << describe(to_red);
    RunResult to_blue = ingress("blue2", udp(port("blue2"), port("blue1")), true);
    EXPECT_EQ(to_blue.cb.verdict, NT_VERDICT_REDIRECT) << describe(to_blue);
    EXPECT_EQ(to_blue.cb.target, port("blue1").ifindex) << describe(to_blue);
}

TEST_F(TapL2, FrameToTheSendersOwnMacIsALoop) {
    Bytes frame = udp(port("red1"), port("red1"));
    RunResult t = ingress("red1", frame, true);
    EXPECT_EQ(t.retval, kTcActShot) << describe(t);
    EXPECT_EQ(t.cb.verdict, NT_VERDICT_DROP) << describe(t);
    EXPECT_EQ(t.cb.reason, NT_DROP_LOOP) << describe(t);

    RunResult r = ingress("red1", frame, false);
    EXPECT_EQ(r.retval, kTcActShot) << describe(r);
    EXPECT_EQ(drop_packets(NT_DROP_LOOP), 1u);
    EXPECT_EQ(port_stats("red1").dropped.packets, 1u);
}

TEST_F(TapL2, PortWithoutPortSecurityMaySendFromAnyMac) {
    const auto& nosec = port("red-nosec");
    Bytes frame = udp(kForeignMac, port("red2").mac, nosec.ip, port("red2").ip);
    RunResult t = ingress("red-nosec", frame, true);
    EXPECT_EQ(t.retval, kTcActRedirect) << describe(t);
    EXPECT_EQ(t.cb.verdict, NT_VERDICT_REDIRECT) << describe(t);
    EXPECT_EQ(t.cb.target, port("red2").ifindex) << describe(t);

    RunResult r = ingress("red-nosec", frame, false);
    EXPECT_EQ(r.retval, kTcActRedirect) << describe(r);
    EXPECT_EQ(total_drop_packets(), 0u);
}

}  // namespace
}  // namespace nt_test
