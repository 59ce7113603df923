// `neutrino monitor`'s pure part: records, packet decoding, filters, output,
// and the per-CPU share of the rate limit.
#include <gtest/gtest.h>

#include <cstring>

#include "maps/monitor_event.hpp"
#include "neutrino/drop_reasons.h"

namespace neutrino {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes eth(uint16_t type) {
    Bytes b = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1};
    b.push_back(static_cast<uint8_t>(type >> 8));
    b.push_back(static_cast<uint8_t>(type));
    return b;
}

// IPv4 header (no options) + 4 bytes of L4: ports or ICMP type/code.
Bytes ipv4(uint8_t proto, uint32_t src, uint32_t dst, uint16_t a, uint16_t b, uint16_t frag = 0) {
    Bytes f = eth(0x0800);
    Bytes ip = {0x45, 0, 0, 24, 0, 1, static_cast<uint8_t>(frag >> 8), static_cast<uint8_t>(frag), 64, proto, 0, 0};
    for (uint32_t v : {src, dst})
        for (int s = 24; s >= 0; s -= 8) ip.push_back(static_cast<uint8_t>(v >> s));
    f.insert(f.end(), ip.begin(), ip.end());
    for (uint16_t v : {a, b}) {
        f.push_back(static_cast<uint8_t>(v >> 8));
        f.push_back(static_cast<uint8_t>(v));
    }
    return f;
}

constexpr uint32_t k10_0_0_1 = 0x0a000001, k10_0_0_2 = 0x0a000002;

TEST(MonitorDecode, Ipv4UdpFiveTuple) {
    Bytes f = ipv4(17, k10_0_0_1, k10_0_0_2, 40000, 53);
    auto p = decode_packet(f.data(), f.size());
    ASSERT_TRUE(p.ip);
    EXPECT_EQ(p.src.str(), "10.0.0.1");
    EXPECT_EQ(p.dst.str(), "10.0.0.2");
    EXPECT_EQ(p.proto, 17);
    ASSERT_TRUE(p.ports);
    EXPECT_EQ(p.sport, 40000);
    EXPECT_EQ(p.dport, 53);
    EXPECT_EQ(p.src_mac.str(), "02:00:00:00:00:01");
    EXPECT_EQ(flow_text(p), "udp 10.0.0.1:40000 -> 10.0.0.2:53");
}

TEST(MonitorDecode, IcmpTypeAndCode) {
    Bytes f = ipv4(1, k10_0_0_1, k10_0_0_2, 0x0800, 0);
    auto p = decode_packet(f.data(), f.size());
    EXPECT_TRUE(p.icmp);
    EXPECT_FALSE(p.ports);
    EXPECT_EQ(flow_text(p), "icmp 10.0.0.1 -> 10.0.0.2 type 8 code 0");
}

TEST(MonitorDecode, NonFirstFragmentHasNoPorts) {
    Bytes f = ipv4(17, k10_0_0_1, k10_0_0_2, 1, 2, 0x0010);
    auto p = decode_packet(f.data(), f.size());
    EXPECT_TRUE(p.fragment);
    EXPECT_FALSE(p.ports);
    EXPECT_EQ(flow_text(p), "udp 10.0.0.1 -> 10.0.0.2 fragment");
}

TEST(MonitorDecode, VlanTagThenIpv6Tcp) {
    Bytes f = eth(0x8100);
    f.insert(f.end(), {0x00, 0x64, 0x86, 0xdd});  // VLAN 100, then IPv6
    Bytes ip6(40, 0);
    ip6[0] = 0x60;
    ip6[6] = 6;  // TCP
    ip6[8] = 0xfd;
    ip6[23] = 1;  // fd00::1
    ip6[24] = 0xfd;
    ip6[39] = 2;  // fd00::2
    f.insert(f.end(), ip6.begin(), ip6.end());
    f.insert(f.end(), {0x30, 0x39, 0x00, 0x16});  // 12345 -> 22
    auto p = decode_packet(f.data(), f.size());
    ASSERT_EQ(p.vlans, std::vector<uint16_t>{100});
    ASSERT_TRUE(p.ip);
    EXPECT_EQ(flow_text(p), "tcp [fd00::1]:12345 -> [fd00::2]:22");
}

