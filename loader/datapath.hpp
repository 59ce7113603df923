// The tap programs and the maps they share, as file descriptors: either
// freshly loaded from the built object (optionally pinning/reusing maps under
// a pin directory) or reopened from pins left by an earlier run.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "loader/bpffs.hpp"

struct tap_bpf;
struct uplink_bpf;

namespace neutrino {

inline constexpr const char* kProgTapIngress = "tap_ingress";
inline constexpr const char* kProgTapEgress = "tap_egress";
inline constexpr const char* kProgCtGcArm = "ct_gc_arm";
inline constexpr const char* kProgUplinkXdp = "uplink_xdp";
inline constexpr const char* kProgUplinkIngress = "uplink_ingress";

class Datapath {
public:
    // Loads tap.bpf.o and uplink.bpf.o (which shares tap's maps) from the
    // embedded skeletons. With maps_pin_dir, each
    // map is reused from <dir>/<name> when pinned there (libbpf checks that
    // its type, key and value sizes match) or created and pinned.
    static std::unique_ptr<Datapath> load(const std::optional<std::string>& maps_pin_dir);
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

    void pin_programs(const PinPaths& pins) const;
    // Starts the conntrack GC timer (runs ct_gc_arm once); idempotent.
    void arm_ct_gc() const;

private:
    Datapath() = default;
    tap_bpf* skel_ = nullptr;
    uplink_bpf* uplink_skel_ = nullptr;
    bool owns_fds_ = false;  // true for open_pinned: fds are ours to close
    std::map<std::string, int> progs_;
    std::map<std::string, int> maps_;
};


}  // namespace neutrino
