// The per-packet bench: every datapath path timed with BPF_PROG_TEST_RUN
// against the floor of a program that only returns, in one process and one
// run. A path is one row of the case table (cases.cpp); a row for a path that
// does not exist yet says so and which issue brings it, and is never timed.
//
// Everything runs in a private network namespace (unshare in main), so the
// veth "taps" the programs run on are invisible to the host and disappear
// with the process.
#pragma once

#include <tins/hw_address.h>
#include <tins/ip_address.h>

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "loader/datapath.hpp"
#include "maps/compile.hpp"
#include "maps/state.hpp"
#include "neutrino/abi.h"
#include "neutrino/drop_reasons.h"

struct bpf_object;

namespace nt_bench {

using Bytes = std::vector<uint8_t>;

// TC action codes (linux/pkt_cls.h).
inline constexpr int kTcActOk = 0;
inline constexpr int kTcActShot = 2;
inline constexpr int kTcActRedirect = 7;

// A port of the bench state as the cases see it: its veth host end carries
// the programs, the peer stands in for the VM.
struct BenchPort {
    std::string name, tap, peer;
    uint32_t ifindex = 0;
    uint32_t port_tag = 0;
    Tins::HWAddress<6> mac;
    Tins::IPv4Address ip;
};

// Counters summed over CPUs: per port (by port name) and per drop reason.
struct Counters {
    std::map<std::string, nt_port_stats> ports;
    std::array<uint64_t, NT_DROP_MAX> drops{};
    uint64_t rule_hits = 0;  // new flows admitted, over all rules
    uint64_t encap = 0, decap = 0;  // frames through the tunnel uplink
    uint64_t dhcp_offers = 0;       // OFFERs the DHCP server sent, all ports
    uint64_t ext_tx = 0, ext_rx = 0;  // frames out of / in through the physnet uplinks (external network)
    uint64_t nat_bindings = 0;        // entries of nt_nat (SNAT bindings, both directions)
    uint64_t total_drops() const;
};

// The host's tunnel interface (a veth: its peer stands in for the underlay).
struct BenchUplink {
    std::string name = "bt-ul0", peer = "bp-ul0";
    uint32_t ifindex = 0;
    Tins::HWAddress<6> mac, peer_mac;
    Tins::IPv4Address ip{"192.0.2.1"};         // this host's tunnel_ip
    Tins::IPv4Address remote_ip{"192.0.2.2"};  // the other host's
};

// A conntrack entry of one port (zone), as the datapath left it.
struct CtFlow {
    nt_ct_key key;
    nt_ct_entry entry;
};

// The datapath loaded (not pinned) with one state compiled and written, the
// trivial program for the floor, and the ports of the state wired on veths.
class Env {
public:
    Env(const std::string& state_file, const std::string& trivial_obj);
    ~Env();
    Env(const Env&) = delete;
    Env& operator=(const Env&) = delete;

    const BenchPort& port(const std::string& name) const;
    // A port bound to the other host of the state (MAC and IP only).
    BenchPort remote(const std::string& name) const;
    const BenchUplink& uplink() const { return uplink_; }
    // A physnet uplink of the bench host (physical_interface_mappings: a veth
    // bt-<x> whose peer bp-<x> stands for the wire), by interface name.
    uint32_t physnet_ifindex(const std::string& ifname) const;
    const neutrino::Datapath& datapath() const { return *dp_; }
    const neutrino::State& state() const { return state_; }
    int trivial_fd() const { return trivial_fd_; }
    Counters counters() const;

