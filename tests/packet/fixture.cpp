#include "fixture.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <system_error>

#include "loader/links.hpp"
#include "maps/bpf_map.hpp"
#include "maps/bpf_map_store.hpp"
#include "maps/diff.hpp"
#include "maps/drop_reasons.hpp"
#include "maps/entries.hpp"

namespace nt_test {

namespace {

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

RunResult run(int prog_fd, const Bytes& frame, uint32_t ifindex, bool trace) {
    nt_trace_cb cb{};
    if (trace) {
        cb.magic0 = NT_TRACE_MAGIC0;
        cb.magic1 = NT_TRACE_MAGIC1;
    }
    return run_with_cb(prog_fd, frame, ifindex, cb);
}

namespace {

// One BPF_PROG_TEST_RUN: the retval and the frame as the program left it.
RunResult test_run(int prog_fd, const Bytes& frame, const void* ctx_in, uint32_t ctx_in_size, void* ctx_out,
                   uint32_t ctx_out_size) {
    RunResult r;
    r.out.resize(frame.size() + 512);  // room for a program that grows the frame
    bpf_test_run_opts opts{};
    opts.sz = sizeof opts;
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<uint32_t>(frame.size());
    opts.data_out = r.out.data();
    opts.data_size_out = static_cast<uint32_t>(r.out.size());
    opts.ctx_in = ctx_in;
    opts.ctx_size_in = ctx_in_size;
    opts.ctx_out = ctx_out;
    opts.ctx_size_out = ctx_out_size;
    opts.repeat = 1;
    if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) throw_errno("BPF_PROG_TEST_RUN");
    r.retval = static_cast<int>(opts.retval);
    r.out.resize(opts.data_size_out);
    return r;
}

}  // namespace

RunResult run_with_cb(int prog_fd, const Bytes& frame, uint32_t ifindex, const nt_trace_cb& cb_in) {
    // Only fields the kernel lets a test run set: ifindex makes skb->dev
    // (and so skb->ifindex) the tap, cb carries the trace request.
    __sk_buff ctx_in{};
    ctx_in.ifindex = ifindex;
    static_assert(sizeof cb_in == sizeof ctx_in.cb);
    std::memcpy(ctx_in.cb, &cb_in, sizeof cb_in);
    __sk_buff ctx_out{};
    RunResult r = test_run(prog_fd, frame, &ctx_in, sizeof ctx_in, &ctx_out, sizeof ctx_out);
    r.cb = {ctx_out.cb[0], ctx_out.cb[1], ctx_out.cb[2], ctx_out.cb[3], ctx_out.cb[4]};
    r.mark = ctx_out.mark;
    r.priority = ctx_out.priority;
    return r;
}

RunResult run_xdp(int prog_fd, const Bytes& frame, uint32_t ingress_ifindex) {
    // The kernel wants data_end to be the frame's size (no metadata).
    xdp_md ctx{};
    ctx.data_end = static_cast<uint32_t>(frame.size());
    ctx.ingress_ifindex = ingress_ifindex;
    return test_run(prog_fd, frame, &ctx, sizeof ctx, nullptr, 0);
}

Bytes bytes(Tins::PDU& pdu) { return pdu.serialize(); }

// ---- Capture ---------------------------------------------------------------

Capture::Capture(const std::string& ifname) : ifname_(ifname) {
    unsigned ifindex = if_nametoindex(ifname.c_str());
    if (!ifindex) throw_errno("capture on " + ifname);
    // Protocol 0 until bound: an ETH_P_ALL socket would otherwise queue
    // frames of every interface between socket() and bind().
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw_errno("AF_PACKET socket for " + ifname);
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(ifindex);
    int one = 1;
    if (setsockopt(fd_, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) != 0 ||
        bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
        int err = errno;
        close(fd_);
        errno = err;
        throw_errno("bind AF_PACKET socket (with PACKET_AUXDATA) to " + ifname);
    }
    uint8_t buf[2048];
    while (recv(fd_, buf, sizeof buf, 0) >= 0) {
    }
}

Capture::~Capture() {
    if (fd_ >= 0) close(fd_);
}

std::vector<Bytes> Capture::frames(Clock::time_point until) {
    std::vector<Bytes> out;
    for (;;) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
        pollfd p{fd_, POLLIN, 0};
        int n = poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("poll capture on " + ifname_);
        if (n == 0) return out;  // deadline passed with nothing pending
        for (;;) {
            Bytes buf(65536);
            sockaddr_ll from{};
            alignas(cmsghdr) char control[CMSG_SPACE(sizeof(tpacket_auxdata))];
            iovec iov{buf.data(), buf.size()};
            msghdr msg{};
            msg.msg_name = &from;
            msg.msg_namelen = sizeof from;
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            ssize_t got = recvmsg(fd_, &msg, 0);
            if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            if (got < 0) throw_errno("recv capture on " + ifname_);
            // The peer stands in for a VM: only what arrives at it counts.
            if (from.sll_pkttype == PACKET_OUTGOING) continue;
            buf.resize(static_cast<size_t>(got));
            for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
                tpacket_auxdata aux;
                std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
                if (!(aux.tp_status & TP_STATUS_VLAN_VALID) || buf.size() < 12) continue;
                uint16_t tpid = (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid : ETH_P_8021Q;
                const uint8_t tag[4] = {static_cast<uint8_t>(tpid >> 8), static_cast<uint8_t>(tpid),
                                        static_cast<uint8_t>(aux.tp_vlan_tci >> 8),
                                        static_cast<uint8_t>(aux.tp_vlan_tci)};
                buf.insert(buf.begin() + 12, tag, tag + 4);
            }
            out.push_back(std::move(buf));
        }
    }
}

