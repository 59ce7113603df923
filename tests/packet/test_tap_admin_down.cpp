// Known issue, disabled until decided: a port with admin_state_up=false
// still RECEIVES traffic. tap_ingress drops what such a port sends
// (NT_DROP_PORT_DOWN, "port or its network has admin_state_up=false"), but
// compile keeps the port in its network's flood list, its MAC in the FDB and
// its IPs in the ARP responder's table, and tap_egress has no admin check.
// Neutron's reference agents isolate an admin-down port in both directions
// (the OVS agent moves it to the dead VLAN; l2population withdraws its FDB
// and ARP entries), so a VM whose port was disabled keeps hearing its
// network here. Run with --gtest_also_run_disabled_tests to see it fail.
#include "fixture.hpp"
#include "frames.hpp"

namespace nt_test {
namespace {

class TapAdminDown : public TapDatapathTest {};

TEST_F(TapAdminDown, ReceivesNoFloodCopies) {
    Capture down(port("red-down").peer);
    RunResult r = ingress("red1", udp_broadcast(port("red1")), false);
    EXPECT_EQ(r.retval, kTcActShot) << describe(r);
    EXPECT_TRUE(down.frames().empty()) << "a broadcast was delivered to the admin-down port";

    RunResult t = ingress("red1", udp_broadcast(port("red1")), true);
    EXPECT_EQ(t.cb.target, 3u) << "copies for red2, red3, red-nosec only: " << describe(t);
}

TEST_F(TapAdminDown, UnicastToItIsNotRedirected) {
    RunResult t = ingress("red1", udp(port("red1"), port("red-down")), true);
    EXPECT_NE(t.cb.verdict, NT_VERDICT_REDIRECT) << describe(t);
}

TEST_F(TapAdminDown, EgressToItIsDropped) {
    RunResult t = egress("red-down", udp(port("red1"), port("red-down")), true);
    EXPECT_EQ(t.retval, kTcActShot) << describe(t);
    EXPECT_EQ(t.cb.verdict, NT_VERDICT_DROP) << describe(t);
    EXPECT_EQ(t.cb.reason, NT_DROP_PORT_DOWN) << describe(t);
}

TEST_F(TapAdminDown, ItsAddressIsNotAnswered) {
    RunResult t = ingress("red1", arp_request(port("red1"), port("red-down").ip), true);
    EXPECT_NE(t.cb.verdict, NT_VERDICT_REPLY) << describe(t);
}

}  // namespace
}  // namespace nt_test
