// The pure half of `neutrino trace`: the packet builder, the decoder and the
// text/JSON renderings of a result.
#include <gtest/gtest.h>

#include "maps/drop_reasons.hpp"
#include "maps/trace.hpp"

using namespace neutrino;

namespace {

PacketSpec tcp_spec() {
    PacketSpec s;
    s.src_mac = *MacAddr::parse("fa:16:3e:10:00:01");
    s.dst_mac = *MacAddr::parse("fa:16:3e:aa:00:01");
    s.src = *IpAddr::parse("10.1.0.11");
    s.dst = *IpAddr::parse("10.2.0.12");
    s.proto = 6;
    s.sport = 40000;
    s.dport = 22;
    return s;
}

const Layer& layer(const std::vector<Layer>& ls, const std::string& proto, int nth = 0) {
    for (const auto& l : ls)
        if (l.proto == proto && nth-- == 0) return l;
    throw std::runtime_error("no layer " + proto);
}

}  // namespace

TEST(TracePacket, TcpSynHasValidChecksumsAndFields) {
    Frame f = build_frame(tcp_spec());
    ASSERT_EQ(f.size(), 14u + 20 + 20);
    auto ls = decode_frame(f);
    ASSERT_EQ(ls.size(), 3u);
    EXPECT_EQ(layer(ls, "eth").get("src"), "fa:16:3e:10:00:01");
    EXPECT_EQ(layer(ls, "eth").get("dst"), "fa:16:3e:aa:00:01");
    EXPECT_EQ(layer(ls, "ipv4").get("src"), "10.1.0.11");
    EXPECT_EQ(layer(ls, "ipv4").get("dst"), "10.2.0.12");
    EXPECT_EQ(layer(ls, "ipv4").get("ttl"), "64");
    EXPECT_EQ(layer(ls, "ipv4").get("df"), "1");
    EXPECT_EQ(layer(ls, "ipv4").get("csum"), "ok");
    EXPECT_EQ(layer(ls, "tcp").get("flags"), "S");
    EXPECT_EQ(layer(ls, "tcp").get("dport"), "22");
    EXPECT_EQ(layer(ls, "tcp").get("csum"), "ok");
}

TEST(TracePacket, UdpAndIcmpChecksums) {
    PacketSpec s = tcp_spec();
    s.proto = 17;
    s.dport = 53;
    s.payload = 3;  // odd length: the checksum pads
    auto ls = decode_frame(build_frame(s));
    EXPECT_EQ(layer(ls, "udp").get("csum"), "ok");
    EXPECT_EQ(layer(ls, "udp").get("len"), "11");
    s.proto = 1;
    s.sport = 7;
    ls = decode_frame(build_frame(s));
    EXPECT_EQ(layer(ls, "icmp").get("type"), "8");
    EXPECT_EQ(layer(ls, "icmp").get("id"), "7");
    EXPECT_EQ(layer(ls, "icmp").get("csum"), "ok");
}

TEST(TracePacket, CorruptedChecksumsAreShown) {
    Frame f = build_frame(tcp_spec());
    f[14 + 8] = 63;  // TTL changed without fixing the checksum
    auto ls = decode_frame(f);
    EXPECT_EQ(layer(ls, "ipv4").get("csum"), "bad");
    EXPECT_EQ(layer(ls, "tcp").get("csum"), "ok");  // the pseudo-header has no TTL
    f = build_frame(tcp_spec());
    f.back() ^= 1;
    EXPECT_EQ(layer(decode_frame(f), "tcp").get("csum"), "bad");
}

TEST(TracePacket, RefusesWhatItCannotBuild) {
    PacketSpec s = tcp_spec();
    s.dst = *IpAddr::parse("2001:db8::1");
    EXPECT_THROW(build_frame(s), std::invalid_argument);
    s = tcp_spec();
    s.proto = 132;
    EXPECT_THROW(build_frame(s), std::invalid_argument);
    EXPECT_THROW(proto_number("sctp"), std::invalid_argument);
    EXPECT_EQ(proto_number("udp"), 17);
}