// ---- counters --------------------------------------------------------------

namespace {

void add(nt_counter& to, const nt_counter& c) {
    to.packets += c.packets;
    to.bytes += c.bytes;
}

}  // namespace

nt_counter sum_counters(const std::vector<nt_counter>& per_cpu) {
    nt_counter s{};
    for (const auto& c : per_cpu) add(s, c);
    return s;
}

nt_port_stats sum_port_stats(const std::vector<nt_port_stats>& per_cpu) {
    nt_port_stats s{};
    for (const auto& c : per_cpu) {
        add(s.from_vm, c.from_vm);
        add(s.to_vm, c.to_vm);
        add(s.arp_reply, c.arp_reply);
        add(s.flooded, c.flooded);
        add(s.dropped, c.dropped);
    }
    return s;
}

// ---- fixture ---------------------------------------------------------------

void apply_entries(const neutrino::Datapath& dp, const neutrino::MapEntries& entries) {
    neutrino::BpfMapStore store(dp.maps());
    store.apply(neutrino::diff({}, entries));
    if (!(store.read_all() == entries)) throw std::runtime_error("the maps do not hold the applied entries");
}

const TestPort& find_test_port(const std::map<std::string, TestPort>& ports, const std::string& name,
                               const std::string& state_file) {
    auto it = ports.find(name);
    if (it == ports.end()) throw std::out_of_range("no port named " + name + " in " + state_file);
    return it->second;
}

void TapDatapathTest::SetUp() {
    state_ = neutrino::load_state_file(kStateFile);

    // One veth pair per port bound here: the host end carries the port's
    // interface_name (the tap the programs run on), the peer plays the VM
    // and so wears the port's MAC.
    for (const auto& p : state_.ports) {
        if (p.host_id != kHost) continue;
        ASSERT_EQ(p.interface_name.rfind("t-", 0), 0u) << "fixture taps are named t-<name>: " << p.interface_name;
        TestPort tp;
        tp.name = p.name;
        tp.tap = p.interface_name;
        tp.peer = "p-" + p.interface_name.substr(2);
        std::copy(p.mac_address.b.begin(), p.mac_address.b.end(), tp.mac.begin());
        ASSERT_EQ(p.fixed_ips.size(), 1u) << p.name;
        tp.ip = Tins::IPv4Address(p.fixed_ips[0].ip_address.str());
        neutrino::create_veth(tp.tap, tp.peer, -1, p.mac_address);
        veths_.push_back(tp.tap);
        neutrino::set_link_up(tp.tap);
        neutrino::set_link_up(tp.peer);
        ports_[tp.name] = tp;
    }

    dp_ = neutrino::Datapath::load(std::nullopt);
    neutrino::CompileInput in;  // by member: other fields keep their defaults
    in.host = kHost;
    in.ifindex_by_name = neutrino::list_interfaces();
    compiled_ = neutrino::compile(state_, in);
    ASSERT_TRUE(compiled_.pending_ports.empty()) << "every fixture tap exists, none may be pending";
    ASSERT_EQ(compiled_.local_ports.size(), ports_.size());
    for (const auto& lp : compiled_.local_ports) {
        const auto* p = state_.find_port(lp.port_id);
        ASSERT_NE(p, nullptr);
        auto& tp = ports_.at(p->name);
        tp.ifindex = lp.ifindex;
        tp.port_tag = lp.port_tag;
        ASSERT_EQ(tp.ifindex, neutrino::find_ifindex(tp.tap).value_or(0)) << tp.name;
    }

    apply_entries(*dp_, compiled_.entries);
}

