// The DHCP server of tap_ingress (bpf/lib/dhcp.h), run with BPF_PROG_TEST_RUN
// on the real object: the OFFER, ACK and NAK bytes (options included), the
// RFC 2131 addressing of replies, the requests it leaves alone, malformed
// requests and the counters. Expected frames are built with libtins from
// what the state means (the oracle), not from the compiled option bytes.
#include <gtest/gtest.h>
#include <tins/dhcp.h>
#include <tins/exceptions.h>

#include <cstdlib>

#include "fixture.hpp"
#include "frames.hpp"
#include "loader/links.hpp"
#include "maps/bpf_map.hpp"
#include "maps/bpf_map_store.hpp"
#include "maps/compile_dhcp.hpp"
#include "maps/diff.hpp"

namespace nt_test {
namespace {

using Tins::DHCP;

const Ip kAny{"0.0.0.0"};
const Ip kAll{"255.255.255.255"};
const Mac kRedServerMac{"02:4e:54:c1:05:50"};   // red's network MAC: 02:4e:54 + FNV-1a of its id
const Ip kRedServer{"10.0.0.253"};              // red's highest free address (.254 is a next hop)
const Mac kBlueServerMac{"fa:16:3e:0d:02:fd"};  // blue's Neutron DHCP port
constexpr uint32_t kXid = 0x3903f326;

// ---- frames -------------------------------------------------------------------

// A client's request, as dhclient or udhcpc would send it.
struct Request {
    uint8_t type = DHCP::DISCOVER;
    Mac src_mac;           // Ethernet source (the VM)
    Mac chaddr;            // defaults to src_mac
    Mac dst_mac = kBroadcast;
    Ip src = kAny, dst = kAll;
    Ip ciaddr = kAny, giaddr = kAny;
    bool broadcast_flag = false;
    std::optional<Ip> requested, server;
    size_t pad_to = 0;     // DHCP message padded with zeros after END (real clients send 300 bytes)
};

Bytes request(const Request& r) {
    DHCP d;
    d.xid(kXid);
    d.padding(r.broadcast_flag ? 0x8000 : 0);
    d.ciaddr(r.ciaddr);
    d.giaddr(r.giaddr);
    d.chaddr(r.chaddr == Mac() ? r.src_mac : r.chaddr);
    d.type(static_cast<DHCP::Flags>(r.type));
    if (r.requested) d.requested_ip(*r.requested);
    if (r.server) d.server_identifier(*r.server);
    d.end();
    Tins::EthernetII eth = Tins::EthernetII(r.dst_mac, r.src_mac) / Tins::IP(r.dst, r.src) / Tins::UDP(67, 68) / d;
    if (r.pad_to > d.size()) eth /= Tins::RawPDU(Bytes(r.pad_to - d.size(), 0));
    return bytes(eth);
}

Request discover(const TestPort& p) {
    Request r;
    r.src_mac = p.mac;
    return r;
}

// A reply as the server must send it: a 548-byte DHCP message (576-byte
// datagram), options in the documented order, zero-filled after END.
struct Reply {
    uint8_t type = DHCP::OFFER;
    Mac dst_mac, server_mac;
    Ip dst, server;
    Ip ciaddr = kAny, yiaddr = kAny;
    bool broadcast_flag = false;
    Mac chaddr;
    bool lease = true;  // options 51/58/59 (not in a NAK nor in the ACK to an INFORM)
    std::vector<DHCP::option> options;  // after the lease options
};

DHCP::option opt(int code, Bytes value) {
    return DHCP::option(static_cast<DHCP::OptionTypes>(code), value.begin(), value.end());
}
Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

Bytes reply(const Reply& r) {
    DHCP d;
    d.opcode(Tins::BootP::BOOTREPLY);
    d.xid(kXid);
    d.padding(r.broadcast_flag ? 0x8000 : 0);
    d.ciaddr(r.ciaddr);
    d.yiaddr(r.yiaddr);
    d.chaddr(r.chaddr);
    d.type(static_cast<DHCP::Flags>(r.type));
    d.server_identifier(r.server);
    if (r.type != DHCP::NAK) {
        if (r.lease) {
            d.lease_time(86400);
            d.renewal_time(43200);
            d.rebind_time(75600);
        } else {
            for (int i = 0; i < 9; i++) d.add_option(DHCP::option(DHCP::PAD));  // 18 bytes of PAD
        }
        for (const auto& o : r.options) d.add_option(o);
    }
    d.end();
    Tins::IP ip(r.dst, r.server);
    ip.ttl(64);
    ip.id(0);
    Tins::EthernetII eth = Tins::EthernetII(r.dst_mac, r.server_mac) / ip / Tins::UDP(68, 67) / d;
    // Zero fill to 548 bytes (libtins writes END as "ff 00": the 00 is a PAD).
    eth /= Tins::RawPDU(Bytes(NT_DHCP_MSG_LEN - d.size(), 0));
    return bytes(eth);
}

// What the state says red ports get after the lease options.
std::vector<DHCP::option> red_options(const std::optional<std::string>& host, const std::optional<std::string>& domain) {
    std::vector<DHCP::option> o = {
        opt(1, {255, 255, 255, 0}),
        opt(3, {10, 0, 0, 1}),
        opt(28, {10, 0, 0, 255}),
        opt(26, {0x05, 0xaa}),  // mtu 1450
        // host route 192.168.100.0/24 via 10.0.0.254, then 0.0.0.0/0 via the gateway
        opt(121, {24, 192, 168, 100, 10, 0, 0, 254, 0, 10, 0, 0, 1}),
        opt(6, {10, 0, 0, 53, 1, 1, 1, 1}),
    };
    if (host) o.push_back(opt(12, text(*host)));
    if (domain) o.push_back(opt(15, text(*domain)));
    return o;
}

// Independent checks of the IPv4 header and UDP checksums of a frame.
uint32_t sum16(const uint8_t* p, size_t n, uint32_t s = 0) {
    for (size_t i = 0; i + 1 < n; i += 2) s += uint32_t(p[i]) << 8 | p[i + 1];
    if (n & 1) s += uint32_t(p[n - 1]) << 8;
    return s;
}
uint16_t fold(uint32_t s) {
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return uint16_t(s);
}
::testing::AssertionResult checksums_ok(const Bytes& f) {
    if (f.size() < 42) return ::testing::AssertionFailure() << "frame too short";
    const uint8_t* ip = f.data() + 14;
    size_t ihl = (ip[0] & 15) * 4u;
    if (fold(sum16(ip, ihl)) != 0xffff) return ::testing::AssertionFailure() << "bad IPv4 header checksum";
    size_t udp_len = size_t(ip[ihl + 4]) << 8 | ip[ihl + 5];
    uint32_t s = sum16(ip + 12, 8) + 17 + uint32_t(udp_len);
    s = sum16(ip + ihl, udp_len, s);
    if (fold(s) != 0xffff) return ::testing::AssertionFailure() << "bad UDP checksum";
    if (ip[ihl + 6] == 0 && ip[ihl + 7] == 0) return ::testing::AssertionFailure() << "UDP checksum missing";
    return ::testing::AssertionSuccess();
}

// The DHCP message of a reply, parsed by libtins.
DHCP parse_dhcp(const Bytes& f) {
    const size_t off = 14 + 20 + 8;
    if (f.size() < off + NT_DHCP_REQ_MIN) throw std::runtime_error("no DHCP message in the frame");
    return DHCP(f.data() + off, static_cast<uint32_t>(f.size() - off));
}

// The DHCP message of a libtins request: ... 53 1 <type> ff 00.
Bytes message_of(const Bytes& frame) { return Bytes(frame.begin() + 42, frame.end()); }

Bytes frame_with_message(const TestPort& from, const Bytes& message) {
    return bytes(Tins::EthernetII(kBroadcast, from.mac) / Tins::IP(kAll, kAny) / Tins::UDP(67, 68) /
                 Tins::RawPDU(message));
}

// ---- fixture ------------------------------------------------------------------

class DhcpServer : public ::testing::Test {
protected:
    void SetUp() override {
        state_ = neutrino::load_state_file(NT_FIXTURES "/dhcp-packet.json");
        for (const auto& p : state_.ports) {
            if (p.host_id != "h1") continue;
            TestPort tp;
            tp.name = p.name;
            tp.tap = p.interface_name;
            tp.peer = "p-" + p.interface_name.substr(2);
            std::copy(p.mac_address.b.begin(), p.mac_address.b.end(), tp.mac.begin());
            tp.ip = Ip(p.fixed_ips.at(0).ip_address.str());
            neutrino::create_veth(tp.tap, tp.peer, -1, p.mac_address);
            veths_.push_back(tp.tap);
            neutrino::set_link_up(tp.tap);
            neutrino::set_link_up(tp.peer);
            ports_[tp.name] = tp;
        }
        dp_ = neutrino::Datapath::load(std::nullopt);
        neutrino::CompileInput in;
        in.host = "h1";
        in.ifindex_by_name = neutrino::list_interfaces();
        compiled_ = neutrino::compile(state_, in);
        ASSERT_TRUE(compiled_.pending_ports.empty());
        for (const auto& lp : compiled_.local_ports) {
            auto& tp = ports_.at(state_.find_port(lp.port_id)->name);
            tp.ifindex = lp.ifindex;
            tp.port_tag = lp.port_tag;
        }
        neutrino::BpfMapStore store(dp_->maps());
        store.apply(neutrino::diff({}, compiled_.entries));
    }