    // The bench state as JSON, and applying an edited copy of it to the live
    // maps (compile, diff against the maps, write), as `apply` would.
    const nlohmann::json& doc() const { return doc_; }
    const nlohmann::json& base_doc() const { return base_doc_; }  // as loaded
    void apply(const nlohmann::json& doc);
    std::vector<CtFlow> ct_flows(uint32_t zone) const;
    void clear_ct();  // deletes every conntrack entry

private:
    nlohmann::json doc_, base_doc_;
    neutrino::State state_;
    std::unique_ptr<neutrino::Datapath> dp_;
    std::map<std::string, BenchPort> ports_;
    BenchUplink uplink_;
    std::map<std::string, uint32_t> physnets_;  // physnet uplink ifname -> ifindex
    std::vector<std::string> veths_;
    ::bpf_object* trivial_obj_ = nullptr;
    int trivial_fd_ = -1;
};

// What a case hands the runner: the program, the frame, where it "arrives",
// what every run must return, and how to tell from the counters afterwards
// that every run took the intended path.
struct Prepared {
    int prog_fd = -1;
    uint32_t ifindex = 0;
    Bytes frame;
    // Time single runs (repeat = 1 each) instead of one repeated run, when a
    // repetition would not take the same path as the first: the program
    // rewrites the frame in place (BPF_PROG_TEST_RUN with repeat > 1 reuses
    // the same skb), or the first run changes state (a new flow becomes a
    // tracked one). Say why in notes.
    bool single_runs = false;
    // Time the program in trace mode (skb->cb magic: the same decisions,
    // no writes, no counters). For diagnostic rows that isolate the lookups
    // of a path from its bookkeeping; check() then proves nothing was written.
    bool trace_timing = false;
    int retval = kTcActOk;      // the TC action every run must return
    uint32_t verdict = 0;       // enum nt_verdict of one trace-mode run (0 = don't check)
    uint32_t target = 0;        // and its target (ifindex / copies), checked when verdict is
    // "" when the counters show exactly `runs` executions of the intended
    // path, else what is wrong.
    std::function<std::string(const Counters& before, const Counters& after, uint64_t runs)> check;
    // Single-run mode only: a different frame for run i (e.g. a new flow per
    // run), and a reset before each batch (outside the timed runs).
    std::function<void(Bytes& frame, uint64_t i)> vary;
    std::function<void()> reset;
    // Optional, after the timed runs: "" or what is wrong (e.g. conntrack state).
    std::function<std::string(uint64_t runs)> after;
    // Optional: "" or what is wrong with the frame the trace run left.
    std::function<std::string(const Bytes& out)> out_check;
    std::string notes;
};

struct Case {
    std::string name;     // stable id in the JSON: "l2_forward"
    std::string path;     // what it measures, for the table
    std::string pending;  // non-empty: not implemented yet, the issue that brings it
    std::function<Prepared(Env&)> prepare;
};

// One BPF_PROG_TEST_RUN of prog_fd on frame arriving on ifindex; returns
// the TC action. For the set-up steps of a case (open a TCP connection...).
int run_once(int prog_fd, const Bytes& frame, uint32_t ifindex);

// The table, in report order.
std::vector<Case> cases();

// Frames (libtins, independent of the datapath's parsers). 60 bytes is a
// minimum-size Ethernet frame (64 on the wire with the FCS).
Bytes udp_frame(const Tins::HWAddress<6>& src_mac, const Tins::HWAddress<6>& dst_mac,
                const Tins::IPv4Address& src, const Tins::IPv4Address& dst, size_t frame_len = 60);
Bytes udp_frame(const BenchPort& from, const BenchPort& to, size_t frame_len = 60);
Bytes arp_request(const BenchPort& from, const Tins::IPv4Address& asked);
// A tunnel packet from the other host to this one carrying `inner`:
// VXLAN (UDP 4789, the VNI) or GRE (key = segmentation id, TEB).
Bytes tunnel_frame(const BenchUplink& u, bool vxlan, uint32_t seg_id, const Bytes& inner);
// TCP with the given flags (Tins::TCP::SYN | ...) and payload bytes.
Bytes tcp_frame(const BenchPort& from, const BenchPort& to, uint16_t sport, uint16_t dport, uint16_t flags,
                size_t payload = 0);

}  // namespace nt_bench
