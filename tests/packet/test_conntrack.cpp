// Connection tracking behind the security groups, against
// tests/fixtures/packet-sg.json: replies pass only after their request (TCP,
// UDP, ICMP echo), TCP must open with a SYN and RST closes, ICMP errors pass
// when they quote a tracked flow, fragments follow their first fragment, and
// removing a rule revokes the flows it admitted. Conntrack is written only by
// real (non-trace) runs, so the tests that need state use those.
//
// The environment (SgEnv, frames) is defined in test_secgroups.cpp; its
// declarations are repeated here verbatim.
#include <netinet/in.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "fixture.hpp"
#include "frames.hpp"
#include "sg_env.hpp"

namespace nt_test {


namespace {

class SgConntrack : public ::testing::Test {
protected:
    void SetUp() override { env_ = sg_env_create(NT_FIXTURES "/packet-sg.json"); }
    void TearDown() override { env_.reset(); }

    const TestPort& port(const std::string& n) const { return sg_port(*env_, n); }
    RunResult ingress(const std::string& p, const Bytes& f, bool trace) { return sg_ingress(*env_, p, f, trace); }
    RunResult egress(const std::string& p, const Bytes& f, bool trace) { return sg_egress(*env_, p, f, trace); }
    uint64_t drops(uint32_t reason) const { return sg_drop_packets(*env_, reason); }
    uint64_t total_drops() const { return sg_total_drop_packets(*env_); }

    // A frame from one port to another, as it crosses both taps: out of the
    // sender's VM (its tap_ingress, redirected to the receiver's tap) and
    // into the receiver's VM (its tap_egress). Real runs: conntrack is written.
    void expect_crosses(const std::string& from, const std::string& to, const Bytes& f, const std::string& what) {
        RunResult r = ingress(from, f, false);
        EXPECT_EQ(r.retval, kTcActRedirect) << what << " out of " << from << ": " << describe(r);
        r = egress(to, f, false);
        EXPECT_EQ(r.retval, kTcActOk) << what << " into " << to << ": " << describe(r);
    }
    static void expect_drop(const RunResult& r, uint32_t reason, const std::string& what) {
        EXPECT_EQ(r.retval, kTcActShot) << what << ": " << describe(r);
        EXPECT_EQ(r.cb.verdict, NT_VERDICT_DROP) << what << ": " << describe(r);
        EXPECT_EQ(r.cb.reason, reason) << what << ": " << describe(r);
    }
    static void expect_redirect(const RunResult& r, uint32_t target, const std::string& what) {
        EXPECT_EQ(r.retval, kTcActRedirect) << what << ": " << describe(r);
        EXPECT_EQ(r.cb.verdict, NT_VERDICT_REDIRECT) << what << ": " << describe(r);
        EXPECT_EQ(r.cb.target, target) << what << ": " << describe(r);
    }
    static void expect_deliver(const RunResult& r, const std::string& what) {
        EXPECT_EQ(r.retval, kTcActOk) << what << ": " << describe(r);
        EXPECT_EQ(r.cb.verdict, NT_VERDICT_DELIVER) << what << ": " << describe(r);
        EXPECT_EQ(r.cb.reason, 0u) << what << ": " << describe(r);
    }

    enum Hook { kIn, kOut };  // tap_ingress (from the VM), tap_egress (to the VM)
    RunResult hook(Hook h, const std::string& p, const Bytes& f, bool trace) {
        return h == kIn ? ingress(p, f, trace) : egress(p, f, trace);
    }
    // Trace first (verdict and reason, no side effects), then for real: the
    // same action, and a drop counted once under its reason.
    void real_drop(Hook h, const std::string& p, const Bytes& f, uint32_t reason, const std::string& what) {
        expect_drop(hook(h, p, f, true), reason, what + " (trace)");
        uint64_t before = drops(reason), total = total_drops();
        RunResult r = hook(h, p, f, false);
        EXPECT_EQ(r.retval, kTcActShot) << what << ": " << describe(r);
        EXPECT_EQ(drops(reason), before + 1) << what << ": counted under its reason";
        EXPECT_EQ(total_drops(), total + 1) << what << ": counted once";
    }
    void real_deliver(Hook h, const std::string& p, const Bytes& f, const std::string& what) {
        expect_deliver(hook(h, p, f, true), what + " (trace)");
        RunResult r = hook(h, p, f, false);
        EXPECT_EQ(r.retval, kTcActOk) << what << ": " << describe(r);
    }
    void real_redirect(Hook h, const std::string& p, const Bytes& f, uint32_t target, const std::string& what) {
        expect_redirect(hook(h, p, f, true), target, what + " (trace)");
        RunResult r = hook(h, p, f, false);
        EXPECT_EQ(r.retval, kTcActRedirect) << what << ": " << describe(r);
    }