TEST(MonitorDecode, ArpRequest) {
    Bytes f = eth(0x0806);
    Bytes arp = {0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2};
    f.insert(f.end(), arp.begin(), arp.end());
    auto p = decode_packet(f.data(), f.size());
    ASSERT_TRUE(p.arp);
    EXPECT_EQ(flow_text(p), "arp request 10.0.0.1 -> 10.0.0.2");
}

TEST(MonitorDecode, TruncatedSnapshotsDecodeWhatTheyHold) {
    Bytes f = ipv4(6, k10_0_0_1, k10_0_0_2, 1, 2);
    for (size_t n = 0; n <= f.size(); n++) {
        auto p = decode_packet(f.data(), n);  // must never read past n
        EXPECT_EQ(p.eth, n >= 14) << n;
        EXPECT_EQ(p.ip, n >= 34) << n;
        EXPECT_EQ(p.ports, n >= 38) << n;
    }
    Bytes other = eth(0x88cc);
    EXPECT_EQ(flow_text(decode_packet(other.data(), other.size())), "ethertype 0x88cc");
}

TEST(MonitorEventRecord, ParsesAndRejectsBadRecords) {
    nt_mon_event raw{};
    raw.ts_ns = 5;
    raw.kind = NT_MON_DROP;
    raw.reason = NT_DROP_SG_NO_MATCH;
    raw.ifindex = 7;
    raw.pkt_len = 60;
    raw.cap_len = 60;
    raw.hook = NT_MON_HOOK_TC;
    raw.data[0] = 0xaa;
    auto e = parse_monitor_event(&raw, sizeof raw);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->reason, uint32_t{NT_DROP_SG_NO_MATCH});
    EXPECT_EQ(e->data.size(), 60u);
    EXPECT_EQ(e->data[0], 0xaa);
    EXPECT_FALSE(parse_monitor_event(&raw, sizeof raw - 1)) << "wrong size";
    raw.cap_len = NT_MON_SNAPLEN + 1;
    raw.pkt_len = 1000;
    EXPECT_FALSE(parse_monitor_event(&raw, sizeof raw)) << "cap_len beyond the snapshot";
    raw.cap_len = 61;
    raw.pkt_len = 60;
    EXPECT_FALSE(parse_monitor_event(&raw, sizeof raw)) << "more captured than the packet had";
}

MonitorEvent event_of(const Bytes& f, uint32_t reason, uint32_t ifindex) {
    MonitorEvent e;
    e.kind = NT_MON_DROP;
    e.reason = reason;
    e.ifindex = ifindex;
    e.pkt_len = static_cast<uint32_t>(f.size());
    e.hook = NT_MON_HOOK_TC;
    e.data = f;
    return e;
}