TEST(TracePacket, VxlanAndGreDecodeToTheInnerFrame) {
    Frame inner = build_frame(tcp_spec());
    OuterSpec o;
    o.src_mac = *MacAddr::parse("02:00:00:00:00:02");
    o.dst_mac = *MacAddr::parse("02:00:00:00:00:03");
    o.src = *IpAddr::parse("192.0.2.12");
    o.dst = *IpAddr::parse("192.0.2.11");
    o.type = NT_NET_VXLAN;
    o.seg_id = 3001;
    auto ls = decode_frame(encapsulate(o, inner));
    EXPECT_EQ(layer(ls, "ipv4", 0).get("src"), "192.0.2.12");
    EXPECT_EQ(layer(ls, "ipv4", 0).get("csum"), "ok");
    EXPECT_EQ(layer(ls, "udp").get("dport"), "4789");
    EXPECT_EQ(layer(ls, "vxlan").get("vni"), "3001");
    EXPECT_EQ(layer(ls, "eth", 1).get("src"), "fa:16:3e:10:00:01");
    EXPECT_EQ(layer(ls, "tcp").get("csum"), "ok");
    o.type = NT_NET_GRE;
    o.seg_id = 3002;
    ls = decode_frame(encapsulate(o, inner));
    EXPECT_EQ(layer(ls, "gre").get("key"), "3002");
    EXPECT_EQ(layer(ls, "gre").get("ethertype"), "0x6558");
    EXPECT_EQ(layer(ls, "ipv4", 1).get("dst"), "10.2.0.12");
    // An inner frame starts a line of its own in the text form.
    std::string text = layers_text(ls);
    EXPECT_NE(text.find("gre ethertype 0x6558 key 3002\neth fa:16:3e:10:00:01 > fa:16:3e:aa:00:01"), std::string::npos)
        << text;
}

TEST(TracePacket, TruncatedFramesSayWhere) {
    Frame f = build_frame(tcp_spec());
    f.resize(14 + 10);
    auto ls = decode_frame(f);
    EXPECT_EQ(ls.back().proto, "truncated");
    EXPECT_EQ(ls.back().get("at"), "ipv4");
    EXPECT_EQ(decode_frame(Frame(5)).back().get("at"), "ethernet");
}

namespace {

TraceResult denied_result() {
    TraceResult r;
    TraceStage a;
    a.host = "compute-1";
    a.program = "tap_ingress";
    a.interface = "tapa1";
    a.port = "a1";
    a.verdict = NT_VERDICT_REDIRECT;
    a.target = 5;
    a.target_name = "tapb1 (port b1)";
    a.policy = NT_TRACE_POLICY_NEW;
    a.rule_tag = 7;
    a.rule_id = "rt-egress";
    a.rule_group = "open";
    a.rule_desc = "egress IPv4 any to any";
    a.in = build_frame(tcp_spec());
    a.out = a.in;
    a.out[14 + 8] = 63;
    a.notes = {"routed by router router-1"};
    TraceStage b;
    b.host = "compute-1";
    b.program = "tap_egress";
    b.interface = "tapb1";
    b.port = "b1";
    b.verdict = NT_VERDICT_DROP;
    b.reason = NT_DROP_SG_NO_MATCH;
    b.in = a.out;
    b.out = b.in;
    r.stages = {a, b};
    r.outcome = "dropped";
    r.summary = "no security-group rule of port b1 allows it";
    return r;
}

}  // namespace

TEST(TraceFormat, TextNamesStagesRuleVerdictAndResult) {
    std::string t = trace_text(denied_result());
    EXPECT_NE(t.find("1. compute-1: tap_ingress on tapa1 (port a1)\n"), std::string::npos) << t;
    EXPECT_NE(t.find("   security groups: new flow, admitted by rule rt-egress (group open: egress IPv4 any to any)\n"),
              std::string::npos) << t;
    EXPECT_NE(t.find("   verdict: redirect -> tapb1 (port b1)\n"), std::string::npos) << t;
    EXPECT_NE(t.find("   note: routed by router router-1\n"), std::string::npos) << t;
    EXPECT_NE(t.find("ttl 63"), std::string::npos) << t;
    EXPECT_NE(t.find("2. compute-1: tap_egress on tapb1 (port b1)\n   verdict: drop (sg-no-match)\n"), std::string::npos)
        << t;
    EXPECT_NE(t.find("result: dropped: no security-group rule of port b1 allows it\n"), std::string::npos) << t;
}

TEST(TraceFormat, JsonCarriesEveryStage) {
    auto j = trace_json(denied_result());
    ASSERT_EQ(j["stages"].size(), 2u);
    EXPECT_EQ(j["outcome"], "dropped");
    EXPECT_EQ(j["stages"][0]["verdict"], "redirect");
    EXPECT_EQ(j["stages"][0]["policy"], "new");
    EXPECT_EQ(j["stages"][0]["rule"]["id"], "rt-egress");
    EXPECT_EQ(j["stages"][0]["rule"]["tag"], 7);
    EXPECT_EQ(j["stages"][0]["out"][1]["ttl"], "63");
    EXPECT_EQ(j["stages"][0]["out"][1]["proto"], "ipv4");  // the header's own field does not overwrite it
    EXPECT_EQ(j["stages"][0]["out"][1]["protocol"], "tcp");
    EXPECT_EQ(j["stages"][1]["reason"], "sg-no-match");
    EXPECT_TRUE(j["stages"][1]["rule"].is_null());
    EXPECT_EQ(j["stages"][1]["policy"], "none");
}