    void TearDown() override {
        dp_.reset();
        for (const auto& name : veths_) neutrino::delete_link(name);
    }

    const TestPort& port(const std::string& name) const { return ports_.at(name); }
    RunResult ingress(const std::string& name, const Bytes& frame, bool trace) {
        return run(dp_->tap_ingress_fd(), frame, port(name).ifindex, trace);
    }

    // The reply tap_ingress sends back out of the asker's tap, in trace
    // mode (checked) and for real (the same bytes).
    Bytes answer(const std::string& name, const Bytes& req) {
        RunResult t = ingress(name, req, true);
        EXPECT_EQ(t.retval, kTcActRedirect) << describe(t);
        EXPECT_EQ(t.cb.verdict, NT_VERDICT_REPLY) << describe(t);
        EXPECT_EQ(t.cb.target, port(name).ifindex) << "the reply goes back out of the asker's tap";
        RunResult r = ingress(name, req, false);
        EXPECT_EQ(r.retval, kTcActRedirect) << describe(r);
        EXPECT_TRUE(same_frame(r.out, t.out)) << "trace mode must build the same reply";
        EXPECT_TRUE(checksums_ok(r.out));
        return r.out;
    }

    // Not answered: the frame goes on, byte for byte, as any other would.
    void expect_not_answered(const std::string& name, const Bytes& req, uint32_t verdict) {
        RunResult t = ingress(name, req, true);
        EXPECT_EQ(t.cb.verdict, verdict) << describe(t);
        EXPECT_TRUE(same_frame(t.out, req)) << "an unanswered request must go on unchanged";
    }