TEST(MonitorFilter, PortReasonAndAddress) {
    Bytes f = ipv4(17, k10_0_0_1, k10_0_0_2, 1, 2);
    MonitorEvent e = event_of(f, NT_DROP_SPOOFED_IP, 7);
    auto p = decode_packet(f.data(), f.size());
    EXPECT_TRUE(MonitorFilter{}.matches(e, p)) << "no filter: everything";

    MonitorFilter by_if;
    by_if.ifindex = 7;
    EXPECT_TRUE(by_if.matches(e, p));
    by_if.ifindex = 8;
    EXPECT_FALSE(by_if.matches(e, p));

    MonitorFilter by_reason;
    by_reason.reasons = 1ull << NT_DROP_SG_NO_MATCH;
    EXPECT_FALSE(by_reason.matches(e, p));
    by_reason.reasons |= 1ull << NT_DROP_SPOOFED_IP;
    EXPECT_TRUE(by_reason.matches(e, p));

    MonitorFilter by_addr;
    by_addr.addrs = {*Cidr::parse("10.0.0.2/32")};
    EXPECT_TRUE(by_addr.matches(e, p)) << "destination matches";
    by_addr.addrs = {*Cidr::parse("10.0.0.0/24")};
    EXPECT_TRUE(by_addr.matches(e, p)) << "a CIDR covering either end";
    by_addr.addrs = {*Cidr::parse("10.0.1.0/24"), *Cidr::parse("192.168.0.0/16")};
    EXPECT_FALSE(by_addr.matches(e, p));
    Bytes other = eth(0x88cc);
    EXPECT_FALSE(by_addr.matches(event_of(other, 1, 7), decode_packet(other.data(), other.size())))
        << "an address filter drops packets without addresses";
}

TEST(MonitorFilter, ReasonNamesAndNumbers) {
    EXPECT_EQ(parse_drop_reason("spoofed-ip"), uint32_t{NT_DROP_SPOOFED_IP});
    EXPECT_EQ(parse_drop_reason("8"), uint32_t{NT_DROP_SG_NO_MATCH});
    EXPECT_FALSE(parse_drop_reason("none")) << "reason 0 is never a drop";
    EXPECT_FALSE(parse_drop_reason("0"));
    EXPECT_FALSE(parse_drop_reason("bogus"));
    EXPECT_FALSE(parse_drop_reason("999"));
    EXPECT_LE(int{NT_DROP_MAX}, 64) << "nt_mon_config.reasons has one bit per reason";
}

TEST(MonitorOutput, TextAndJsonNameThePortAndFlow) {
    Bytes f = ipv4(6, k10_0_0_1, k10_0_0_2, 40000, 22);
    MonitorEvent e = event_of(f, NT_DROP_SG_NO_MATCH, 7);
    MonitorNames names{{7, {"tapaaaa", "aaaa-1111", "vm1", "nnnn-2222", "red"}}};
    auto p = decode_packet(f.data(), f.size());
    const uint64_t wall = 1795430701123456789ull;  // 2026-11-23T...
    std::string t = monitor_event_text(e, p, names, wall);
    EXPECT_EQ(t, utc_timestamp(wall) + " drop sg-no-match port vm1 (tapaaaa) net red tcp 10.0.0.1:40000 -> "
                                       "10.0.0.2:22 len " + std::to_string(f.size()));
    EXPECT_EQ(utc_timestamp(0), "1970-01-01T00:00:00.000000Z");
    auto j = monitor_event_json(e, p, names, wall);
    EXPECT_EQ(j["reason"], "sg-no-match");
    EXPECT_EQ(j["port"], "aaaa-1111");
    EXPECT_EQ(j["network_name"], "red");
    EXPECT_EQ(j["src"], "10.0.0.1");
    EXPECT_EQ(j["dport"], 22);
    EXPECT_EQ(j["proto"], "tcp");
    EXPECT_EQ(monitor_event_text(e, p, {}, wall).find("ifindex 7") != std::string::npos, true);
}

TEST(MonitorLimit, PerCpuShareNeverExceedsTheTotal) {
    auto l = monitor_limit(1000, 100, 2);
    EXPECT_EQ(l.interval_ns, 2000000u) << "500 events/s per CPU";
    EXPECT_EQ(l.burst, 50u);
    l = monitor_limit(3, 1, 4);
    EXPECT_EQ(l.interval_ns, 1333333334u) << "rounded up: 4 CPUs together stay below 3/s";
    EXPECT_EQ(l.burst, 1u) << "at least one";
    EXPECT_EQ(monitor_limit(1e7, 5, 1).interval_ns, 100u);
}

}  // namespace
}  // namespace neutrino
