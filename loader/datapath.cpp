#include "loader/datapath.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <filesystem>

#include "loader/error.hpp"
#include "loader/log.hpp"
#include "tap.skel.h"
#include "uplink.skel.h"

namespace neutrino {

std::unique_ptr<Datapath> Datapath::load(const std::optional<std::string>& maps_pin_dir) {
    std::unique_ptr<Datapath> dp(new Datapath());
    dp->skel_ = tap_bpf__open();
    if (!dp->skel_) throw_errno("open BPF object tap.bpf.o", errno);
    bpf_map* m;
    bpf_object__for_each_map(m, dp->skel_->obj) {
        // .rodata/.bss belong to one object and carry dots bpffs refuses.
        if (maps_pin_dir && !bpf_map__is_internal(m)) {
            std::string path = *maps_pin_dir + "/" + bpf_map__name(m);
            int err = bpf_map__set_pin_path(m, path.c_str());
            if (err) throw_errno("set pin path " + path, err);
        }
    }
    int err = tap_bpf__load(dp->skel_);
    if (err) throw_errno("load BPF programs of tap.bpf.o (run with -vv for the verifier log)", err);
    bpf_program* p;
    bpf_object__for_each_program(p, dp->skel_->obj) dp->progs_[bpf_program__name(p)] = bpf_program__fd(p);
    bpf_object__for_each_map(m, dp->skel_->obj)
        if (!bpf_map__is_internal(m)) dp->maps_[bpf_map__name(m)] = bpf_map__fd(m);

    // The uplink programs share every map with the tap programs.
    dp->uplink_skel_ = uplink_bpf__open();
    if (!dp->uplink_skel_) throw_errno("open BPF object uplink.bpf.o", errno);
    bpf_object__for_each_map(m, dp->uplink_skel_->obj) {
        auto it = dp->maps_.find(bpf_map__name(m));
        if (it == dp->maps_.end()) continue;  // .rodata/.bss of its own
        err = bpf_map__reuse_fd(m, it->second);
        if (err) throw_errno(std::string("share map ") + bpf_map__name(m) + " with uplink.bpf.o", err);
    }
    err = uplink_bpf__load(dp->uplink_skel_);
    if (err) throw_errno("load BPF programs of uplink.bpf.o (run with -vv for the verifier log)", err);
    bpf_object__for_each_program(p, dp->uplink_skel_->obj) dp->progs_[bpf_program__name(p)] = bpf_program__fd(p);
    return dp;
}

std::unique_ptr<Datapath> Datapath::open_pinned(const PinPaths& pins) {
    std::unique_ptr<Datapath> dp(new Datapath());
    dp->owns_fds_ = true;
    auto get = [](const std::string& path) {
        int fd = bpf_obj_get(path.c_str());
        if (fd < 0) throw_errno("open pinned " + path, errno);
        return fd;
    };
    for (const auto& e : std::filesystem::directory_iterator(pins.progs))
        dp->progs_[e.path().filename().string()] = get(e.path().string());
    for (const auto& e : std::filesystem::directory_iterator(pins.maps))
        dp->maps_[e.path().filename().string()] = get(e.path().string());
    for (const char* name : {kProgTapIngress, kProgTapEgress, kProgCtGcArm, kProgUplinkXdp, kProgUplinkIngress})
        if (!dp->progs_.count(name))
            throw Error(std::string("pinned datapath under ") + pins.progs + " lacks program " + name +
                        " (left by an older build? run `neutrino destroy` and apply again)");
    return dp;
}

Datapath::~Datapath() {
    if (uplink_skel_) uplink_bpf__destroy(uplink_skel_);
    if (skel_) tap_bpf__destroy(skel_);
    if (!owns_fds_) return;
    for (auto& [name, fd] : progs_) close(fd);
    for (auto& [name, fd] : maps_) close(fd);
}

int Datapath::prog_fd(const std::string& name) const {
    auto it = progs_.find(name);
    if (it == progs_.end()) throw Error("datapath has no program named " + name);
    return it->second;
}

int Datapath::map_fd(const std::string& name) const {
    auto it = maps_.find(name);
    if (it == maps_.end()) throw Error("datapath has no map named " + name);
    return it->second;
}

void Datapath::pin_programs(const PinPaths& pins) const {
    for (const auto& [name, fd] : progs_) {
        std::string path = pins.progs + "/" + name;
        unlink(path.c_str());  // replacing a pin is how a new build takes over
        if (bpf_obj_pin(fd, path.c_str()) != 0) throw_errno("pin " + path, errno);
    }
}

void Datapath::arm_ct_gc() const {
    unsigned char frame[64] = {};  // a test run needs at least an Ethernet header
    LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = frame, .data_size_in = sizeof frame);
    if (bpf_prog_test_run_opts(prog_fd(kProgCtGcArm), &run) != 0)
        throw_errno("start the conntrack GC timer", errno);
    if (run.retval != 0)
        throw_errno("start the conntrack GC timer", static_cast<int>(run.retval));
}

}  // namespace neutrino
