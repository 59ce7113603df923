// `neutrino monitor`: streams the datapath's drop events (reason, port,
// network, 5-tuple), optionally into a pcap file, until --count, --duration
// or a signal. While it runs the datapath emits events, rate-limited; when it
// exits (signals included) the datapath's switch is off again.
#include "tools/cli_monitor.hpp"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <optional>

#include "loader/error.hpp"
#include "loader/monitor.hpp"
#include "loader/pcap_writer.hpp"

namespace neutrino::cli {

namespace {

volatile sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

// SIGINT, SIGTERM, SIGHUP end the loop (no SA_RESTART: the poll returns
// EINTR at once); SIGPIPE is ignored, a failed write ends it instead.
void install_signals() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaction(s, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

MonitorNames read_names(const Instance& inst) {
    MonitorNames names;
    for (const auto& u : inst.tunnels().uplinks) names[u.ifindex].ifname = u.ifname;
    for (const auto& p : inst.ports())
        names[p.ifindex] = MonitorIface{p.ifname, p.id, p.name, p.network_id, p.network_name};
    return names;
}

MonitorFilter build_filter(const Instance& inst, const MonitorCommand& c) {
    MonitorFilter f;
    if (!c.port.empty()) f.ifindex = inst.port_detail(c.port).port.ifindex;
    for (const auto& r : c.reasons) {
        auto n = parse_drop_reason(r);
        if (!n) throw Error("--reason: unknown drop reason '" + r + "' (`neutrino stats --all` lists them)");
        f.reasons |= uint64_t{1} << *n;
    }
    for (const auto& a : c.addrs) {
        std::optional<Cidr> cidr = Cidr::parse(a, true);
        if (!cidr)
            if (auto ip = IpAddr::parse(a)) cidr = Cidr::host(*ip);
        if (!cidr) throw Error("--addr: '" + a + "' is neither an IP address nor a CIDR");
        f.addrs.push_back(*cidr);
    }
    return f;
}

}  // namespace

bool MonitorCommand::given() const { return cmd && cmd->parsed(); }

std::unique_ptr<MonitorCommand> add_monitor_command(CLI::App& app) {
    auto c = std::make_unique<MonitorCommand>();
    auto* m = app.add_subcommand("monitor", "Stream dropped packets as they happen: reason, port, 5-tuple (rate-limited)");
    c->cmd = m;
    m->add_option("--port", c->port, "Only drops on this port (id, first 8+ characters of it, name, or tap)");
    m->add_option("--reason", c->reasons, "Only drops of this reason (name or number; repeat for more)");
    m->add_option("--addr", c->addrs, "Only packets from or to this IP or CIDR (repeat for more)");
    m->add_option("--pcap", c->pcap, "Also write the captured bytes (first " + std::to_string(NT_MON_SNAPLEN) +
                                         " of each packet) to this pcap file");
    m->add_option("--count", c->count, "Exit after this many events")->check(CLI::PositiveNumber);
    m->add_option("--duration", c->duration, "Exit after this many seconds")->check(CLI::PositiveNumber);
    m->add_option("--rate", c->rate, "Events per second the datapath may emit, over all CPUs")
        ->check(CLI::Range(1.0, 1e7))->capture_default_str();
    m->add_option("--burst", c->burst, "Events the datapath may emit at once after a quiet spell")
        ->check(CLI::Range(1u, 1000000u))->capture_default_str();
    m->footer("\nThe datapath applies --port and --reason before the rate limit, --addr is applied here.\n"
              "Drops beyond the rate are counted as suppressed (shown on exit), not emitted. Without a\n"
              "running monitor the datapath does no event work. One monitor per instance at a time.\n"
              "Examples:\n"
              "  neutrino monitor --reason sg-no-match --count 10\n"
              "  neutrino monitor --port vm1 --pcap drops.pcap --duration 30   # then: tcpdump -r drops.pcap");
    return c;
}

int run_monitor_command(const Globals& g, const MonitorCommand& c) {
    Instance inst(g.instance_options());
    if (!inst.exists()) throw Error("instance '" + g.instance + "': nothing applied (no pins under " + inst.pins().abi + ")");
    MonitorFilter filter = build_filter(inst, c);
    MonitorNames names = read_names(inst);
    std::optional<PcapWriter> pcap;
    if (!c.pcap.empty()) pcap.emplace(c.pcap);

    MonitorSettings settings;
    settings.ifindex = filter.ifindex.value_or(0);
    settings.reasons = filter.reasons;
    settings.rate = c.rate;
    settings.burst = c.burst;
    install_signals();
    MonitorSession session(inst.pins(), settings);
    const int64_t wall_offset = monotonic_to_wall_offset_ns();
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    std::optional<Clock::time_point> deadline;
    if (c.duration > 0)
        deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c.duration));
    if (!g.json())
        std::cerr << "monitor: instance '" << g.instance << "', up to " << c.rate << " events/s; Ctrl-C to stop\n";

    uint64_t shown = 0, filtered = 0;
    bool names_refreshed = false, out_failed = false;
    auto handle = [&](const MonitorEvent& e) {
        if (c.count && shown >= c.count) return;
        PacketSummary p = decode_packet(e.data.data(), e.data.size());
        if (!filter.matches(e, p)) {
            filtered++;
            return;
        }
        if (!names.count(e.ifindex) && !names_refreshed) {  // a port wired since we started
            names = read_names(inst);
            names_refreshed = true;
        }
        uint64_t wall = e.ts_ns + static_cast<uint64_t>(wall_offset);
        if (g.json())
            std::cout << monitor_event_json(e, p, names, wall).dump() << "\n";
        else
            std::cout << monitor_event_text(e, p, names, wall) << "\n";
        std::cout.flush();
        if (!std::cout) out_failed = true;
        if (pcap) pcap->write(e, wall);
        shown++;
    };
    while (!g_stop && !out_failed && !(c.count && shown >= c.count)) {
        int timeout_ms = 200;
        if (deadline) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
            if (left <= 0) break;
            timeout_ms = static_cast<int>(std::min<long long>(left, timeout_ms));
        }
        int n = session.poll(timeout_ms, handle);
        if (n < 0 && n != -EINTR) throw_errno("read the monitor ring buffer", -n);
        if (pcap) pcap->flush();
    }
    session.stop();  // the datapath stops emitting before we report
    // What the datapath emitted before it stopped is shown too (up to --count).
    if (!out_failed) session.poll(0, handle);
    if (pcap) pcap->flush();
    MonitorCounts k = session.counts();
    double secs = std::chrono::duration<double>(Clock::now() - start).count();
    if (g.json()) {
        nlohmann::json s = {{"summary", {{"shown", shown}, {"filtered", filtered}, {"emitted", k.emitted},
                                         {"suppressed", k.suppressed}, {"lost", k.lost}, {"seconds", secs}}}};
        std::cerr << s.dump() << "\n";
    } else {
        std::cerr << "monitor: " << shown << " events shown, " << filtered << " filtered out here; datapath: "
                  << k.emitted << " emitted, " << k.suppressed << " suppressed by the rate limit, " << k.lost
                  << " lost (ring buffer full) in " << secs << " s\n";
    }
    return 0;
}

}  // namespace neutrino::cli
