// The tap programs and the maps they share, as file descriptors: either
// freshly loaded from the built object (optionally pinning/reusing maps under
// a pin directory) or reopened from pins left by an earlier run.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loader/bpffs.hpp"

struct bpf_object;

namespace neutrino {

inline constexpr const char* kProgTapIngress = "tap_ingress";
inline constexpr const char* kProgTapEgress = "tap_egress";
inline constexpr const char* kProgCtGcArm = "ct_gc_arm";
inline constexpr const char* kProgUplinkXdp = "uplink_xdp";
inline constexpr const char* kProgUplinkIngress = "uplink_ingress";

// What the kernel says a loaded program is: its id (new with every load) and
// its tag (a hash of its instructions: the same build gives the same tag).
struct ProgIdentity {
    uint32_t id = 0;
    std::array<uint8_t, 8> tag{};
};

class Datapath {
public:
    // Loads tap.bpf.o and uplink.bpf.o (which shares tap's maps): the
    // objects embedded in this build, or those in objects_dir. With
    // maps_pin_dir, each map is reused from <dir>/<name> when pinned there
    // (after checking that type, key and value sizes, max entries and flags
    // match: a mismatch throws, naming the map) or created and pinned.
    static std::unique_ptr<Datapath> load(const std::optional<std::string>& maps_pin_dir,
                                          const std::optional<std::string>& objects_dir = std::nullopt);
    // Every program the loader pins, by name.
    static const std::vector<std::string>& program_names();
    // Whether every program is pinned (a first load killed half-way is not).
    static bool complete_pins(const PinPaths& pins);
    // Reopens programs and maps that an earlier load pinned.
    static std::unique_ptr<Datapath> open_pinned(const PinPaths& pins);
    ~Datapath();
    Datapath(const Datapath&) = delete;
    Datapath& operator=(const Datapath&) = delete;

    int tap_ingress_fd() const { return prog_fd(kProgTapIngress); }
    int tap_egress_fd() const { return prog_fd(kProgTapEgress); }
    int prog_fd(const std::string& name) const;  // throws for an unknown name
    int map_fd(const std::string& name) const;  // throws for an unknown name
    const std::map<std::string, int>& maps() const { return maps_; }
    ProgIdentity identity(const std::string& name) const;

    // Pins every program, replacing earlier pins of the same name.
    void pin_programs(const PinPaths& pins) const;
    // Starts the conntrack GC timer (runs ct_gc_arm once); idempotent.
    void arm_ct_gc() const;

private:
    Datapath() = default;
    bpf_object* tap_obj_ = nullptr;
    bpf_object* uplink_obj_ = nullptr;
    bool owns_fds_ = false;  // true for open_pinned: fds are ours to close
    std::map<std::string, int> progs_;
    std::map<std::string, int> maps_;
};


}  // namespace neutrino
