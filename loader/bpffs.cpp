#include "loader/bpffs.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <filesystem>
#include <regex>

#include "loader/error.hpp"
#include "loader/log.hpp"
#include "neutrino/abi.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

namespace fs = std::filesystem;

namespace neutrino {

void ensure_bpffs_mounted(const std::string& mountpoint) {
    struct statfs st {};
    if (statfs(mountpoint.c_str(), &st) == 0 && static_cast<unsigned long>(st.f_type) == BPF_FS_MAGIC)
        return;
    std::error_code ec;
    fs::create_directories(mountpoint, ec);
    if (mount("bpf", mountpoint.c_str(), "bpf", 0, "mode=0700") != 0)
        throw_errno("mount bpffs at " + mountpoint, errno);
    spdlog::info("mounted bpffs at {}", mountpoint);
}

PinPaths PinPaths::for_instance(const std::string& instance, const std::string& bpffs) {
    PinPaths p;
    p.root = bpffs + "/neutrino/" + instance;
    p.abi = p.root + "/abi" + std::to_string(NT_ABI_VERSION);
    p.maps = p.abi + "/maps";
    p.progs = p.abi + "/progs";
    p.links = p.abi + "/links";
    return p;
}

bool PinPaths::exists() const { return fs::exists(abi); }

void PinPaths::create() const {
    for (const auto& d : {maps, progs, links}) {
        std::error_code ec;
        fs::create_directories(d, ec);
        if (ec) throw Error("create pin directory " + d + ": " + ec.message());
    }
}

void PinPaths::remove() const {
    std::error_code ec;
    fs::remove_all(root, ec);  // unlinking a pin drops its reference
    if (ec) throw Error("remove pins under " + root + ": " + ec.message());
    fs::path parent = fs::path(root).parent_path();
    if (fs::is_directory(parent, ec) && fs::is_empty(parent, ec)) fs::remove(parent, ec);
}

bool valid_instance_name(const std::string& name) {
    // No dots: bpffs reserves them in names.
    static const std::regex re("[A-Za-z0-9][A-Za-z0-9_-]{0,31}");
    return std::regex_match(name, re);
}

}  // namespace neutrino
