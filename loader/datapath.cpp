#include "loader/datapath.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <filesystem>

#include "loader/error.hpp"
#include "loader/log.hpp"
#include "neutrino/abi.h"
#include "tap.skel.h"
#include "uplink.skel.h"

namespace neutrino {

namespace {

// One BPF object: the embedded build (the skeleton's ELF bytes) or, with
// objects_dir, <objects_dir>/<file> (another build: what `upgrade
// --objects` and its test use).
bpf_object* open_object(const char* file, const void* embedded, size_t size,
                        const std::optional<std::string>& objects_dir) {
    bpf_object* obj;
    std::string what = file;
    if (objects_dir) {
        what = *objects_dir + "/" + file;
        obj = bpf_object__open_file(what.c_str(), nullptr);
    } else {
        std::string name(file, std::string_view(file).find('.'));  // tap.bpf.o -> tap
        LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name.c_str());
        obj = bpf_object__open_mem(embedded, size, &opts);
    }
    if (!obj) throw_errno("open BPF object " + what, errno);
    return obj;
}

// A map of the new object must match the one pinned under the same name in
// every attribute the kernel fixes at creation; libbpf would refuse too, but
// with a generic EINVAL. Map layout changes need a new ABI version.
void check_pinned_layout(bpf_map* m, const std::string& path) {
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0) return;  // not pinned yet: created
    bpf_map_info info{};
    uint32_t len = sizeof info;
    int err = bpf_obj_get_info_by_fd(fd, &info, &len);
    close(fd);
    if (err) throw_errno("inspect pinned map " + path, errno);
    auto differs = [&](const char* what, uint64_t pinned, uint64_t built) {
        if (pinned == built) return;
        throw Error("map " + std::string(bpf_map__name(m)) + " of this build does not match the pinned one (" + what +
                    " " + std::to_string(built) + " here, " + std::to_string(pinned) + " pinned at " + path +
                    "): the map layout changed without a new ABI version (NT_ABI_VERSION " +
                    std::to_string(NT_ABI_VERSION) + "); refusing to replace the programs");
    };
    differs("type", info.type, bpf_map__type(m));
    differs("key size", info.key_size, bpf_map__key_size(m));
    differs("value size", info.value_size, bpf_map__value_size(m));
    differs("max entries", info.max_entries, bpf_map__max_entries(m));
    differs("flags", info.map_flags, bpf_map__map_flags(m));
}

}  // namespace

std::unique_ptr<Datapath> Datapath::load(const std::optional<std::string>& maps_pin_dir,
                                         const std::optional<std::string>& objects_dir) {
    std::unique_ptr<Datapath> dp(new Datapath());
    size_t size = 0;
    const void* bytes = tap_bpf__elf_bytes(&size);
    dp->tap_obj_ = open_object("tap.bpf.o", bytes, size, objects_dir);
    bpf_map* m;
    bpf_object__for_each_map(m, dp->tap_obj_) {
        // .rodata/.bss belong to one object and carry dots bpffs refuses.
        if (maps_pin_dir && !bpf_map__is_internal(m)) {
            std::string path = *maps_pin_dir + "/" + bpf_map__name(m);
            check_pinned_layout(m, path);
            int err = bpf_map__set_pin_path(m, path.c_str());
            if (err) throw_errno("set pin path " + path, err);
        }
    }
    int err = bpf_object__load(dp->tap_obj_);
    if (err) throw_errno("load BPF programs of tap.bpf.o (run with -vv for the verifier log)", err);
    bpf_program* p;
    bpf_object__for_each_program(p, dp->tap_obj_) dp->progs_[bpf_program__name(p)] = bpf_program__fd(p);
    bpf_object__for_each_map(m, dp->tap_obj_)
        if (!bpf_map__is_internal(m)) dp->maps_[bpf_map__name(m)] = bpf_map__fd(m);

    // The uplink programs share every map with the tap programs.
    bytes = uplink_bpf__elf_bytes(&size);
    dp->uplink_obj_ = open_object("uplink.bpf.o", bytes, size, objects_dir);
    bpf_object__for_each_map(m, dp->uplink_obj_) {
        auto it = dp->maps_.find(bpf_map__name(m));
        if (it == dp->maps_.end()) continue;  // .rodata/.bss of its own
        err = bpf_map__reuse_fd(m, it->second);
        if (err) throw_errno(std::string("share map ") + bpf_map__name(m) + " with uplink.bpf.o", err);
    }
    err = bpf_object__load(dp->uplink_obj_);
    if (err) throw_errno("load BPF programs of uplink.bpf.o (run with -vv for the verifier log)", err);
    bpf_object__for_each_program(p, dp->uplink_obj_) dp->progs_[bpf_program__name(p)] = bpf_program__fd(p);
    return dp;
}

const std::vector<std::string>& Datapath::program_names() {
    static const std::vector<std::string> names{kProgTapIngress, kProgTapEgress, kProgCtGcArm, kProgUplinkXdp,
                                                kProgUplinkIngress};
    return names;
}

bool Datapath::complete_pins(const PinPaths& pins) {
    for (const auto& name : program_names())
        if (access((pins.progs + "/" + name).c_str(), F_OK) != 0) return false;
    return true;
}

std::unique_ptr<Datapath> Datapath::open_pinned(const PinPaths& pins) {
    std::unique_ptr<Datapath> dp(new Datapath());
    dp->owns_fds_ = true;
    auto get = [](const std::string& path) {
        int fd = bpf_obj_get(path.c_str());
        if (fd < 0) throw_errno("open pinned " + path, errno);
        return fd;
    };
    for (const auto& e : std::filesystem::directory_iterator(pins.progs)) {
        std::string name = e.path().filename().string();
        if (name.starts_with("new-")) continue;  // a replacement cut short (pin_programs)
        dp->progs_[name] = get(e.path().string());
    }
    for (const auto& e : std::filesystem::directory_iterator(pins.maps))
        dp->maps_[e.path().filename().string()] = get(e.path().string());
    for (const auto& name : program_names())
        if (!dp->progs_.count(name))
            throw Error("pinned datapath under " + pins.progs + " lacks program " + name +
                        " (left by an older build? run `neutrino destroy` and apply again)");
    return dp;
}

Datapath::~Datapath() {
    if (uplink_obj_) bpf_object__close(uplink_obj_);
    if (tap_obj_) bpf_object__close(tap_obj_);
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

ProgIdentity Datapath::identity(const std::string& name) const {
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(prog_fd(name), &info, &len) != 0) throw_errno("inspect program " + name, errno);
    ProgIdentity id;
    id.id = info.id;
    std::copy(info.tag, info.tag + sizeof info.tag, id.tag.begin());
    return id;
}

// Each pin is replaced by rename over it (a new pin next to it, then
// rename(2), which bpffs supports): the path never goes missing, so a loader
// killed half-way leaves every program pinned, old or new.
void Datapath::pin_programs(const PinPaths& pins) const {
    for (const auto& [name, fd] : progs_) {
        std::string path = pins.progs + "/" + name, tmp = pins.progs + "/new-" + name;
        unlink(tmp.c_str());
        if (bpf_obj_pin(fd, tmp.c_str()) != 0) throw_errno("pin " + tmp, errno);
        if (rename(tmp.c_str(), path.c_str()) != 0) throw_errno("replace pin " + path, errno);
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