void TapDatapathTest::TearDown() {
    dp_.reset();
    // Deleting one end of a veth deletes the pair.
    for (const auto& name : veths_) neutrino::delete_link(name);
    veths_.clear();
}

const TestPort& TapDatapathTest::port(const std::string& name) const {
    return find_test_port(ports_, name, kStateFile);
}

RunResult TapDatapathTest::ingress(const std::string& port_name, const Bytes& frame, bool trace) {
    return run(ingress_fd(), frame, port(port_name).ifindex, trace);
}

RunResult TapDatapathTest::egress(const std::string& port_name, const Bytes& frame, bool trace) {
    return run(egress_fd(), frame, port(port_name).ifindex, trace);
}

uint32_t TapDatapathTest::add_stray_veth(const std::string& name, const std::string& peer) {
    neutrino::create_veth(name, peer, -1, std::nullopt);
    veths_.push_back(name);
    neutrino::set_link_up(name);
    neutrino::set_link_up(peer);
    return neutrino::find_ifindex(name).value();
}

uint64_t drop_packets(const neutrino::Datapath& dp, uint32_t reason) {
    neutrino::PerCpuBpfMap<__u32, nt_counter> m(dp.map_fd(neutrino::kMapDropStats), neutrino::kMapDropStats);
    return sum_counters(m.lookup(reason)).packets;
}

uint64_t total_drop_packets(const neutrino::Datapath& dp) {
    uint64_t total = 0;
    for (uint32_t r = 0; r < NT_DROP_MAX; r++) total += drop_packets(dp, r);
    return total;
}

nt_port_stats port_stats(const neutrino::Datapath& dp, uint32_t port_tag) {
    neutrino::PerCpuBpfMap<__u32, nt_port_stats> m(dp.map_fd(neutrino::kMapPortStats), neutrino::kMapPortStats);
    return sum_port_stats(m.lookup(port_tag));
}

uint64_t TapDatapathTest::drop_packets(uint32_t reason) const { return nt_test::drop_packets(*dp_, reason); }

uint64_t TapDatapathTest::total_drop_packets() const { return nt_test::total_drop_packets(*dp_); }

nt_port_stats TapDatapathTest::port_stats(const std::string& port_name) const {
    return nt_test::port_stats(*dp_, port(port_name).port_tag);
}

bool TapDatapathTest::any_port_stats() const {
    neutrino::PerCpuBpfMap<__u32, nt_port_stats> m(dp_->map_fd(neutrino::kMapPortStats),
                                                    neutrino::kMapPortStats);
    bool any = false;
    m.for_each_key([&](__u32) { any = true; });
    return any;
}

// ---- assertions ------------------------------------------------------------

namespace {

std::string hex(const Bytes& b) {
    std::ostringstream os;
    for (size_t i = 0; i < b.size(); i++) {
        char h[4];
        std::snprintf(h, sizeof h, "%02x", b[i]);
        os << (i && i % 16 == 0 ? "\n  " : i ? " " : "  ") << h;
    }
    return os.str();
}

}  // namespace

::testing::AssertionResult same_frame(const Bytes& got, const Bytes& want) {
    if (got == want) return ::testing::AssertionSuccess();
    auto diff = std::mismatch(got.begin(), got.end(), want.begin(), want.end());
    return ::testing::AssertionFailure()
           << "frames differ at byte " << (diff.first - got.begin()) << " (got " << got.size() << " bytes, want "
           << want.size() << ")\n got:\n" << hex(got) << "\n want:\n" << hex(want);
}

std::string describe(const RunResult& r) {
    static const char* const verdicts[] = {"none", "pass", "redirect", "flood", "reply", "drop", "deliver"};
    std::ostringstream os;
    os << "retval " << r.retval << ", verdict ";
    if (r.cb.verdict < std::size(verdicts))
        os << verdicts[r.cb.verdict];
    else
        os << r.cb.verdict;
    os << ", target " << r.cb.target << ", reason "
       << (r.cb.reason ? neutrino::drop_reason_name(r.cb.reason) : "-");
    return os.str();
}

void expect_trace_drop(const RunResult& r, uint32_t reason) {
    EXPECT_EQ(r.retval, kTcActShot) << describe(r);
    EXPECT_EQ(r.cb.verdict, NT_VERDICT_DROP) << describe(r);
    EXPECT_EQ(r.cb.reason, reason) << describe(r);
}

}  // namespace nt_test