    // client:sport <-> web:22 segments.
    Bytes c2w(uint16_t sport, uint8_t flags) {
        return sg_tcp(port("client").mac, port("web").mac, port("client").ip, port("web").ip, sport, 22, flags);
    }
    Bytes w2c(uint16_t sport, uint8_t flags) {
        return sg_tcp(port("web").mac, port("client").mac, port("web").ip, port("client").ip, 22, sport, flags);
    }
    std::optional<nt_ct_entry> web_ssh_ct(uint16_t sport) {
        return sg_ct_find(*env_, "web", IPPROTO_TCP, port("client").ip, sport, port("web").ip, 22);
    }
    std::optional<nt_ct_entry> client_ssh_ct(uint16_t sport) {
        return sg_ct_find(*env_, "client", IPPROTO_TCP, port("client").ip, sport, port("web").ip, 22);
    }
    void handshake(uint16_t sport) {
        expect_crosses("client", "web", c2w(sport, kSyn), "SYN");
        expect_crosses("web", "client", w2c(sport, kSyn | kAck), "SYN-ACK");
        expect_crosses("client", "web", c2w(sport, kAck), "ACK");
    }

    std::shared_ptr<SgEnv> env_;
};

TEST_F(SgConntrack, TcpReplyPassesOnlyAfterTheRequest) {
    const auto &web = port("web"), &client = port("client");
    // Before any SYN, web's SYN-ACK is ct-invalid, not sg-no-match, at both
    // taps: with no tracked flow, a TCP segment that is not a bare SYN is
    // refused before the classifier is asked (only a SYN opens a connection),
    // whatever the rules would say (web has no egress rule at all, client's
    // ingress rule would not admit web either).
    expect_drop(ingress("web", w2c(40000, kSyn | kAck), true), NT_DROP_CT_INVALID, "SYN-ACK out of web, no SYN");
    expect_drop(egress("client", w2c(40000, kSyn | kAck), true), NT_DROP_CT_INVALID, "SYN-ACK into client, no SYN");
    EXPECT_EQ(ingress("web", w2c(40000, kSyn | kAck), false).retval, kTcActShot);
    EXPECT_EQ(egress("client", w2c(40000, kSyn | kAck), false).retval, kTcActShot);
    EXPECT_EQ(drops(NT_DROP_CT_INVALID), 2u);
    EXPECT_TRUE(sg_ct_entries(*env_).empty()) << "a refused packet tracks nothing";

    // The SYN: client's egress-any rule, then web's ssh rule.
    expect_crosses("client", "web", c2w(40000, kSyn), "SYN");
    ASSERT_TRUE(web_ssh_ct(40000).has_value());
    ASSERT_TRUE(client_ssh_ct(40000).has_value());
    EXPECT_EQ(web_ssh_ct(40000)->state, NT_CT_SYN_SENT);
    EXPECT_EQ(web_ssh_ct(40000)->origin, NT_DIR_TO_VM);
    EXPECT_EQ(client_ssh_ct(40000)->origin, NT_DIR_FROM_VM);
    EXPECT_EQ(sg_ct_entries(*env_).size(), 2u) << "one entry per zone";

    // Now the SYN-ACK passes as a reply at both taps (trace first: no change).
    expect_redirect(ingress("web", w2c(40000, kSyn | kAck), true), client.ifindex, "SYN-ACK out of web");
    expect_deliver(egress("client", w2c(40000, kSyn | kAck), true), "SYN-ACK into client");
    EXPECT_EQ(web_ssh_ct(40000)->state, NT_CT_SYN_SENT) << "trace mode writes no state";
    expect_crosses("web", "client", w2c(40000, kSyn | kAck), "SYN-ACK");
    EXPECT_EQ(web_ssh_ct(40000)->state, NT_CT_SYN_RECV);
    EXPECT_EQ(client_ssh_ct(40000)->state, NT_CT_SYN_RECV);
    expect_crosses("client", "web", c2w(40000, kAck), "ACK");
    EXPECT_EQ(web_ssh_ct(40000)->state, NT_CT_ESTABLISHED);
    EXPECT_EQ(client_ssh_ct(40000)->state, NT_CT_ESTABLISHED);
    EXPECT_TRUE(web_ssh_ct(40000)->flags & NT_CT_F_REPLY_SEEN);

    // Data both ways.
    expect_crosses("web", "client", w2c(40000, kPsh | kAck), "data from web");
    expect_crosses("client", "web", c2w(40000, kPsh | kAck), "data from client");
    EXPECT_EQ(web_ssh_ct(40000)->packets, 5u);
    EXPECT_EQ(drops(NT_DROP_CT_INVALID), 2u) << "nothing of the tracked flow was dropped";

    // The flow is web:22 <-> client:40000 only: web cannot open to another
    // client port, nor from port 22 to another port of client.
    expect_drop(ingress("web", w2c(40001, kSyn | kAck), true), NT_DROP_CT_INVALID, "SYN-ACK, other client port");
    expect_drop(ingress("web", w2c(40001, kSyn), true), NT_DROP_SG_NO_MATCH, "SYN from web:22");
    (void)web;
}

TEST_F(SgConntrack, StrayAckAndUnmatchedRstAreInvalid) {
    expect_drop(egress("web", c2w(40000, kAck), true), NT_DROP_CT_INVALID, "stray ACK to web:22");
    expect_drop(egress("web", c2w(40000, kPsh | kAck), true), NT_DROP_CT_INVALID, "stray data to web:22");
    expect_drop(egress("web", c2w(40000, kRst), true), NT_DROP_CT_INVALID, "unmatched RST to web:22");
    expect_drop(egress("web", c2w(40000, kRst | kAck), true), NT_DROP_CT_INVALID, "unmatched RST-ACK to web:22");
    expect_drop(egress("web", c2w(40000, kFin | kAck), true), NT_DROP_CT_INVALID, "unmatched FIN to web:22");
    expect_drop(ingress("client", c2w(40000, kAck), true), NT_DROP_CT_INVALID,
                "stray ACK out of client, whose egress rule allows anything");

    EXPECT_EQ(egress("web", c2w(40000, kAck), false).retval, kTcActShot);
    EXPECT_EQ(egress("web", c2w(40000, kRst), false).retval, kTcActShot);
    EXPECT_EQ(drops(NT_DROP_CT_INVALID), 2u);
    EXPECT_EQ(total_drops(), 2u);
    EXPECT_EQ(sg_port_stats(*env_, "web").dropped.packets, 2u);
    EXPECT_TRUE(sg_ct_entries(*env_).empty());
}

TEST_F(SgConntrack, RstClosesTheFlow) {
    handshake(40000);
    expect_crosses("client", "web", c2w(40000, kRst | kAck), "RST");
    EXPECT_EQ(web_ssh_ct(40000)->state, NT_CT_CLOSED);
    EXPECT_EQ(client_ssh_ct(40000)->state, NT_CT_CLOSED);

    expect_drop(egress("web", c2w(40000, kAck), true), NT_DROP_CT_INVALID, "ACK into web after RST");
    expect_drop(ingress("client", c2w(40000, kPsh | kAck), true), NT_DROP_CT_INVALID, "data out of client after RST");
    expect_drop(ingress("web", w2c(40000, kAck), true), NT_DROP_CT_INVALID, "ACK out of web after RST");
    expect_drop(egress("client", w2c(40000, kPsh | kAck), true), NT_DROP_CT_INVALID, "data into client after RST");
    EXPECT_EQ(egress("web", c2w(40000, kAck), false).retval, kTcActShot);
    EXPECT_EQ(ingress("web", w2c(40000, kAck), false).retval, kTcActShot);
    EXPECT_EQ(drops(NT_DROP_CT_INVALID), 2u);

    // The same tuple may open again with a new SYN (port reuse).
    expect_crosses("client", "web", c2w(40000, kSyn), "SYN reusing the tuple");
    EXPECT_EQ(web_ssh_ct(40000)->state, NT_CT_SYN_SENT);
}

TEST_F(SgConntrack, FinFromBothSidesMovesToClosing) {
    handshake(40000);
    expect_crosses("client", "web", c2w(40000, kFin | kAck), "FIN from client");
    EXPECT_EQ(web_ssh_ct(40000)->state, NT_CT_FIN_WAIT);
    expect_crosses("web", "client", w2c(40000, kFin | kAck), "FIN from web");
    EXPECT_EQ(web_ssh_ct(40000)->state, NT_CT_CLOSING);
    EXPECT_EQ(client_ssh_ct(40000)->state, NT_CT_CLOSING);
    expect_crosses("client", "web", c2w(40000, kAck), "last ACK");
}

TEST_F(SgConntrack, UdpReplyPassesOnlyAfterTheRequest) {
    const auto &web = port("web"), &client = port("client");
    Bytes request = sg_udp(client.mac, web.mac, client.ip, web.ip, 40001, 53);
    Bytes reply = sg_udp(web.mac, client.mac, web.ip, client.ip, 53, 40001);
    Bytes unsolicited = sg_udp(web.mac, client.mac, web.ip, client.ip, 53, 40002);

    // UDP has no handshake to violate: before the request the reply is simply
    // a new flow no rule admits.
    expect_drop(ingress("web", reply, true), NT_DROP_SG_NO_MATCH, "reply before request, out of web");
    expect_drop(egress("client", reply, true), NT_DROP_SG_NO_MATCH, "reply before request, into client");

    expect_crosses("client", "web", request, "udp/53 request");
    auto e = sg_ct_find(*env_, "web", IPPROTO_UDP, client.ip, 40001, web.ip, 53);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->state, NT_CT_UNREPLIED);
    EXPECT_EQ(e->rule_tag, sg_rule_tag(*env_, "web-dns"));

