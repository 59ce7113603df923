// nt_bench_ctl: the control-plane and scaling measurements that need the
// libraries or the kernel's own accounting. Prints JSON on stdout.
//
//   nt_bench_ctl breakdown STATE [--host H]
//       In one process, the stages of an apply from scratch (read, JSON parse,
//       parse_state, validate, compile, load the programs, diff, map writes)
//       and then of changing the first rule of port 10000 into 10999, against
//       an unpinned datapath. Taps are not needed: compile gets synthetic
//       ifindexes, so nothing is attached (the CLI measurement covers that).
//       Reports the BPF map entries and the kernel memory they take.
//   nt_bench_ctl maps PIN_DIR
//       Entries and kernel memory of every map pinned under PIN_DIR/maps, and
//       the size of the programs under PIN_DIR/progs (an instance's abi dir).
//   nt_bench_ctl ipt-size [TABLE...]
//       iptables-legacy: rule count and kernel blob size of each table in the
//       calling network namespace (IPT_SO_GET_INFO).
#include <bpf/bpf.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "ipt_info.hpp"
#include "loader/datapath.hpp"
#include "loader/log.hpp"
#include "maps/bpf_map_store.hpp"
#include "maps/compile.hpp"
#include "maps/diff.hpp"
#include "maps/state.hpp"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

long peak_rss_kb() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

// The kernel's own figure for a map's memory (fdinfo "memlock", which is
// bpf_map_memory_usage() on 6.4+ kernels).
uint64_t fdinfo_memlock(int fd) {
    std::ifstream f("/proc/self/fdinfo/" + std::to_string(fd));
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("memlock:", 0) == 0) return std::stoull(line.substr(8));
    return 0;
}

json map_stats(int fd) {
    bpf_map_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) return {{"error", "bpf_obj_get_info_by_fd"}};
    std::vector<uint8_t> key(info.key_size), next(info.key_size);
    uint64_t entries = 0;
    if (info.type == BPF_MAP_TYPE_ARRAY || info.type == BPF_MAP_TYPE_PERCPU_ARRAY) {
        entries = info.max_entries;  // arrays always hold max_entries slots
    } else {
        void* prev = nullptr;
        while (bpf_map_get_next_key(fd, prev, next.data()) == 0) {
            entries++;
            key = next;
            prev = key.data();
        }
    }
    // Preallocated maps take their memory up front, whatever the state;
    // BPF_F_NO_PREALLOC hashes and LPM tries grow with their entries.
    bool grows = info.type == BPF_MAP_TYPE_LPM_TRIE ||
                 ((info.type == BPF_MAP_TYPE_HASH || info.type == BPF_MAP_TYPE_PERCPU_HASH) &&
                  (info.map_flags & BPF_F_NO_PREALLOC));
    return {{"entries", entries}, {"max_entries", info.max_entries}, {"key_size", info.key_size},
            {"value_size", info.value_size}, {"type", info.type}, {"map_flags", info.map_flags},
            {"preallocated", !grows}, {"kernel_bytes", fdinfo_memlock(fd)}};
}

json maps_json(const std::map<std::string, int>& fds) {
    json maps = json::object();
    uint64_t entries = 0, bytes = 0, prealloc = 0;
    for (const auto& [name, fd] : fds) {
        json s = map_stats(fd);
        if (s.contains("entries")) {
            // Array slots exist whatever the state: not counted as entries.
            if (s["type"] != BPF_MAP_TYPE_ARRAY && s["type"] != BPF_MAP_TYPE_PERCPU_ARRAY)
                entries += s["entries"].get<uint64_t>();
            bytes += s["kernel_bytes"].get<uint64_t>();
            if (s["preallocated"].get<bool>()) prealloc += s["kernel_bytes"].get<uint64_t>();
        }
        maps[name] = s;
    }
    return {{"maps", maps}, {"total_entries", entries}, {"total_kernel_bytes", bytes},
            {"preallocated_kernel_bytes", prealloc}, {"grown_kernel_bytes", bytes - prealloc}};
}

// Changes the first rule opening port 10000 into 10999: the one-rule edit.
bool change_one_rule(json& doc) {
    for (auto& sg : doc["security_groups"])
        for (auto& r : sg["security_group_rules"])
            if (r.contains("port_range_min") && r["port_range_min"] == 10000) {
                r["port_range_min"] = 10999;
                r["port_range_max"] = 10999;
                return true;
            }
    return false;
}

std::map<std::string, uint32_t> synthetic_ifindexes(const neutrino::State& st, const std::string& host) {
    std::map<std::string, uint32_t> m;
    uint32_t next = 1000;
    for (const auto& p : st.ports)
        if (p.host_id == host) m[p.interface_name] = next++;
    return m;
}

