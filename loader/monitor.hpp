// `neutrino monitor`, the kernel side: a session owns the datapath's monitor
// switch (nt_mon_config) while it lives and reads the drop events from the
// ring buffer (loader/pcap_writer.hpp saves their bytes).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "loader/bpffs.hpp"
#include "maps/monitor_event.hpp"

struct ring_buffer;

namespace neutrino {

inline constexpr const char* kMapMonConfig = "nt_mon_config";
inline constexpr const char* kMapMonState = "nt_mon_state";
inline constexpr const char* kMapMonEvents = "nt_mon_events";

struct MonitorSettings {
    uint32_t ifindex = 0;   // datapath filter: one interface, 0 = any
    uint64_t reasons = 0;   // datapath filter: bit per reason, 0 = any
    double rate = 1000;     // events per second over all CPUs
    uint32_t burst = 100;   // events at once after a quiet spell, over all CPUs
};

struct MonitorCounts {
    uint64_t emitted = 0, suppressed = 0, lost = 0;
};

class MonitorSession {
public:
    // Opens the instance's pinned monitor maps, refuses if another live
    // monitor owns them, resets the buckets and counts, and turns the
    // datapath's events on with these filters and limit.
    MonitorSession(const PinPaths& pins, const MonitorSettings& settings);
    // Turns the events off again (if still this process's).
    ~MonitorSession();
    MonitorSession(const MonitorSession&) = delete;
    MonitorSession& operator=(const MonitorSession&) = delete;

    // Waits up to timeout_ms for events and hands each to fn. Returns the
    // number handled; negative errno (-EINTR on a signal).
    int poll(int timeout_ms, const std::function<void(const MonitorEvent&)>& fn);
    // The datapath's counts since the session began, summed over CPUs.
    MonitorCounts counts() const;
    // Events off now (the destructor does it too). Idempotent.
    void stop();

private:
    int config_fd_ = -1, state_fd_ = -1, events_fd_ = -1;
    ring_buffer* ring_ = nullptr;
    bool active_ = false;
    uint32_t owner_ = 0;
    const std::function<void(const MonitorEvent&)>* handler_ = nullptr;
    static int on_record(void* ctx, void* data, size_t size);
};

// CLOCK_REALTIME - CLOCK_MONOTONIC now: turns bpf_ktime_get_ns() into wall time.
int64_t monotonic_to_wall_offset_ns();

}  // namespace neutrino