    expect_redirect(ingress("web", reply, true), client.ifindex, "reply out of web");
    expect_deliver(egress("client", reply, true), "reply into client");
    expect_crosses("web", "client", reply, "udp/53 reply");
    e = sg_ct_find(*env_, "web", IPPROTO_UDP, client.ip, 40001, web.ip, 53);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->state, NT_CT_ESTABLISHED);
    EXPECT_TRUE(e->flags & NT_CT_F_REPLY_SEEN);

    // Another client port is another flow: web may not open it.
    expect_drop(ingress("web", unsolicited, true), NT_DROP_SG_NO_MATCH, "unsolicited udp out of web");
    expect_drop(egress("client", unsolicited, true), NT_DROP_SG_NO_MATCH, "unsolicited udp into client");
    EXPECT_EQ(ingress("web", unsolicited, false).retval, kTcActShot);
    EXPECT_EQ(drops(NT_DROP_SG_NO_MATCH), 1u);
    EXPECT_EQ(total_drops(), 1u);
}

TEST_F(SgConntrack, IcmpEchoReplyFollowsItsRequest) {
    const auto &web = port("web"), &client = port("client");
    Bytes echo = sg_icmp_echo(client.mac, web.mac, client.ip, web.ip, 8, 77);
    Bytes echo_reply = sg_icmp_echo(web.mac, client.mac, web.ip, client.ip, 0, 77);
    Bytes other_reply = sg_icmp_echo(web.mac, client.mac, web.ip, client.ip, 0, 78);

    expect_drop(ingress("web", echo_reply, true), NT_DROP_SG_NO_MATCH, "echo reply before request");
    expect_crosses("client", "web", echo, "echo request");
    expect_crosses("web", "client", echo_reply, "echo reply");
    expect_drop(ingress("web", other_reply, true), NT_DROP_SG_NO_MATCH, "echo reply with another identifier");
}

