// tap_egress (frames handed to the VM) and the trace-mode contract shared by
// both programs: a traced run reports its decision and changes nothing.
#include "fixture.hpp"
#include "frames.hpp"

namespace nt_test {
namespace {

class TapEgress : public TapDatapathTest {};

TEST_F(TapEgress, DeliversToTheVmAndCountsToVm) {
    Bytes frame = udp(port("red1"), port("red2"));

    RunResult t = egress("red2", frame, true);
    EXPECT_EQ(t.retval, kTcActOk) << describe(t);
    EXPECT_EQ(t.cb.verdict, NT_VERDICT_DELIVER) << describe(t);
    EXPECT_EQ(t.cb.target, port("red2").ifindex) << describe(t);
    EXPECT_TRUE(same_frame(t.out, frame));
    EXPECT_EQ(port_stats("red2").to_vm.packets, 0u) << "trace mode must not count";

    RunResult r = egress("red2", frame, false);
    EXPECT_EQ(r.retval, kTcActOk) << describe(r);
    EXPECT_TRUE(same_frame(r.out, frame));
    auto s = port_stats("red2");
    EXPECT_EQ(s.to_vm.packets, 1u);
    EXPECT_EQ(s.to_vm.bytes, frame.size());
    EXPECT_EQ(s.from_vm.packets, 0u);
    EXPECT_EQ(port_stats("red1").to_vm.packets, 0u) << "counted on the receiving port only";
}

class TapTrace : public TapDatapathTest {};

TEST_F(TapTrace, TracedRunsHaveNoSideEffects) {
    const auto &red1 = port("red1"), &red2 = port("red2");
    std::vector<std::unique_ptr<Capture>> caps;
    for (const char* name : {"red1", "red2", "red3", "red-nosec", "red-down", "blue1", "blue2"})
        caps.push_back(std::make_unique<Capture>(port(name).peer));

    const std::pair<const char*, Bytes> runs[] = {
        {"red1", udp(red1, red2)},                                    // redirect
        {"red1", udp_broadcast(red1)},                                // flood: no clones
        {"red1", arp_request(red1, red2.ip)},                         // reply: no arp_reply count
        {"red1", udp(red2.mac, kBroadcast, red1.ip, Ip::broadcast)},  // spoofed
        {"red1", udp(red1, red1)},                                    // loop
        {"red-down", udp(port("red-down"), red2)},                    // port down
    };
    for (const auto& [from, frame] : runs) {
        RunResult t = ingress(from, frame, true);
        EXPECT_NE(t.cb.verdict, NT_VERDICT_NONE) << "a traced run always reports: " << describe(t);
        EXPECT_EQ(t.cb.magic0, NT_TRACE_MAGIC0);
        EXPECT_EQ(t.cb.magic1, NT_TRACE_MAGIC1);
    }
    RunResult e = egress("red2", udp(red1, red2), true);
    EXPECT_EQ(e.cb.verdict, NT_VERDICT_DELIVER) << describe(e);

    EXPECT_EQ(total_drop_packets(), 0u);
    EXPECT_FALSE(any_port_stats()) << "trace mode must not even create per-port records";
    auto until = Capture::Clock::now() + Capture::kWait;
    for (auto& c : caps) EXPECT_TRUE(c->frames(until).empty()) << "trace mode sent a frame";
}

TEST_F(TapTrace, UntracedRunsLeaveTheControlBufferAlone) {
    // Real traffic never carries the magic: the program must not write cb,
    // which other TC programs and the qdisc layer may use.
    const auto &red1 = port("red1"), &red2 = port("red2");
    for (const Bytes& frame : {udp(red1, red2), arp_request(red1, red2.ip), udp(red1, red1)}) {
        RunResult r = ingress("red1", frame, false);
        EXPECT_EQ(r.cb.verdict, 0u) << describe(r);
        EXPECT_EQ(r.cb.target, 0u) << describe(r);
        EXPECT_EQ(r.cb.reason, 0u) << describe(r);
    }
    // One magic word alone is not trace mode: the run counts and reports nothing.
    nt_trace_cb half{};
    half.magic0 = NT_TRACE_MAGIC0;
    RunResult h = run_with_cb(ingress_fd(), udp(red1, red2), red1.ifindex, half);
    EXPECT_EQ(h.retval, kTcActRedirect) << describe(h);
    EXPECT_EQ(h.cb.verdict, 0u) << describe(h);
    EXPECT_EQ(port_stats("red1").from_vm.packets, 4u);
}

}  // namespace
}  // namespace nt_test
