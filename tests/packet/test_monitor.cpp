// The monitor's datapath side: with nt_mon_config[0].owner set, a drop puts
// one record into nt_mon_events (reason, interface, length, first bytes);
// nothing without a monitor, nothing in trace mode; the interface and reason
// filters and the per-CPU token bucket hold.
#include <bpf/libbpf.h>
#include <sched.h>

#include "fixture.hpp"
#include "frames.hpp"
#include "loader/monitor.hpp"
#include "maps/bpf_map.hpp"
#include "overlay_env.hpp"
#include "route_env.hpp"

namespace nt_test {
namespace {

// The monitor's maps of one datapath, read and written as the CLI does.
template <class Base>
class MonitorOf : public Base {
protected:
    using Base::datapath;
    void SetUp() override {
        Base::SetUp();
        // One CPU: the token bucket is per CPU, and the tests count tokens.
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(0, &one);
        ASSERT_EQ(sched_getaffinity(0, sizeof saved_, &saved_), 0);
        ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
        ring_ = ring_buffer__new(datapath().map_fd(neutrino::kMapMonEvents), &MonitorOf::collect, this, nullptr);
        ASSERT_NE(ring_, nullptr);
    }
    void TearDown() override {
        if (ring_) ring_buffer__free(ring_);
        sched_setaffinity(0, sizeof saved_, &saved_);
        Base::TearDown();
    }

    void configure(const nt_mon_config& c) {
        neutrino::BpfMap<__u32, nt_mon_config> m(datapath().map_fd(neutrino::kMapMonConfig), neutrino::kMapMonConfig);
        m.update(0, c);
    }
    // A running monitor with no filter and no effective limit.
    static nt_mon_config on() {
        nt_mon_config c{};
        c.owner = 4242;
        c.interval_ns = 1;
        c.burst = 1000000;
        return c;
    }
    std::vector<neutrino::MonitorEvent> drain() {
        events_.clear();
        EXPECT_GE(ring_buffer__consume(ring_), 0);
        return events_;
    }
    neutrino::MonitorCounts counts() const {
        neutrino::PerCpuBpfMap<__u32, nt_mon_state> m(datapath().map_fd(neutrino::kMapMonState),
                                                      neutrino::kMapMonState);
        neutrino::MonitorCounts c;
        for (const auto& s : m.lookup(0)) {
            c.emitted += s.emitted;
            c.suppressed += s.suppressed;
            c.lost += s.lost;
        }
        return c;
    }

private:
    static int collect(void* ctx, void* data, size_t size) {
        auto* self = static_cast<MonitorOf*>(ctx);
        auto e = neutrino::parse_monitor_event(data, size);
        EXPECT_TRUE(e.has_value()) << "record of " << size << " bytes is no nt_mon_event";
        if (e) self->events_.push_back(*e);
        return 0;
    }
    ring_buffer* ring_ = nullptr;
    cpu_set_t saved_{};
    std::vector<neutrino::MonitorEvent> events_;
};

class Monitor : public MonitorOf<TapDatapathTest> {
protected:
    Bytes spoofed_mac() { return udp(kForeignMac, port("red2").mac, port("red1").ip, port("red2").ip); }
};

class MonitorUplink : public MonitorOf<OverlayTest> {};
class MonitorRoute : public MonitorOf<RouteTest> {};

TEST_F(Monitor, NoMonitorNoEventsNoCounts) {
    Bytes f = spoofed_mac();
    EXPECT_EQ(ingress("red1", f, false).retval, kTcActShot);
    EXPECT_EQ(drop_packets(NT_DROP_SPOOFED_MAC), 1u) << "the drop itself is counted as always";
    EXPECT_TRUE(drain().empty()) << "owner 0: the datapath must not touch the ring buffer";
    auto k = counts();
    EXPECT_EQ(k.emitted + k.suppressed + k.lost, 0u) << "owner 0: no bucket work either";
}

TEST_F(Monitor, DropEmitsOneEventWithReasonPortAndBytes) {
    configure(on());
    Bytes f = spoofed_mac();
    ASSERT_LT(f.size(), size_t{NT_MON_SNAPLEN});
    EXPECT_EQ(ingress("red1", f, false).retval, kTcActShot);
    auto ev = drain();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].kind, uint32_t{NT_MON_DROP});
    EXPECT_EQ(ev[0].reason, uint32_t{NT_DROP_SPOOFED_MAC});
    EXPECT_EQ(ev[0].ifindex, port("red1").ifindex);
    EXPECT_EQ(ev[0].hook, NT_MON_HOOK_TC);
    EXPECT_EQ(ev[0].pkt_len, f.size());
    EXPECT_TRUE(same_frame(ev[0].data, f)) << "a short frame is captured whole";
    EXPECT_EQ(counts().emitted, 1u);