TEST_F(SgConntrack, IcmpErrorPassesOnlyWhenItQuotesATrackedFlow) {
    const auto &web = port("web"), &client = port("client");
    Bytes request = sg_udp(client.mac, web.mac, client.ip, web.ip, 40001, 53);
    Bytes untracked = sg_udp(client.mac, web.mac, client.ip, web.ip, 40009, 53);
    // Port unreachable (3/3) from web about client's datagram.
    Bytes unreach = sg_icmp_error(web.mac, client.mac, web.ip, client.ip, 3, 3, request);
    Bytes unreach_untracked = sg_icmp_error(web.mac, client.mac, web.ip, client.ip, 3, 3, untracked);

    // Nothing tracked yet: the error is a new ICMP flow from web, which no
    // rule admits (web has no egress rules; client admits only members).
    expect_drop(ingress("web", unreach, true), NT_DROP_SG_NO_MATCH, "error before the flow, out of web");
    expect_drop(egress("client", unreach, true), NT_DROP_SG_NO_MATCH, "error before the flow, into client");

    expect_crosses("client", "web", request, "udp/53 request");
    size_t tracked = sg_ct_entries(*env_).size();

    expect_redirect(ingress("web", unreach, true), client.ifindex, "port unreachable out of web");
    expect_deliver(egress("client", unreach, true), "port unreachable into client");
    expect_crosses("web", "client", unreach, "port unreachable");
    EXPECT_EQ(sg_ct_entries(*env_).size(), tracked) << "a related error is not a flow of its own";

    expect_drop(ingress("web", unreach_untracked, true), NT_DROP_SG_NO_MATCH, "error quoting an untracked flow");
    expect_drop(egress("client", unreach_untracked, true), NT_DROP_SG_NO_MATCH,
                "error quoting an untracked flow, into client");
    EXPECT_EQ(ingress("web", unreach_untracked, false).retval, kTcActShot);
    EXPECT_EQ(drops(NT_DROP_SG_NO_MATCH), 1u);
}