    void expect_malformed(const std::string& name, const Bytes& req, uint32_t reason = NT_DROP_DHCP_MALFORMED) {
        RunResult t = ingress(name, req, true);
        EXPECT_EQ(t.retval, kTcActShot) << describe(t);
        EXPECT_EQ(t.cb.verdict, NT_VERDICT_DROP) << describe(t);
        EXPECT_EQ(t.cb.reason, reason) << describe(t);
        uint64_t before = drops(reason);
        RunResult r = ingress(name, req, false);
        EXPECT_EQ(r.retval, kTcActShot) << describe(r);
        EXPECT_EQ(drops(reason), before + 1);
    }

    nt_dhcp_stats dhcp_stats(uint32_t key) const {
        neutrino::BpfMap<__u32, nt_dhcp_stats> m(dp_->map_fd(neutrino::kDhcpStatsMap), neutrino::kDhcpStatsMap);
        return m.lookup(key).value_or(nt_dhcp_stats{});
    }
    uint64_t drops(uint32_t reason) const {
        neutrino::PerCpuBpfMap<__u32, nt_counter> m(dp_->map_fd(neutrino::kMapDropStats), neutrino::kMapDropStats);
        return sum_counters(m.lookup(reason)).packets;
    }

    neutrino::State state_;
    neutrino::CompileResult compiled_;
    std::unique_ptr<neutrino::Datapath> dp_;
    std::map<std::string, TestPort> ports_;
    std::vector<std::string> veths_;
};

// ---- OFFER, ACK, NAK ------------------------------------------------------------

TEST_F(DhcpServer, DiscoverGetsAnOfferWithEveryOptionOfTheState) {
    const auto& red1 = port("red1");
    Bytes got = answer("red1", request(discover(red1)));
    Reply want;
    want.type = DHCP::OFFER;
    want.dst_mac = red1.mac;  // no broadcast flag: unicast to chaddr / yiaddr
    want.dst = red1.ip;
    want.server_mac = kRedServerMac;
    want.server = kRedServer;
    want.yiaddr = red1.ip;
    want.chaddr = red1.mac;
    want.options = red_options("red1", "example.org");
    EXPECT_TRUE(same_frame(got, reply(want)));

    DHCP d = parse_dhcp(got);  // and as a DHCP library reads it
    EXPECT_EQ(d.type(), DHCP::OFFER);
    EXPECT_EQ(d.yiaddr(), red1.ip);
    EXPECT_EQ(d.subnet_mask(), Ip("255.255.255.0"));
    EXPECT_EQ(d.routers(), std::vector<Ip>{Ip("10.0.0.1")});
    EXPECT_EQ(d.domain_name_servers(), (std::vector<Ip>{Ip("10.0.0.53"), Ip("1.1.1.1")}));
    EXPECT_EQ(d.lease_time(), 86400u);
    EXPECT_EQ(d.server_identifier(), kRedServer);
    EXPECT_EQ(d.hostname(), "red1");
    EXPECT_EQ(d.domain_name(), "example.org");
}

TEST_F(DhcpServer, BroadcastFlagGetsABroadcastOffer) {
    const auto& red2 = port("red2");
    Request r = discover(red2);
    r.broadcast_flag = true;
    r.pad_to = 300;  // as dhclient pads it
    Reply want;
    want.type = DHCP::OFFER;
    want.dst_mac = kBroadcast;
    want.dst = kAll;
    want.broadcast_flag = true;
    want.server_mac = kRedServerMac;
    want.server = kRedServer;
    want.yiaddr = red2.ip;
    want.chaddr = red2.mac;
    want.options = red_options("red2", std::nullopt);
    EXPECT_TRUE(same_frame(answer("red2", request(r)), reply(want)));
}

TEST_F(DhcpServer, RequestForThePortsAddressGetsAnAck) {
    const auto& red1 = port("red1");
    Request r = discover(red1);
    r.type = DHCP::REQUEST;  // SELECTING: server id and requested address
    r.server = kRedServer;
    r.requested = red1.ip;
    Reply want;
    want.type = DHCP::ACK;
    want.dst_mac = red1.mac;
    want.dst = red1.ip;
    want.server_mac = kRedServerMac;
    want.server = kRedServer;
    want.yiaddr = red1.ip;
    want.chaddr = red1.mac;
    want.options = red_options("red1", "example.org");
    EXPECT_TRUE(same_frame(answer("red1", request(r)), reply(want)));
}

TEST_F(DhcpServer, InitRebootRequestIsAcked) {
    const auto& red1 = port("red1");
    Request r = discover(red1);
    r.type = DHCP::REQUEST;  // INIT-REBOOT: requested address, no server id
    r.requested = red1.ip;
    r.broadcast_flag = true;
    Bytes got = answer("red1", request(r));
    DHCP d = parse_dhcp(got);
    EXPECT_EQ(d.type(), DHCP::ACK);
    EXPECT_EQ(d.yiaddr(), red1.ip);
    EXPECT_EQ(d.ciaddr(), kAny);
    Tins::EthernetII eth(got.data(), static_cast<uint32_t>(got.size()));
    EXPECT_EQ(eth.dst_addr(), kBroadcast) << "ciaddr 0, broadcast flag: broadcast (RFC 2131 4.1)";
    EXPECT_EQ(eth.rfind_pdu<Tins::IP>().dst_addr(), kAll);
}

TEST_F(DhcpServer, RenewalIsAckedByUnicastToCiaddr) {
    const auto& red1 = port("red1");
    Request r;
    r.type = DHCP::REQUEST;  // RENEWING: unicast to the server, ciaddr set, no option 50/54
    r.src_mac = red1.mac;
    r.dst_mac = kRedServerMac;
    r.src = red1.ip;
    r.dst = kRedServer;
    r.ciaddr = red1.ip;
    Reply want;
    want.type = DHCP::ACK;
    want.dst_mac = red1.mac;
    want.dst = red1.ip;
    want.server_mac = kRedServerMac;
    want.server = kRedServer;
    want.ciaddr = red1.ip;
    want.yiaddr = red1.ip;
    want.chaddr = red1.mac;
    want.options = red_options("red1", "example.org");
    EXPECT_TRUE(same_frame(answer("red1", request(r)), reply(want)));
}

TEST_F(DhcpServer, RebindingBroadcastIsAckedToCiaddr) {
    const auto& red1 = port("red1");
    Request r;
    r.type = DHCP::REQUEST;  // REBINDING: broadcast, ciaddr set
    r.src_mac = red1.mac;
    r.src = red1.ip;
    r.ciaddr = red1.ip;
    r.broadcast_flag = true;
    Bytes got = answer("red1", request(r));
    DHCP d = parse_dhcp(got);
    EXPECT_EQ(d.type(), DHCP::ACK);
    Tins::EthernetII eth(got.data(), static_cast<uint32_t>(got.size()));
    EXPECT_EQ(eth.dst_addr(), red1.mac) << "ciaddr set: unicast, whatever the broadcast flag (RFC 2131 4.1)";
    EXPECT_EQ(eth.rfind_pdu<Tins::IP>().dst_addr(), red1.ip);
}

TEST_F(DhcpServer, RequestForAnotherAddressGetsANak) {
    const auto& red1 = port("red1");
    Request r = discover(red1);
    r.type = DHCP::REQUEST;  // INIT-REBOOT with an address from another network
    r.requested = Ip("10.0.0.99");
    Reply want;
    want.type = DHCP::NAK;
    want.dst_mac = kBroadcast;  // a NAK is always broadcast
    want.dst = kAll;
    want.server_mac = kRedServerMac;
    want.server = kRedServer;
    want.chaddr = red1.mac;
    EXPECT_TRUE(same_frame(answer("red1", request(r)), reply(want)));

    Request renew;  // a renewal of an address that is not the port's
    renew.type = DHCP::REQUEST;
    renew.src_mac = red1.mac;
    renew.ciaddr = Ip("10.0.0.99");
    Bytes nak = answer("red1", request(renew));
    EXPECT_EQ(parse_dhcp(nak).type(), DHCP::NAK);
    Tins::EthernetII eth(nak.data(), static_cast<uint32_t>(nak.size()));
    EXPECT_EQ(eth.dst_addr(), kBroadcast) << "a NAK is broadcast even when ciaddr is set (RFC 2131 4.1)";
    EXPECT_EQ(eth.rfind_pdu<Tins::IP>().dst_addr(), kAll);
}

TEST_F(DhcpServer, RequestWithNothingToConfirmIsMalformed) {
    Request r = discover(port("red1"));
    r.type = DHCP::REQUEST;  // neither a requested address (option 50) nor ciaddr
    expect_malformed("red1", request(r));
}

TEST_F(DhcpServer, InformGetsAnAckWithoutAddressOrLease) {
    const auto& red1 = port("red1");
    Request r;
    r.type = DHCP::INFORM;
    r.src_mac = red1.mac;
    r.src = red1.ip;
    r.ciaddr = red1.ip;
    Reply want;
    want.type = DHCP::ACK;
    want.dst_mac = red1.mac;
    want.dst = red1.ip;
    want.server_mac = kRedServerMac;
    want.server = kRedServer;
    want.ciaddr = red1.ip;
    want.chaddr = red1.mac;
    want.lease = false;
    want.options = red_options("red1", "example.org");
    EXPECT_TRUE(same_frame(answer("red1", request(r)), reply(want)));
}

TEST_F(DhcpServer, ReleaseAndDeclineAreConsumedAndCounted) {
    const auto& red1 = port("red1");
    for (uint8_t type : {uint8_t(DHCP::RELEASE), uint8_t(DHCP::DECLINE)}) {
        Request r;
        r.type = type;
        r.src_mac = red1.mac;
        r.dst_mac = kRedServerMac;
        r.src = red1.ip;
        r.dst = kRedServer;
        r.ciaddr = red1.ip;
        r.server = kRedServer;
        RunResult t = ingress("red1", request(r), true);
        EXPECT_EQ(t.cb.verdict, NT_VERDICT_DROP) << describe(t);
        EXPECT_EQ(t.cb.reason, NT_DROP_DHCP_CONSUMED) << describe(t);
        ingress("red1", request(r), false);
        EXPECT_EQ(dhcp_stats(red1.port_tag).count[type], 1u);
    }
    EXPECT_EQ(drops(NT_DROP_DHCP_CONSUMED), 2u);
}

// ---- what the server leaves alone ---------------------------------------------

TEST_F(DhcpServer, NoAnswerWhenDhcpIsDisabled) {
    const auto& plain1 = port("plain1");
    expect_not_answered("plain1", request(discover(plain1)), NT_VERDICT_FLOOD);
    ingress("plain1", request(discover(plain1)), false);
    EXPECT_EQ(dhcp_stats(plain1.port_tag).count[NT_DHCP_DISCOVER], 0u) << "not the server's to count";
    EXPECT_EQ(dhcp_stats(NT_DHCP_STATS_ALL).count[NT_DHCP_OFFER], 0u);
}

TEST_F(DhcpServer, RequestForAnotherServerIsNotAnswered) {
    const auto& red1 = port("red1");
    Request r = discover(red1);
    r.type = DHCP::REQUEST;
    r.server = Ip("10.0.0.77");  // the client chose another server
    r.requested = red1.ip;
    expect_not_answered("red1", request(r), NT_VERDICT_FLOOD);
    ingress("red1", request(r), false);
    EXPECT_EQ(dhcp_stats(red1.port_tag).count[NT_DHCP_CNT_IGNORED], 1u);
}

TEST_F(DhcpServer, RelayedRequestIsNotAnswered) {
    // giaddr set: the reply would go to a relay agent, which a tap never has
    // (RFC 2131 4.1); counted as ignored, the frame goes on.
    const auto& red1 = port("red1");
    Request r = discover(red1);
    r.giaddr = Ip("10.0.0.1");
    expect_not_answered("red1", request(r), NT_VERDICT_FLOOD);
    ingress("red1", request(r), false);
    EXPECT_EQ(dhcp_stats(red1.port_tag).count[NT_DHCP_CNT_IGNORED], 1u);
    EXPECT_EQ(dhcp_stats(red1.port_tag).count[NT_DHCP_OFFER], 0u);
}

TEST_F(DhcpServer, BootpRequestWithoutMessageTypeIsNotAnswered) {
    const auto& red1 = port("red1");
    Bytes m = message_of(request(discover(red1)));
    ASSERT_EQ(m[NT_DHCP_REQ_MIN], 53);
    std::fill(m.begin() + NT_DHCP_REQ_MIN, m.begin() + NT_DHCP_REQ_MIN + 3, 0);  // option 53 -> PAD: plain BOOTP
    expect_not_answered("red1", frame_with_message(red1, m), NT_VERDICT_FLOOD);
    ingress("red1", frame_with_message(red1, m), false);
    EXPECT_EQ(dhcp_stats(red1.port_tag).count[NT_DHCP_CNT_IGNORED], 1u);
}

TEST_F(DhcpServer, RequestForAnotherMacIsNotAnswered) {
    // Without port security a VM may send any MAC; the server answers only
    // for the port's own.
    Request r = discover(port("red-nosec"));
    r.chaddr = kForeignMac;
    expect_not_answered("red-nosec", request(r), NT_VERDICT_FLOOD);
}

TEST_F(DhcpServer, PortWithoutPortSecurityIsAnswered) {
    const auto& p = port("red-nosec");
    DHCP d = parse_dhcp(answer("red-nosec", request(discover(p))));
    EXPECT_EQ(d.type(), DHCP::OFFER);
    EXPECT_EQ(d.yiaddr(), p.ip);
}

TEST_F(DhcpServer, ServerRepliesAreStillRefusedFromVms) {
    const auto& red1 = port("red1");
    Bytes offer = bytes(Tins::EthernetII(kBroadcast, red1.mac) / Tins::IP(kAll, red1.ip) / Tins::UDP(68, 67) /
                        Tins::RawPDU(Bytes(300, 0)));
    RunResult t = ingress("red1", offer, true);
    EXPECT_EQ(t.cb.verdict, NT_VERDICT_DROP) << describe(t);
    EXPECT_EQ(t.cb.reason, NT_DROP_DHCP_SERVER) << describe(t);
}

// ---- the server address -----------------------------------------------------------

TEST_F(DhcpServer, NeutronDhcpPortIsTheServerAndAnswersArp) {
    const auto& blue1 = port("blue1");
    Bytes got = answer("blue1", request(discover(blue1)));
    Tins::EthernetII eth(got.data(), static_cast<uint32_t>(got.size()));
    EXPECT_EQ(eth.src_addr(), kBlueServerMac);
    EXPECT_EQ(eth.rfind_pdu<Tins::IP>().src_addr(), Ip("10.0.0.2"));
    DHCP d = parse_dhcp(got);
    EXPECT_EQ(d.server_identifier(), Ip("10.0.0.2"));
    EXPECT_THROW(d.domain_name_servers(), Tins::option_not_found) << "blue has no DNS servers";

    // A renewal goes to the server by unicast: its address must resolve.
    RunResult a = ingress("blue1", arp_request(blue1, Ip("10.0.0.2")), true);
    EXPECT_EQ(a.cb.verdict, NT_VERDICT_REPLY) << describe(a);
    EXPECT_TRUE(same_frame(a.out, arp_reply(kBlueServerMac, Ip("10.0.0.2"), blue1.mac, blue1.ip)));
}

TEST_F(DhcpServer, ServerAddressIsAnsweredInArpTheGatewayNever) {
    const auto& red1 = port("red1");
    RunResult a = ingress("red1", arp_request(red1, kRedServer), true);
    EXPECT_EQ(a.cb.verdict, NT_VERDICT_REPLY) << describe(a);
    EXPECT_TRUE(same_frame(a.out, arp_reply(kRedServerMac, kRedServer, red1.mac, red1.ip)));
    ingress("red1", arp_request(red1, kRedServer), false);
    EXPECT_EQ(dhcp_stats(red1.port_tag).count[NT_DHCP_CNT_ARP], 1u);
    // 10.0.0.1 belongs to a router: the DHCP stage never claims it.
    expect_not_answered("red1", arp_request(red1, Ip("10.0.0.1")), NT_VERDICT_FLOOD);
    // Nor the server address of another network.
    // (blue1 is alone in blue: the request floods to nobody.)
    expect_not_answered("blue1", arp_request(port("blue1"), kRedServer), NT_VERDICT_DROP);
}

TEST_F(DhcpServer, NetworkWithoutGatewayGetsNoRouter) {
    const auto& p = port("nogw1");
    Bytes got = answer("nogw1", request(discover(p)));
    DHCP d = parse_dhcp(got);
    EXPECT_EQ(d.server_identifier(), Ip("172.16.5.14"));
    EXPECT_EQ(d.subnet_mask(), Ip("255.255.255.240"));
    EXPECT_THROW(d.routers(), Tins::option_not_found);
    const DHCP::option* mtu = d.search_option(DHCP::INTERFACE_MTU);
    ASSERT_NE(mtu, nullptr);
    EXPECT_EQ(Bytes(mtu->data_ptr(), mtu->data_ptr() + mtu->data_size()), Bytes({0x23, 0x28})) << "mtu 9000";
    RunResult a = ingress("nogw1", arp_request(p, Ip("172.16.5.14")), true);
    EXPECT_EQ(a.cb.verdict, NT_VERDICT_REPLY) << describe(a);
}

// ---- malformed requests -------------------------------------------------------------

TEST_F(DhcpServer, TruncatedRequestIsMalformed) {
    Bytes req = request(discover(port("red1")));
    req.resize(req.size() - 20);  // IP and UDP lengths claim 20 more bytes than there are
    // Port security parses the IP header first and refuses the total length.
    expect_malformed("red1", req, NT_DROP_MALFORMED);
}

TEST_F(DhcpServer, RequestShorterThanTheBootpHeaderIsMalformed) {
    const auto& red1 = port("red1");
    Bytes m = message_of(request(discover(red1)));
    m.resize(200);  // consistent IP and UDP lengths, but no room for the BOOTP header and cookie
    expect_malformed("red1", frame_with_message(red1, m));
}

TEST_F(DhcpServer, OptionOverrunIsMalformed) {
    const auto& red1 = port("red1");
    Bytes m = message_of(request(discover(red1)));
    ASSERT_EQ(m[NT_DHCP_REQ_MIN], 53);
    ASSERT_EQ(m[NT_DHCP_REQ_MIN + 3], 255) << "END follows the message type";
    m[NT_DHCP_REQ_MIN + 3] = 60;  // a vendor class id ...
    m[NT_DHCP_REQ_MIN + 4] = 200; // ... of 200 bytes, in a message that ends 1 byte later
    m.push_back(0);
    expect_malformed("red1", frame_with_message(red1, m));
}

TEST_F(DhcpServer, WrongMagicCookieIsMalformed) {
    const auto& red1 = port("red1");
    Bytes m = message_of(request(discover(red1)));
    ASSERT_EQ(m[NT_BOOTP_FIXED_LEN], 0x63);
    m[NT_BOOTP_FIXED_LEN] = 0x64;
    expect_malformed("red1", frame_with_message(red1, m));
}

TEST_F(DhcpServer, BadOpHtypeOrHlenIsMalformed) {
    const auto& red1 = port("red1");
    const Bytes m = message_of(request(discover(red1)));
    ASSERT_EQ(Bytes(m.begin(), m.begin() + 3), Bytes({1, 1, 6})) << "BOOTREQUEST, Ethernet, 6-byte address";
    for (auto [at, value] : {std::pair{0, 2}, std::pair{1, 6}, std::pair{2, 16}}) {  // BOOTREPLY, IEEE 802, hlen 16
        Bytes bad = m;
        bad[at] = static_cast<uint8_t>(value);
        SCOPED_TRACE("byte " + std::to_string(at) + " = " + std::to_string(value));
        expect_malformed("red1", frame_with_message(red1, bad));
    }
}

TEST_F(DhcpServer, FragmentedRequestIsMalformed) {
    // A first fragment (more-fragments set): a request too long for one
    // frame, which no client sends.
    Bytes f = request(discover(port("red1")));
    f[14 + 6] |= 0x20;
    f[14 + 10] = f[14 + 11] = 0;  // the IPv4 header checksum, again
    const uint16_t c = static_cast<uint16_t>(~fold(sum16(f.data() + 14, 20)));
    f[14 + 10] = static_cast<uint8_t>(c >> 8);
    f[14 + 11] = static_cast<uint8_t>(c);
    expect_malformed("red1", f);
}

TEST_F(DhcpServer, OversizedRequestIsMalformed) {
    Request r = discover(port("red1"));
    r.pad_to = NT_DHCP_REQ_MAX + 1;
    expect_malformed("red1", request(r));
    r.pad_to = NT_DHCP_REQ_MAX;  // the largest accepted
    EXPECT_EQ(parse_dhcp(answer("red1", request(r))).type(), DHCP::OFFER);
}

TEST_F(DhcpServer, RequestWithoutEndOptionIsAccepted) {
    const auto& red1 = port("red1");
    Bytes m = message_of(request(discover(red1)));
    ASSERT_EQ(m[NT_DHCP_REQ_MIN + 3], 255);
    m.resize(NT_DHCP_REQ_MIN + 3);  // the options stop after the message type
    EXPECT_EQ(parse_dhcp(answer("red1", frame_with_message(red1, m))).type(), DHCP::OFFER);
}

// ---- counters ---------------------------------------------------------------------------

TEST_F(DhcpServer, CountersPerMessageTypePerPortAndInTotal) {
    const auto &red1 = port("red1"), &blue1 = port("blue1");
    ingress("red1", request(discover(red1)), false);
    Request req = discover(red1);
    req.type = DHCP::REQUEST;
    req.requested = red1.ip;
    ingress("red1", request(req), false);
    req.requested = Ip("10.0.0.99");
    ingress("red1", request(req), false);
    ingress("blue1", request(discover(blue1)), false);
    Bytes bad = message_of(request(discover(red1)));
    bad[NT_BOOTP_FIXED_LEN] = 0x64;  // wrong magic cookie
    ingress("red1", frame_with_message(red1, bad), false);

    nt_dhcp_stats r = dhcp_stats(red1.port_tag), b = dhcp_stats(blue1.port_tag), all = dhcp_stats(NT_DHCP_STATS_ALL);
    EXPECT_EQ(r.count[NT_DHCP_DISCOVER], 1u);
    EXPECT_EQ(r.count[NT_DHCP_OFFER], 1u);
    EXPECT_EQ(r.count[NT_DHCP_REQUEST], 2u);
    EXPECT_EQ(r.count[NT_DHCP_ACK], 1u);
    EXPECT_EQ(r.count[NT_DHCP_NAK], 1u);
    EXPECT_EQ(r.count[NT_DHCP_CNT_MALFORMED], 1u);
    EXPECT_EQ(b.count[NT_DHCP_DISCOVER], 1u);
    EXPECT_EQ(all.count[NT_DHCP_DISCOVER], 2u);
    EXPECT_EQ(all.count[NT_DHCP_OFFER], 2u);
    EXPECT_EQ(drops(NT_DROP_DHCP_MALFORMED), 1u);
}

TEST_F(DhcpServer, TraceModeCountsNothing) {
    const auto& red1 = port("red1");
    ingress("red1", request(discover(red1)), true);
    Bytes bad = request(discover(red1));
    bad.resize(bad.size() - 8);
    ingress("red1", bad, true);
    EXPECT_EQ(dhcp_stats(red1.port_tag).count[NT_DHCP_DISCOVER], 0u);
    EXPECT_EQ(dhcp_stats(NT_DHCP_STATS_ALL).count[NT_DHCP_CNT_MALFORMED], 0u);
    EXPECT_EQ(drops(NT_DROP_DHCP_MALFORMED), 0u);
}

}  // namespace
}  // namespace nt_test
