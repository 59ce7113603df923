#include "maps/bpf_map.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>

#include "loader/error.hpp"

namespace neutrino {

RawBpfMap::RawBpfMap(int fd, std::string name, size_t key_size, size_t value_size, bool per_cpu)
    : fd_(fd), name_(std::move(name)), key_size_(key_size), value_size_(value_size) {
    bpf_map_info info{};
    uint32_t len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) throw_errno("inspect map " + name_, errno);
    if (info.key_size != key_size_ || info.value_size != value_size_)
        throw Error("map " + name_ + " has key/value size " + std::to_string(info.key_size) + "/" +
                    std::to_string(info.value_size) + ", this build expects " +
                    std::to_string(key_size_) + "/" + std::to_string(value_size_) +
                    " (pins from another build? run `neutrino destroy` first)");
    value_buf_ = per_cpu ? ((value_size_ + 7) & ~size_t{7}) * possible_cpus() : value_size_;
}

unsigned RawBpfMap::possible_cpus() {
    static int n = libbpf_num_possible_cpus();
    if (n <= 0) throw Error("cannot count possible CPUs");
    return static_cast<unsigned>(n);
}

bool RawBpfMap::lookup(const void* key, void* value) const {
    if (bpf_map_lookup_elem(fd_, key, value) == 0) return true;
    if (errno == ENOENT) return false;
    throw_errno("lookup in " + name_, errno);
}

void RawBpfMap::update(const void* key, const void* value) {
    if (bpf_map_update_elem(fd_, key, value, BPF_ANY) != 0) throw_errno("write to " + name_, errno);
}

bool RawBpfMap::erase(const void* key) {
    if (bpf_map_delete_elem(fd_, key) == 0) return true;
    if (errno == ENOENT) return false;
    throw_errno("delete from " + name_, errno);
}

void RawBpfMap::for_each_key(const std::function<void(const void*)>& fn) const {
    std::vector<uint8_t> cur(key_size_), next(key_size_);
    const void* prev = nullptr;
    while (bpf_map_get_next_key(fd_, prev, next.data()) == 0) {
        fn(next.data());
        cur.swap(next);
        prev = cur.data();
    }
    if (errno != ENOENT) throw_errno("walk " + name_, errno);
}

}  // namespace neutrino