TEST_F(SgConntrack, LaterFragmentsFollowTheirFirstFragment) {
    const auto &web = port("web"), &client = port("client");
    const Mac &cm = client.mac, &wm = web.mac;
    const Ip &cip = client.ip, &wip = web.ip;

    // An allowed datagram (udp/53 from a member): first fragment classified,
    // tracked and remembered; the later one passes on that memory.
    Bytes first = sg_first_fragment(cm, wm, cip, wip, IPPROTO_UDP, 40001, 53, 0, 0x1234);
    Bytes later = sg_later_fragment(cm, wm, cip, wip, IPPROTO_UDP, 0x1234, 5);
    expect_drop(egress("web", later, true), NT_DROP_FRAGMENT, "later fragment before its first");
    real_deliver(kOut, "web", first, "first fragment of udp/53");
    real_deliver(kOut, "web", later, "later fragment of udp/53");
    real_deliver(kOut, "web", sg_later_fragment(cm, wm, cip, wip, IPPROTO_UDP, 0x1234, 10),
                   "last fragment of udp/53");
    EXPECT_TRUE(sg_ct_find(*env_, "web", IPPROTO_UDP, cip, 40001, wip, 53).has_value());

    // A later fragment of a datagram whose first fragment never came.
    real_drop(kOut, "web", sg_later_fragment(cm, wm, cip, wip, IPPROTO_UDP, 0x4321, 5), NT_DROP_FRAGMENT,
                "later fragment, first never seen");
    // Same id, other protocol or other source: another datagram.
    expect_drop(egress("web", sg_later_fragment(cm, wm, cip, wip, IPPROTO_TCP, 0x1234, 5), true), NT_DROP_FRAGMENT,
                "same id, tcp");
    expect_drop(egress("web", sg_later_fragment(cm, wm, port("client2").ip, wip, IPPROTO_UDP, 0x1234, 5), true),
                NT_DROP_FRAGMENT, "same id, other source");

    // A denied datagram (tcp/23): its first fragment is refused by the rules,
    // its later fragments as fragments.
    Bytes denied_first = sg_first_fragment(cm, wm, cip, wip, IPPROTO_TCP, 40002, 23, kSyn, 0x2222);
    Bytes denied_later = sg_later_fragment(cm, wm, cip, wip, IPPROTO_TCP, 0x2222, 5);
    real_drop(kOut, "web", denied_first, NT_DROP_SG_NO_MATCH, "first fragment of tcp/23");
    real_drop(kOut, "web", denied_later, NT_DROP_FRAGMENT, "later fragment of tcp/23");

    // A first fragment seen only in trace mode is not remembered.
    Bytes traced_first = sg_first_fragment(cm, wm, cip, wip, IPPROTO_UDP, 40003, 53, 0, 0x3333);
    expect_deliver(egress("web", traced_first, true), "first fragment, trace");
    expect_drop(egress("web", sg_later_fragment(cm, wm, cip, wip, IPPROTO_UDP, 0x3333, 5), true), NT_DROP_FRAGMENT,
                "later fragment after a traced first");

    // A second datagram of the already tracked flow: its first fragment takes
    // the existing-flow path and must be remembered there too.
    real_deliver(kOut, "web", sg_first_fragment(cm, wm, cip, wip, IPPROTO_UDP, 40001, 53, 0, 0x1235),
                   "first fragment, second datagram of a tracked flow");
    real_deliver(kOut, "web", sg_later_fragment(cm, wm, cip, wip, IPPROTO_UDP, 0x1235, 5),
                   "later fragment, second datagram of a tracked flow");

    // Out of a VM (tap_ingress) the same: client's egress rule admits it.
    Bytes out_first = sg_first_fragment(cm, wm, cip, wip, IPPROTO_UDP, 40004, 9999, 0, 0x5555);
    Bytes out_later = sg_later_fragment(cm, wm, cip, wip, IPPROTO_UDP, 0x5555, 5);
    expect_drop(ingress("client", out_later, true), NT_DROP_FRAGMENT, "later fragment out of client, first unseen");
    real_redirect(kIn, "client", out_first, web.ifindex, "first fragment out of client");
    real_redirect(kIn, "client", out_later, web.ifindex, "later fragment out of client");

    EXPECT_EQ(drops(NT_DROP_FRAGMENT), 2u);
    EXPECT_EQ(drops(NT_DROP_SG_NO_MATCH), 1u);
    EXPECT_EQ(total_drops(), 3u);
}

