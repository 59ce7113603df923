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

namespace neutrino {

class Datapath {
public:
    // Loads tap.bpf.o from the embedded skeleton. With maps_pin_dir, each
    // map is reused from <dir>/<name> when pinned there (libbpf checks that
    // its type, key and value sizes match) or created and pinned.
    static std::unique_ptr<Datapath> load(const std::optional<std::string>& maps_pin_dir);
    // Reopens programs and maps that an earlier load pinned.
    static std::unique_ptr<Datapath> open_pinned(const PinPaths& pins);
    ~Datapath();
    Datapath(const Datapath&) = delete;
    Datapath& operator=(const Datapath&) = delete;

    int tap_ingress_fd() const { return tap_ingress_; }
    int tap_egress_fd() const { return tap_egress_; }
    int map_fd(const std::string& name) const;  // throws for an unknown name
    const std::map<std::string, int>& maps() const { return maps_; }

    void pin_programs(const PinPaths& pins) const;

private:
    Datapath() = default;
    tap_bpf* skel_ = nullptr;
    bool owns_fds_ = false;  // true for open_pinned: fds are ours to close
    int tap_ingress_ = -1;
    int tap_egress_ = -1;
    std::map<std::string, int> maps_;
};

inline constexpr const char* kProgTapIngress = "tap_ingress";
inline constexpr const char* kProgTapEgress = "tap_egress";

}  // namespace neutrino
