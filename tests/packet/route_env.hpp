// The routing test environment (RouteTest): host h1 of packet-route.json in
// the test's private namespace.
//
//   t-<port> / p-<port>   one veth pair per VM port bound to h1 (tap / VM side)
//   vtep0 / sw-vtep0      the tunnel interface holding h1's tunnel_ip
//                         192.0.2.1/24, so routed frames to ports on h2
//                         take the overlay (no neighbour entry for h2: the
//                         outer Ethernet header is left to the kernel)
//
// plus a freshly loaded datapath (own, unpinned maps) holding the state
// compiled for h1. Every port of the state is known by name, router
// interfaces included ("r1-a": router-1's MAC and address on net-a), with
// its first IPv4 address.
//
// A subclass may name another state file (state_file()); h1's
// physical_interface_mappings then become veth pairs too:
//
//   <ifname> / sw-<ifname>  the physnet uplink (uplink_ingress runs on it)
//                           and its peer, standing in for the wire
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "frames.hpp"
#include "loader/datapath.hpp"

namespace nt_test {

class RouteTest : public ::testing::Test {
protected:
    static constexpr const char* kStateFile = NT_FIXTURES "/packet-route.json";
    static constexpr const char* kHost = "h1";
    static constexpr const char* kTunnelIf = "vtep0";
    static constexpr const char* kTunnelPeer = "sw-vtep0";
    static inline const Ip kVtep1{"192.0.2.1"};  // h1, this host
    static inline const Ip kVtep2{"192.0.2.2"};  // h2

    void SetUp() override;
    void TearDown() override;
    // The state the datapath is compiled from (default kStateFile), and a
    // change a subclass makes to it before anything is built.
    virtual const char* state_file() const { return kStateFile; }
    virtual void adjust_state(neutrino::State&) const {}
    const neutrino::State& state() const { return state_; }

    const TestPort& port(const std::string& name) const;
    uint32_t tunnel_ifindex() const { return tunnel_ifindex_; }
    uint32_t ifindex(const std::string& ifname) const;  // throws for no such interface
    const neutrino::Datapath& datapath() const { return *dp_; }
    // tap_ingress on a frame the named (local) port's VM sends.
    RunResult ingress(const std::string& port_name, const Bytes& frame, bool trace);
    // uplink_ingress on a frame arriving from the wire at the uplink ifname.
    RunResult uplink_ingress(const std::string& ifname, const Bytes& frame, bool trace);
    // Attaches a program of the datapath at a TC hook for real (cls_bpf;
    // removed with the interface in TearDown), for what a test run cannot
    // do (a VLAN tag in the skb metadata).
    void attach_tc(const char* prog, const std::string& ifname, bool ingress);

    uint64_t drop_packets(uint32_t reason) const { return nt_test::drop_packets(*dp_, reason); }
    uint64_t total_drop_packets() const { return nt_test::total_drop_packets(*dp_); }
    nt_port_stats port_stats(const std::string& name) const { return nt_test::port_stats(*dp_, port(name).port_tag); }
    // Records in the per-port and per-uplink counters, and in the connection
    // table (trace mode must create none).
    size_t counter_records() const;
    size_t ct_entries() const;

private:
    neutrino::State state_;
    std::unique_ptr<neutrino::Datapath> dp_;
    std::map<std::string, TestPort> ports_;
    std::vector<std::string> links_;  // one end of each veth, deleted in TearDown
    uint32_t tunnel_ifindex_ = 0;
};

}  // namespace nt_test
