// nt_bench_pkt: ns per packet of every datapath path with BPF_PROG_TEST_RUN,
// and the floor (a program that only returns) from the same run. Prints a
// JSON document (stdout, or --json FILE).
//
//   nt_bench_pkt [--repeat N] [--trials T] [--single-runs K] [--json FILE]
//                [--state FILE] [--trivial FILE]
//
// Timing: BPF_PROG_TEST_RUN's own duration (the kernel times the loop of
// `repeat` runs, without the syscall and skb setup) divided by repeat; the
// median of T trials is reported. A case whose first run changes what the
// next one sees (the frame rewritten in place, a flow now tracked) is timed
// over K single runs instead (repeat = 1 each); those carry a per-run timer
// overhead that the trivial program, timed the same way, shows, so the
// reported figure is single-run mean - floor(single) + floor(repeat). Every
// case is timed in single runs too, which shows that mode's remaining bias.
#include <bpf/bpf.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>

#include "env.hpp"
#include "loader/links.hpp"
#include "loader/log.hpp"

using nlohmann::json;
using namespace nt_bench;

namespace {

struct Options {
    uint32_t repeat = 1000000;
    int trials = 5;
    uint32_t single_runs = 200000;
    std::string json_out;
    std::string state = NT_BENCH_STATE;
    std::string trivial = NT_BENCH_TRIVIAL_OBJ;
};

struct RunOut {
    int retval = -1;
    uint32_t duration = 0;  // ns per run, as the kernel measured
    Bytes out;
    nt_trace_cb cb{};
};

RunOut test_run(int fd, const Bytes& frame, uint32_t ifindex, uint32_t repeat, bool trace) {
    __sk_buff ctx_in{}, ctx_out{};
    ctx_in.ifindex = ifindex;
    if (trace) {
        ctx_in.cb[0] = NT_TRACE_MAGIC0;
        ctx_in.cb[1] = NT_TRACE_MAGIC1;
    }
    RunOut r;
    r.out.resize(frame.size() + 512);
    bpf_test_run_opts opts{};
    opts.sz = sizeof opts;
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<uint32_t>(frame.size());
    opts.data_out = r.out.data();
    opts.data_size_out = static_cast<uint32_t>(r.out.size());
    opts.ctx_in = &ctx_in;
    opts.ctx_size_in = sizeof ctx_in;
    opts.ctx_out = &ctx_out;
    opts.ctx_size_out = sizeof ctx_out;
    opts.repeat = repeat;
    if (bpf_prog_test_run_opts(fd, &opts) != 0)
        throw std::system_error(errno, std::generic_category(), "BPF_PROG_TEST_RUN");
    r.retval = static_cast<int>(opts.retval);
    r.duration = opts.duration;
    r.out.resize(opts.data_size_out);
    r.cb = {ctx_out.cb[0], ctx_out.cb[1], ctx_out.cb[2], ctx_out.cb[3], ctx_out.cb[4]};
    return r;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Timing {
    std::vector<double> samples;  // ns per packet, one per trial / batch
    uint64_t runs = 0;            // program executions, warm-up included
    double med() const { return median(samples); }
    double min() const { return samples.empty() ? 0 : *std::min_element(samples.begin(), samples.end()); }
    double max() const { return samples.empty() ? 0 : *std::max_element(samples.begin(), samples.end()); }
};

// repeat-mode: T trials of `repeat` runs each (plus a short warm-up).
Timing time_repeat(int fd, const Bytes& frame, uint32_t ifindex, const Options& o, int want_retval,
                   bool trace = false) {
    Timing t;
    uint32_t warm = std::max<uint32_t>(1, o.repeat / 10);
    RunOut w = test_run(fd, frame, ifindex, warm, trace);
    t.runs += warm;
    if (w.retval != want_retval)
        throw std::runtime_error("returned " + std::to_string(w.retval) + ", expected " +
                                 std::to_string(want_retval));
    for (int i = 0; i < o.trials; i++) {
        RunOut r = test_run(fd, frame, ifindex, o.repeat, trace);
        t.runs += o.repeat;
        if (r.retval != want_retval)
            throw std::runtime_error("returned " + std::to_string(r.retval) + ", expected " +
                                     std::to_string(want_retval));
        t.samples.push_back(r.duration);
    }
    return t;
}

// single-run mode: K runs of repeat=1 in T batches; a sample is a batch mean
// of the kernel's per-run durations. Every run must return want_retval and
// (when given) leave want_out. vary gives run i its own frame; reset runs
// before each batch, outside the timing (the kernel's duration excludes it).
Timing time_single(int fd, const Bytes& frame, uint32_t ifindex, const Options& o, int want_retval,
                   const Bytes* want_out, const std::function<void(Bytes&, uint64_t)>& vary = nullptr,
                   const std::function<void()>& reset = nullptr, bool trace = false) {
    Timing t;
    uint32_t per_batch = std::max<uint32_t>(1, o.single_runs / static_cast<uint32_t>(o.trials));
    Bytes f = frame;
    uint64_t i = 0;
    auto one = [&]() {
        if (vary) vary(f, i);
        i++;
        RunOut r = test_run(fd, f, ifindex, 1, trace);
        t.runs++;
        if (r.retval != want_retval)
            throw std::runtime_error("run " + std::to_string(i) + " returned " + std::to_string(r.retval) +
                                     ", expected " + std::to_string(want_retval));
        if (want_out && !vary && r.out != *want_out) throw std::runtime_error("a run left another frame");
        return r.duration;
    };
    if (reset) reset();
    for (uint32_t k = 0; k < per_batch / 10 + 1; k++) one();  // warm-up
    for (int b = 0; b < o.trials; b++) {
        if (reset) reset();
        uint64_t sum = 0;
        for (uint32_t k = 0; k < per_batch; k++) sum += one();
        t.samples.push_back(static_cast<double>(sum) / per_batch);
    }
    return t;
}

json timing_json(const Timing& t) {
    return {{"ns_median", t.med()}, {"ns_min", t.min()}, {"ns_max", t.max()}, {"samples", t.samples},
            {"runs", t.runs}};
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
            return argv[++i];
        };
        if (a == "--repeat")
            o.repeat = static_cast<uint32_t>(std::stoul(next()));
        else if (a == "--trials")
            o.trials = std::stoi(next());
        else if (a == "--single-runs")
            o.single_runs = static_cast<uint32_t>(std::stoul(next()));
        else if (a == "--json")
            o.json_out = next();
        else if (a == "--state")
            o.state = next();
        else if (a == "--trivial")
            o.trivial = next();
        else
            throw std::invalid_argument("unknown argument " + a);
    }
    if (o.repeat < 1 || o.trials < 1 || o.single_runs < 1) throw std::invalid_argument("counts must be >= 1");
    return o;
}

