// bpffs: mount it when missing, and the pin layout of an instance:
//   /sys/fs/bpf/neutrino/<instance>/abi<N>/{maps,progs,links}/
// The ABI version in the path means an upgrade never opens a map of an
// incompatible layout by accident.
#pragma once

#include <string>

namespace neutrino {

inline constexpr const char* kDefaultBpffs = "/sys/fs/bpf";

void ensure_bpffs_mounted(const std::string& mountpoint = kDefaultBpffs);

struct PinPaths {
    std::string root;      // /sys/fs/bpf/neutrino/<instance>
    std::string abi;       // root/abi<N>
    std::string maps;      // abi/maps
    std::string progs;     // abi/progs
    std::string links;     // abi/links

    static PinPaths for_instance(const std::string& instance,
                                 const std::string& bpffs = kDefaultBpffs);
    bool exists() const;
    void create() const;   // mkdir -p of all of them
    void remove() const;   // unpin everything below root, rmdir root (and the parent if empty)
};

// Instance names become path components and netns/link prefixes.
bool valid_instance_name(const std::string& name);

}  // namespace neutrino