    // The egress side (a frame to red2 that its policy would not know) and
    // a frame longer than the snapshot: the first NT_MON_SNAPLEN bytes.
    Bytes big = bytes(Tins::EthernetII(port("red1").mac, kForeignMac) / Tins::IP(port("red1").ip, "10.9.9.9") /
                      Tins::UDP(53, 4000) / Tins::RawPDU(std::string(300, 'x')));
    EXPECT_EQ(ingress("red1", big, false).retval, kTcActShot);
    ev = drain();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].pkt_len, big.size());
    ASSERT_EQ(ev[0].data.size(), size_t{NT_MON_SNAPLEN});
    EXPECT_TRUE(same_frame(ev[0].data, Bytes(big.begin(), big.begin() + NT_MON_SNAPLEN)));
    auto p = neutrino::decode_packet(ev[0].data.data(), ev[0].data.size());
    EXPECT_EQ(neutrino::flow_text(p), "udp 10.9.9.9:4000 -> " + port("red1").ip.to_string() + ":53");
}

TEST_F(Monitor, TraceModeEmitsNothing) {
    configure(on());
    RunResult t = ingress("red1", spoofed_mac(), true);
    EXPECT_EQ(t.cb.verdict, uint32_t{NT_VERDICT_DROP}) << describe(t);
    EXPECT_TRUE(drain().empty()) << "trace mode has no side effects";
    EXPECT_EQ(counts().emitted + counts().suppressed, 0u);
}

TEST_F(Monitor, InterfaceAndReasonFiltersApplyInTheDatapath) {
    nt_mon_config c = on();
    c.ifindex = port("red2").ifindex;
    configure(c);
    EXPECT_EQ(ingress("red1", spoofed_mac(), false).retval, kTcActShot);
    EXPECT_TRUE(drain().empty()) << "a drop on another interface";

    c.ifindex = port("red1").ifindex;
    c.reasons = 1ull << NT_DROP_SPOOFED_IP;
    configure(c);
    EXPECT_EQ(ingress("red1", spoofed_mac(), false).retval, kTcActShot);
    EXPECT_TRUE(drain().empty()) << "a drop of another reason";
    EXPECT_EQ(counts().suppressed, 0u) << "filtered drops take no token and are not suppressed";

    c.reasons |= 1ull << NT_DROP_SPOOFED_MAC;
    configure(c);
    EXPECT_EQ(ingress("red1", spoofed_mac(), false).retval, kTcActShot);
    auto ev = drain();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].reason, uint32_t{NT_DROP_SPOOFED_MAC});
}