TEST_F(SgConntrack, RemovingARuleRevokesTheFlowsItAdmitted) {
    const auto &web = port("web"), &client = port("client");
    handshake(40000);  // ssh, admitted by web-ssh
    handshake(40005);  // a second ssh flow, to be revoked from its reply side
    Bytes dns = sg_udp(client.mac, web.mac, client.ip, web.ip, 40001, 53);
    expect_crosses("client", "web", dns, "udp/53 request");  // web-dns: stays
    const uint32_t web_gen = sg_policy_gen(*env_, "web"), client_gen = sg_policy_gen(*env_, "client");
    ASSERT_TRUE(web_ssh_ct(40000).has_value());
    EXPECT_EQ(web_ssh_ct(40000)->policy_gen, web_gen);

    // Second version of the state: web without the ssh rule.
    nlohmann::json doc = sg_state_json(*env_);
    bool removed = false;
    for (auto& sg : doc["security_groups"]) {
        auto& rules = sg["security_group_rules"];
        for (auto it = rules.begin(); it != rules.end(); ++it) {
            if ((*it)["id"] == "web-ssh") {
                rules.erase(it);
                removed = true;
                break;
            }
        }
    }
    ASSERT_TRUE(removed);
    sg_apply_json(*env_, doc);
    EXPECT_EQ(sg_rule_tag(*env_, "web-ssh"), 0u);
    EXPECT_NE(sg_policy_gen(*env_, "web"), web_gen) << "web's policy changed";
    EXPECT_EQ(sg_policy_gen(*env_, "client"), client_gen) << "client's did not";

    // Trace sees the revocation but leaves the entry.
    expect_drop(egress("web", c2w(40000, kPsh | kAck), true), NT_DROP_POLICY_REVOKED, "data into web, trace");
    EXPECT_TRUE(web_ssh_ct(40000).has_value());

    // The next real packet ends the flow in web's zone.
    real_drop(kOut, "web", c2w(40000, kPsh | kAck), NT_DROP_POLICY_REVOKED, "data into web");
    EXPECT_EQ(drops(NT_DROP_POLICY_REVOKED), 1u);
    EXPECT_FALSE(web_ssh_ct(40000).has_value()) << "the revoked flow's entry is gone";
    EXPECT_TRUE(client_ssh_ct(40000).has_value()) << "client's zone is client's policy, unchanged";
    // After that, the flow is simply unknown: an ACK is invalid.
    expect_drop(egress("web", c2w(40000, kAck), true), NT_DROP_CT_INVALID, "ACK after revocation");

    // The reply direction of a flow is revoked too (web's reply, tap_ingress).
    real_drop(kIn, "web", w2c(40005, kPsh | kAck), NT_DROP_POLICY_REVOKED, "reply out of web");
    EXPECT_FALSE(web_ssh_ct(40005).has_value());
    EXPECT_EQ(drops(NT_DROP_POLICY_REVOKED), 2u);

    // A new ssh connection is refused by the rules.
    real_drop(kOut, "web", c2w(40010, kSyn), NT_DROP_SG_NO_MATCH, "new SYN to web:22");
    EXPECT_FALSE(web_ssh_ct(40010).has_value());

    // A flow whose rule is still there survives, re-checked under the new
    // generation.
    expect_crosses("client", "web", dns, "udp/53 again");
    auto e = sg_ct_find(*env_, "web", IPPROTO_UDP, client.ip, 40001, web.ip, 53);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->policy_gen, sg_policy_gen(*env_, "web"));
    EXPECT_EQ(e->packets, 2u);
    EXPECT_EQ(drops(NT_DROP_POLICY_REVOKED), 2u);
}

}  // namespace
}  // namespace nt_test