int breakdown(const std::string& path, std::string host) {
    json stages = json::object();
    auto t_all = Clock::now();

    auto t = Clock::now();
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    std::string text = ss.str();
    stages["read_ms"] = ms_since(t);

    t = Clock::now();
    json doc = json::parse(text);
    stages["json_parse_ms"] = ms_since(t);

    t = Clock::now();
    neutrino::State st = neutrino::parse_state(doc);
    stages["parse_state_ms"] = ms_since(t);

    t = Clock::now();
    auto issues = neutrino::validate_state(st);
    stages["validate_ms"] = ms_since(t);
    if (!issues.empty()) throw neutrino::StateError(issues);
    if (host.empty()) host = st.hosts.at(0).name;

    neutrino::CompileInput in;  // by field: the struct grows with the datapath
    in.host = host;
    in.ifindex_by_name = synthetic_ifindexes(st, host);
    t = Clock::now();
    auto compiled = neutrino::compile(st, in);
    stages["compile_ms"] = ms_since(t);

    t = Clock::now();
    auto dp = neutrino::Datapath::load(std::nullopt);
    stages["load_programs_ms"] = ms_since(t);
    json bpf_empty = maps_json(dp->maps());  // what the maps take before any entry

    t = Clock::now();
    neutrino::BpfMapStore store(dp->maps());
    auto plan = neutrino::diff(store.read_all(), compiled.entries);
    stages["read_maps_and_diff_ms"] = ms_since(t);

    t = Clock::now();
    store.apply(plan);
    stages["map_writes_ms"] = ms_since(t);
    double total = ms_since(t_all);

    // One rule changes: the whole pipeline again against the live maps.
    json change;
    if (change_one_rule(doc)) {
        auto t1 = Clock::now();
        neutrino::State st2 = neutrino::parse_state(doc);
        auto issues2 = neutrino::validate_state(st2);
        if (!issues2.empty()) throw neutrino::StateError(issues2);
        auto c2 = neutrino::compile(st2, in);
        auto plan2 = neutrino::diff(store.read_all(), c2.entries);
        store.apply(plan2);
        change = {{"ms", ms_since(t1)}, {"writes", plan2.writes()}, {"deletes", plan2.deletes()},
                  {"note", "from the parsed JSON document: parse_state, validate, compile, read maps, diff, write"}};
    } else {
        change = {{"error", "no rule with port_range_min 10000 in the state"}};
    }

    json out = {{"state", path},
                {"ports", st.ports.size()},
                {"local_ports", compiled.local_ports.size()},
                {"security_groups", st.security_groups.size()},
                {"stages", stages},
                {"total_ms", total},
                {"writes", plan.writes()},
                {"compiled_entries", compiled.entries.size()},
                {"change_one_rule", change},
                {"peak_rss_kb", peak_rss_kb()}};
    size_t rules = 0;
    for (const auto& sg : st.security_groups) rules += sg.rules.size();
    out["security_group_rules"] = rules;
    out["bpf"] = maps_json(dp->maps());
    out["bpf_empty"] = bpf_empty;
    out["bpf_added_kernel_bytes"] = out["bpf"]["total_kernel_bytes"].get<int64_t>() -
                                    bpf_empty["total_kernel_bytes"].get<int64_t>();
    std::cout << out.dump(2) << "\n";
    return 0;
}

int maps_of_pins(const std::string& dir) {
    std::map<std::string, int> fds;
    for (const auto& e : fs::directory_iterator(fs::path(dir) / "maps")) {
        int fd = bpf_obj_get(e.path().c_str());
        if (fd < 0) throw std::runtime_error("open pinned " + e.path().string());
        fds[e.path().filename().string()] = fd;
    }
    json out = maps_json(fds);
    json progs = json::object();
    if (fs::exists(fs::path(dir) / "progs"))
        for (const auto& e : fs::directory_iterator(fs::path(dir) / "progs")) {
            int fd = bpf_obj_get(e.path().c_str());
            if (fd < 0) continue;
            bpf_prog_info info{};
            uint32_t len = sizeof info;
            if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
                progs[e.path().filename().string()] = {{"jited_bytes", info.jited_prog_len},
                                                       {"xlated_bytes", info.xlated_prog_len}};
            close(fd);
        }
    out["progs"] = progs;
    for (auto& [n, fd] : fds) close(fd);
    std::cout << out.dump(2) << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: nt_bench_ctl breakdown STATE [--host H] | maps PIN_DIR | ipt-size [TABLE...]\n");
        return 2;
    }
    neutrino::init_logging(0);
    std::string cmd = argv[1];
    try {
        if (cmd == "breakdown" && argc >= 3) {
            std::string host;
            if (argc == 5 && std::string(argv[3]) == "--host") host = argv[4];
            return breakdown(argv[2], host);
        }
        if (cmd == "maps" && argc == 3) return maps_of_pins(argv[2]);
        if (cmd == "ipt-size") {
            std::vector<std::string> tables;
            for (int i = 2; i < argc; i++) tables.push_back(argv[i]);
            if (tables.empty()) tables = {"filter", "raw", "nat"};
            json out = json::object();
            for (const auto& tname : tables) {
                auto info = nt_bench::ipt_info(tname);
                if (info.ok)
                    out[tname] = {{"rules", info.entries}, {"kernel_bytes", info.size}};
                else
                    out[tname] = {{"error", info.error}};
            }
            std::cout << out.dump(2) << "\n";
            return 0;
        }
    } catch (const neutrino::StateError& e) {
        std::fprintf(stderr, "nt_bench_ctl: invalid state: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nt_bench_ctl: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "nt_bench_ctl: bad arguments\n");
    return 2;
}
