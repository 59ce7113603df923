// Frames tap_ingress must refuse, each with its reason: counted once per
// frame in nt_drop_stats and in the port's `dropped`, reported (and not
// counted) in trace mode.
#include "fixture.hpp"
#include "frames.hpp"

namespace nt_test {
namespace {

class TapDrops : public TapDatapathTest {
protected:
    void expect_trace_drop(const RunResult& t, uint32_t reason) {
        EXPECT_EQ(t.retval, kTcActShot) << describe(t);
        EXPECT_EQ(t.cb.verdict, NT_VERDICT_DROP) << describe(t);
        EXPECT_EQ(t.cb.reason, reason) << describe(t);
    }
};

TEST_F(TapDrops, SpoofedSourceMacIsDroppedAndCountedOnce) {
    // red1 (port security on) claims red2's MAC.
    const auto &red1 = port("red1"), &red2 = port("red2");
    Bytes frame = udp(red2.mac, port("red3").mac, red1.ip, port("red3").ip);

    expect_trace_drop(ingress("red1", frame, true), NT_DROP_SPOOFED_MAC);
    EXPECT_EQ(drop_packets(NT_DROP_SPOOFED_MAC), 0u) << "trace mode must not count";
    EXPECT_EQ(port_stats("red1").dropped.packets, 0u) << "trace mode must not count";

    RunResult r = ingress("red1", frame, false);
    EXPECT_EQ(r.retval, kTcActShot) << describe(r);
    EXPECT_EQ(drop_packets(NT_DROP_SPOOFED_MAC), 1u);
    EXPECT_EQ(total_drop_packets(), 1u) << "one frame, one reason";
    auto s = port_stats("red1");
    EXPECT_EQ(s.dropped.packets, 1u);
    EXPECT_EQ(s.dropped.bytes, frame.size());
    EXPECT_EQ(s.from_vm.packets, 1u);
    EXPECT_EQ(port_stats("red2").dropped.packets, 0u) << "the drop belongs to the sender, not the spoofed owner";
}

TEST_F(TapDrops, ForeignSourceMacIsSpoofedEvenToBroadcast) {
    const auto& red1 = port("red1");
    auto caps = std::make_unique<Capture>(port("red2").peer);
    RunResult r = ingress("red1", udp(kForeignMac, kBroadcast, red1.ip, Ip::broadcast), false);
    EXPECT_EQ(r.retval, kTcActShot) << describe(r);
    EXPECT_EQ(drop_packets(NT_DROP_SPOOFED_MAC), 1u);
    EXPECT_TRUE(caps->frames().empty()) << "a spoofed broadcast must not be flooded";
}

TEST_F(TapDrops, AdminDownPortDropsEverything) {
    const auto &down = port("red-down"), &red2 = port("red2");
    const Bytes frames[] = {
        udp(down, red2),                              // known unicast
        udp_broadcast(down),                          // broadcast
        arp_request(down, red2.ip),                   // an ARP request the responder could answer
        udp(down, down),                              // what would otherwise be a loop
        udp(kForeignMac, red2.mac, down.ip, red2.ip),  // what would otherwise be spoofed
    };
    for (const auto& f : frames) expect_trace_drop(ingress("red-down", f, true), NT_DROP_PORT_DOWN);
    EXPECT_EQ(total_drop_packets(), 0u);

    for (const auto& f : frames) {
        RunResult r = ingress("red-down", f, false);
        EXPECT_EQ(r.retval, kTcActShot) << describe(r);
    }
    EXPECT_EQ(drop_packets(NT_DROP_PORT_DOWN), std::size(frames));
    EXPECT_EQ(total_drop_packets(), std::size(frames));
    EXPECT_EQ(port_stats("red-down").dropped.packets, std::size(frames));
    EXPECT_EQ(port_stats("red-down").arp_reply.packets, 0u);
}

TEST_F(TapDrops, InterfaceWithoutAPortIsUnknown) {
    uint32_t stray = add_stray_veth("t-stray", "p-stray");
    Bytes frame = udp(port("red1"), port("red2"));  // addressed like a red frame: no help without a port

    expect_trace_drop(run(ingress_fd(), frame, stray, true), NT_DROP_UNKNOWN_PORT);
    expect_trace_drop(run(egress_fd(), frame, stray, true), NT_DROP_UNKNOWN_PORT);
    EXPECT_EQ(total_drop_packets(), 0u);

    EXPECT_EQ(run(ingress_fd(), frame, stray, false).retval, kTcActShot);
    EXPECT_EQ(run(egress_fd(), frame, stray, false).retval, kTcActShot);
    EXPECT_EQ(drop_packets(NT_DROP_UNKNOWN_PORT), 2u);
    EXPECT_FALSE(any_port_stats()) << "no port, no per-port record";
}

}  // namespace
}  // namespace nt_test