std::string num(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f", v);
    return b;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    try {
        o = parse(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nt_bench_pkt: %s\n", e.what());
        return 2;
    }
    if (geteuid() != 0) {
        std::fprintf(stderr, "nt_bench_pkt: needs root (BPF_PROG_TEST_RUN, netns)\n");
        return 1;
    }
    neutrino::init_logging(0);
    if (unshare(CLONE_NEWNET) != 0) {
        std::perror("nt_bench_pkt: unshare(CLONE_NEWNET)");
        return 1;
    }
    for (const char* p : {"/proc/sys/net/ipv6/conf/all/disable_ipv6", "/proc/sys/net/ipv6/conf/default/disable_ipv6"}) {
        std::ofstream f(p);
        if (f) f << "1\n";
    }

    json doc;
    try {
        neutrino::set_link_up("lo");
        Env env(o.state, o.trivial);
        const auto &vm1 = env.port("vm1"), &vm2 = env.port("vm2");
        Bytes floor_frame = udp_frame(vm1, vm2);

        auto t0 = std::chrono::steady_clock::now();
        Timing floor_rep = time_repeat(env.trivial_fd(), floor_frame, vm1.ifindex, o, kTcActOk);
        Timing floor_single = time_single(env.trivial_fd(), floor_frame, vm1.ifindex, o, kTcActOk, nullptr);

        json rows = json::array();
        for (const auto& c : cases()) {
            json row = {{"name", c.name}, {"path", c.path}};
            if (!c.pending.empty()) {
                row["status"] = "pending";
                row["issue"] = c.pending;
                rows.push_back(row);
                continue;
            }
            try {
                Prepared p = c.prepare(env);
                RunOut trace;
                if (p.verdict) {
                    trace = test_run(p.prog_fd, p.frame, p.ifindex, 1, true);
                    if (trace.cb.verdict != p.verdict || (p.target && trace.cb.target != p.target))
                        throw std::runtime_error("trace run: verdict " + std::to_string(trace.cb.verdict) +
                                                 " target " + std::to_string(trace.cb.target) + ", expected " +
                                                 std::to_string(p.verdict) + " / " + std::to_string(p.target));
                    if (p.out_check) {
                        std::string err = p.out_check(trace.out);
                        if (!err.empty()) throw std::runtime_error("trace run: " + err);
                    }
                }
                if (p.single_runs) {
                    // What one repeated run would have measured, kept as the
                    // evidence that single runs were needed.
                    if (p.reset) p.reset();
                    Counters x = env.counters();
                    test_run(p.prog_fd, p.frame, p.ifindex, 1000, false);
                    Counters y = env.counters();
                    std::string err = p.check ? p.check(x, y, 1000) : "";
                    row["repeat_probe"] = {{"repeat", 1000}, {"path_check", err.empty() ? "ok" : err}};
                }
                Counters before = env.counters();
                // Every case is also timed in single runs: the same program
                // measured both ways shows the bias of the single-run mode.
                Timing ts = time_single(p.prog_fd, p.frame, p.ifindex, o, p.retval,
                                        p.verdict ? &trace.out : nullptr, p.vary, p.reset, p.trace_timing);
                Timing t = p.single_runs ? ts
                                         : time_repeat(p.prog_fd, p.frame, p.ifindex, o, p.retval, p.trace_timing);
                uint64_t runs = p.single_runs ? ts.runs : ts.runs + t.runs;
                Counters after = env.counters();
                if (p.check) {
                    std::string err = p.check(before, after, runs);
                    if (!err.empty()) throw std::runtime_error("counters: " + err);
                }
                if (p.after) {
                    std::string err = p.after(runs);
                    if (!err.empty()) throw std::runtime_error("after the runs: " + err);
                }
                double ns_single = ts.med() - floor_single.med() + floor_rep.med();
                double ns = p.single_runs ? ns_single : t.med();
                row["status"] = "measured";
                row["mode"] = std::string(p.single_runs ? "single" : "repeat") + (p.trace_timing ? ", trace" : "");
                row["ns"] = ns;
                row["ns_single"] = ns_single;
                row["ratio_to_floor"] = floor_rep.med() > 0 ? ns / floor_rep.med() : 0;
                row["timing"] = timing_json(t);
                row["timing_single"] = timing_json(ts);
                row["path_verified"] = "trace verdict + counters of all " + std::to_string(runs) + " runs";
                if (!p.notes.empty()) row["notes"] = p.notes;
                std::fprintf(stderr, "  %-16s %8s ns/pkt  (%s)\n", c.name.c_str(), num(ns).c_str(),
                             p.single_runs ? "single runs" : "repeat");
            } catch (const std::exception& e) {
                row["status"] = "failed";
                row["error"] = e.what();
                std::fprintf(stderr, "  %-16s FAILED: %s\n", c.name.c_str(), e.what());
            }
            rows.push_back(row);
        }
        // The floor again at the end: drift over the run shows here.
        Timing floor_end = time_repeat(env.trivial_fd(), floor_frame, vm1.ifindex, o, kTcActOk);
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

        doc = {{"repeat", o.repeat},
               {"trials", o.trials},
               {"single_runs", o.single_runs},
               {"frame_bytes", floor_frame.size()},
               {"floor", {{"ns", floor_rep.med()}, {"timing", timing_json(floor_rep)},
                          {"ns_end_of_run", floor_end.med()}}},
               {"floor_single", {{"ns", floor_single.med()}, {"timing", timing_json(floor_single)}}},
               {"cases", rows},
               {"seconds", secs}};
        std::fprintf(stderr, "  %-16s %8s ns/pkt  (trivial program; %s at the end)\n", "floor",
                     num(floor_rep.med()).c_str(), num(floor_end.med()).c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nt_bench_pkt: %s\n", e.what());
        return 1;
    }
    if (o.json_out.empty()) {
        std::cout << doc.dump(2) << "\n";
    } else {
        std::ofstream f(o.json_out);
        f << doc.dump(2) << "\n";
        if (!f) {
            std::fprintf(stderr, "nt_bench_pkt: cannot write %s\n", o.json_out.c_str());
            return 1;
        }
    }
    return 0;
}
