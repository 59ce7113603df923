#include "loader/monitor.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <fstream>
#include <vector>

#include "loader/error.hpp"
#include "loader/log.hpp"
#include "maps/bpf_map.hpp"

namespace neutrino {

namespace {

int open_pinned_map(const PinPaths& pins, const char* name) {
    std::string path = pins.maps + "/" + name;
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT)
            throw Error("open pinned " + path + ": no such map (the datapath predates `monitor`, or nothing is "
                        "applied: run `neutrino apply` with this build)");
        throw_errno("open pinned " + path, err);
    }
    return fd;
}

// Whether pid is a running neutrino process (a stale owner left by a
// monitor that was killed is not).
bool live_monitor(uint32_t pid) {
    if (pid == 0 || kill(static_cast<pid_t>(pid), 0) != 0) return false;
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    std::getline(comm, name);
    return name.rfind("neutrino", 0) == 0;
}

}  // namespace

MonitorSession::MonitorSession(const PinPaths& pins, const MonitorSettings& settings) {
    try {
        config_fd_ = open_pinned_map(pins, kMapMonConfig);
        state_fd_ = open_pinned_map(pins, kMapMonState);
        events_fd_ = open_pinned_map(pins, kMapMonEvents);
        BpfMap<__u32, nt_mon_config> config(config_fd_, kMapMonConfig);
        RawBpfMap state(state_fd_, kMapMonState, sizeof(__u32), sizeof(nt_mon_state), true);
        const __u32 zero = 0;
        auto cur = config.lookup(zero);
        owner_ = static_cast<uint32_t>(getpid());
        if (cur && cur->owner && cur->owner != owner_) {
            if (live_monitor(cur->owner))
                throw Error("another monitor (pid " + std::to_string(cur->owner) +
                            ") is running on this instance; one at a time");
            spdlog::warn("taking over the monitor switch from pid {}, which is gone", cur->owner);
        }
        ring_ = ring_buffer__new(events_fd_, &MonitorSession::on_record, this, nullptr);
        if (!ring_) throw_errno("open ring buffer " + std::string(kMapMonEvents), errno);
        // Records a killed monitor left unread are not this session's (no handler: dropped).
        ring_buffer__consume(ring_);
        // Fresh buckets (full burst) and counts for this session.
        std::vector<uint8_t> zeros(state.value_buffer_size(), 0);
        state.update(&zero, zeros.data());
        MonitorLimit lim = monitor_limit(settings.rate, settings.burst,
                                         static_cast<unsigned>(sysconf(_SC_NPROCESSORS_ONLN)));
        nt_mon_config c{};
        c.owner = owner_;
        c.ifindex = settings.ifindex;
        c.reasons = settings.reasons;
        c.interval_ns = lim.interval_ns;
        c.burst = lim.burst;
        config.update(zero, c);
        active_ = true;
    } catch (...) {
        if (ring_) ring_buffer__free(ring_);
        for (int fd : {config_fd_, state_fd_, events_fd_})
            if (fd >= 0) close(fd);
        throw;
    }
}

MonitorSession::~MonitorSession() {
    try {
        stop();
    } catch (const std::exception& e) {
        spdlog::error("monitor: {}", e.what());
    }
    if (ring_) ring_buffer__free(ring_);
    for (int fd : {config_fd_, state_fd_, events_fd_})
        if (fd >= 0) close(fd);
}

void MonitorSession::stop() {
    if (!active_) return;
    active_ = false;
    BpfMap<__u32, nt_mon_config> config(config_fd_, kMapMonConfig);
    const __u32 zero = 0;
    auto cur = config.lookup(zero);
    if (cur && cur->owner == owner_) config.update(zero, nt_mon_config{});
}

int MonitorSession::on_record(void* ctx, void* data, size_t size) {
    auto* self = static_cast<MonitorSession*>(ctx);
    if (!self->handler_) return 0;
    auto e = parse_monitor_event(data, size);
    if (!e) {
        spdlog::warn("monitor: skipping a record of {} bytes that is no event of this build", size);
        return 0;
    }
    (*self->handler_)(*e);
    return 0;
}

int MonitorSession::poll(int timeout_ms, const std::function<void(const MonitorEvent&)>& fn) {
    handler_ = &fn;
    int n = ring_buffer__poll(ring_, timeout_ms);
    handler_ = nullptr;
    return n;
}

MonitorCounts MonitorSession::counts() const {
    PerCpuBpfMap<__u32, nt_mon_state> state(state_fd_, kMapMonState);
    MonitorCounts c;
    for (const auto& s : state.lookup(0)) {
        c.emitted += s.emitted;
        c.suppressed += s.suppressed;
        c.lost += s.lost;
    }
    return c;
}

int64_t monotonic_to_wall_offset_ns() {
    timespec mono{}, wall{};
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &wall);
    auto ns = [](const timespec& t) { return static_cast<int64_t>(t.tv_sec) * 1000000000ll + t.tv_nsec; };
    return ns(wall) - ns(mono);
}

}  // namespace neutrino
