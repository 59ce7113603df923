// Shared machinery of the packet tests: run a tap program on a frame with
// BPF_PROG_TEST_RUN, capture what really leaves a tap, read the counters, and
// a fixture that wires the packet-l2.json state onto veth pairs.
//
// Everything runs in the private network namespace main() created, so the
// veths and sockets here are invisible to the host.
#pragma once

#include <gtest/gtest.h>
#include <tins/hw_address.h>
#include <tins/ip_address.h>
#include <tins/pdu.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "loader/datapath.hpp"
#include "maps/compile.hpp"
#include "maps/state.hpp"
#include "neutrino/abi.h"
#include "neutrino/drop_reasons.h"

namespace nt_test {

using Bytes = std::vector<uint8_t>;

// TC action codes (linux/pkt_cls.h), spelled out so a failure prints a number
// one can look up; the same for XDP actions (linux/bpf.h).
inline constexpr int kTcActOk = 0;
inline constexpr int kTcActShot = 2;
inline constexpr int kTcActRedirect = 7;
inline constexpr int kXdpDrop = 1;
inline constexpr int kXdpPass = 2;

// What one program run returned: the TC action, the frame as the program
// left it, and (trace mode) the program's report from skb->cb. (Not "Run":
// inside a test body that name is testing::Test::Run.)
struct RunResult {
    int retval = -1;
    Bytes out;
    nt_trace_cb cb{};
    // Trace mode, tap programs: the security-group decision (abi.h).
    uint32_t mark = 0;      // rule_tag of the rule the packet stands on
    uint32_t priority = 0;  // enum nt_trace_policy
};

// Runs prog_fd once on frame, as if it arrived on ifindex. With trace, the
// trace magic goes into cb[0..1] and the program must have no side effects.
RunResult run(int prog_fd, const Bytes& frame, uint32_t ifindex, bool trace);
// The same with skb->cb[0..4] set to cb_in as given.
RunResult run_with_cb(int prog_fd, const Bytes& frame, uint32_t ifindex, const nt_trace_cb& cb_in);
// An XDP program once on frame, as if it arrived on ingress_ifindex (XDP
// has no trace mode: cb stays empty).
RunResult run_xdp(int prog_fd, const Bytes& frame, uint32_t ingress_ifindex);

// The bytes of a libtins packet as they would be on the wire (Ethernet pads
// to 60 bytes, as a NIC would).
Bytes bytes(Tins::PDU& pdu);
inline Bytes bytes(Tins::PDU&& pdu) { return bytes(pdu); }

// Frames that really arrive at an interface (a tap's peer, the VM side): an
// AF_PACKET socket bound to it, stale frames drained on construction. A VLAN
// tag the kernel carries out of band (skb metadata, reported in
// PACKET_AUXDATA) is put back in the bytes, as libpcap does.
class Capture {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::milliseconds kWait{200};

    explicit Capture(const std::string& ifname);
    ~Capture();
    Capture(const Capture&) = delete;
    Capture& operator=(const Capture&) = delete;

    // Frames received until `until` (several captures can share one deadline
    // so a test waits once, not once per interface).
    std::vector<Bytes> frames(Clock::time_point until);
    std::vector<Bytes> frames() { return frames(Clock::now() + kWait); }

private:
    std::string ifname_;
    int fd_ = -1;
};

// A Neutron port of the fixture state as the tests see it.
struct TestPort {
    std::string name;      // Neutron port name ("red1")
    std::string tap;       // interface_name, the host end the programs run on
    std::string peer;      // the other veth end, standing in for the VM
    uint32_t ifindex = 0;  // of tap
    uint32_t port_tag = 0;
    Tins::HWAddress<6> mac;
    Tins::IPv4Address ip;
};

// Sum over CPUs of the per-reason and per-port counters.
nt_counter sum_counters(const std::vector<nt_counter>& per_cpu);
nt_port_stats sum_port_stats(const std::vector<nt_port_stats>& per_cpu);

// Writes entries into the empty maps of a freshly loaded datapath, then
// checks they hold exactly that (throws otherwise): tests exercise the
// programs, not a half-applied store.
void apply_entries(const neutrino::Datapath& dp, const neutrino::MapEntries& entries);

// ports[name], or an exception naming the state file that lacks it.
const TestPort& find_test_port(const std::map<std::string, TestPort>& ports, const std::string& name,
                               const std::string& state_file);

// A datapath's counters, summed over CPUs: drops of one reason, drops of
// every reason, one port's record.
uint64_t drop_packets(const neutrino::Datapath& dp, uint32_t reason);
uint64_t total_drop_packets(const neutrino::Datapath& dp);
nt_port_stats port_stats(const neutrino::Datapath& dp, uint32_t port_tag);

class TapDatapathTest : public ::testing::Test {
protected:
    static constexpr const char* kStateFile = NT_FIXTURES "/packet-l2.json";
    static constexpr const char* kHost = "h1";

    void SetUp() override;
    void TearDown() override;

    const TestPort& port(const std::string& name) const;
    int ingress_fd() const { return dp_->tap_ingress_fd(); }
    int egress_fd() const { return dp_->tap_egress_fd(); }
    // tap_ingress / tap_egress on a frame the named port's VM sends / receives.
    RunResult ingress(const std::string& port_name, const Bytes& frame, bool trace);
    RunResult egress(const std::string& port_name, const Bytes& frame, bool trace);

    // A veth pair with no port in the state; removed in TearDown.
    uint32_t add_stray_veth(const std::string& name, const std::string& peer);

    uint64_t drop_packets(uint32_t reason) const;
    uint64_t total_drop_packets() const;  // every reason
    nt_port_stats port_stats(const std::string& port_name) const;
    // Whether any per-port record exists (trace mode must not create one).
    bool any_port_stats() const;

    const neutrino::State& state() const { return state_; }
    const neutrino::CompileResult& compiled() const { return compiled_; }
    const neutrino::Datapath& datapath() const { return *dp_; }

private:
    neutrino::State state_;
    neutrino::CompileResult compiled_;
    std::unique_ptr<neutrino::Datapath> dp_;
    std::map<std::string, TestPort> ports_;
    std::vector<std::string> veths_;  // host ends to delete in TearDown
};

// A frame comparison whose failure names the first differing byte.
::testing::AssertionResult same_frame(const Bytes& got, const Bytes& want);

// "retval 2, verdict drop, target 0, reason spoofed-mac": for failure messages.
std::string describe(const RunResult& r);

// A trace-mode run that dropped the frame (TC_ACT_SHOT) and reported reason.
void expect_trace_drop(const RunResult& r, uint32_t reason);

}  // namespace nt_test