TEST_F(Monitor, TokenBucketEmitsTheBurstThenSuppresses) {
    nt_mon_config c = on();
    // An interval of 31 years: no refill during the test, and a bucket
    // whose burst (after the monitor's reset) must not wait for an uptime
    // of burst intervals.
    c.interval_ns = 1000000000000000000ull;
    c.burst = 3;
    configure(c);
    Bytes f = spoofed_mac();
    for (int i = 0; i < 10; i++) EXPECT_EQ(ingress("red1", f, false).retval, kTcActShot);
    EXPECT_EQ(drain().size(), 3u);
    auto k = counts();
    EXPECT_EQ(k.emitted, 3u);
    EXPECT_EQ(k.suppressed, 7u);
    EXPECT_EQ(k.lost, 0u);
    EXPECT_EQ(drop_packets(NT_DROP_SPOOFED_MAC), 10u) << "the rate limit is on events, never on counting";

    // A short interval refills: after a pause, events flow again.
    c.interval_ns = 1000;  // 1 us
    configure(c);
    usleep(2000);
    EXPECT_EQ(ingress("red1", f, false).retval, kTcActShot);
    EXPECT_EQ(drain().size(), 1u);
}

TEST_F(MonitorUplink, RefusedTunnelPacketsEmitFromXdpAndTc) {
    configure(on());
    Bytes inner = udp(port("vx-b"), port("vx-a"));
    Bytes packet = vxlan_packet(from_remote(kVtep2, kVtep2Mac), 4242, inner);  // no network has VNI 4242
    const Bytes head(packet.begin(), packet.begin() + std::min(packet.size(), size_t{NT_MON_SNAPLEN}));

    EXPECT_EQ(uplink_xdp(kTunnelIf, packet).retval, kXdpDrop);
    auto ev = drain();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].hook, NT_MON_HOOK_XDP);
    EXPECT_EQ(ev[0].reason, uint32_t{NT_DROP_UNKNOWN_VNI});
    EXPECT_EQ(ev[0].ifindex, ifindex(kTunnelIf));
    EXPECT_EQ(ev[0].pkt_len, packet.size());
    EXPECT_TRUE(same_frame(ev[0].data, head));

    RunResult t = uplink_tc(kTunnelIf, packet, true);
    EXPECT_EQ(t.cb.verdict, uint32_t{NT_VERDICT_DROP}) << describe(t);
    EXPECT_TRUE(drain().empty()) << "trace mode emits nothing";

    EXPECT_EQ(uplink_tc(kTunnelIf, packet, false).retval, kTcActShot);
    ev = drain();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].hook, NT_MON_HOOK_TC);
    EXPECT_EQ(ev[0].reason, uint32_t{NT_DROP_UNKNOWN_VNI});
    EXPECT_TRUE(same_frame(ev[0].data, head));
    EXPECT_EQ(counts().emitted, 2u);
}

TEST_F(MonitorRoute, RoutingErrorsShowThePacketAsItCameNotTheIcmpError) {
    // TTL 1 to another network: counted as ttl-exceeded, answered with an
    // ICMP error made of the same skb. The event holds the packet as sent.
    configure(on());
    const auto &a1 = port("a1"), &gw = port("r1-a");
    Tins::IP ip(port("b1").ip, a1.ip);
    ip.ttl(1);
    Bytes frame = bytes(Tins::EthernetII(gw.mac, a1.mac) / ip / Tins::UDP(5000, 5001) / Tins::RawPDU("ttl"));
    RunResult r = ingress("a1", frame, false);
    EXPECT_EQ(r.retval, kTcActRedirect) << describe(r) << " (the error goes back to a1)";
    EXPECT_FALSE(same_frame(r.out, frame)) << "the skb became the ICMP error";
    auto ev = drain();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].reason, uint32_t{NT_DROP_TTL_EXCEEDED});
    EXPECT_EQ(ev[0].ifindex, a1.ifindex);
    EXPECT_TRUE(same_frame(ev[0].data, frame));

    // No neighbour yet for a host on a connected subnet: host unreachable,
    // also the packet as sent.
    Bytes unknown = udp(a1.mac, gw.mac, a1.ip, Ip("10.2.0.99"));
    EXPECT_EQ(ingress("a1", unknown, false).retval, kTcActRedirect);
    ev = drain();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].reason, uint32_t{NT_DROP_NO_NEIGHBOUR});
    EXPECT_TRUE(same_frame(ev[0].data, unknown));
}

}  // namespace
}  // namespace nt_test
