// Typed access to one BPF map by fd. Key and value sizes are checked against
// the kernel's view of the map once, at construction, so a layout mismatch is
// an error message, not corrupted entries.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <cstring>
#include <vector>

namespace neutrino {

class RawBpfMap {
public:
    RawBpfMap(int fd, std::string name, size_t key_size, size_t value_size, bool per_cpu);
    const std::string& name() const { return name_; }
    int fd() const { return fd_; }

    bool lookup(const void* key, void* value) const;
    void update(const void* key, const void* value);
    bool erase(const void* key);  // false if it was not there
    // Visits every key (a snapshot walk; entries may change meanwhile).
    void for_each_key(const std::function<void(const void* key)>& fn) const;
    size_t value_buffer_size() const { return value_buf_; }  // x CPUs for per-CPU maps
    static unsigned possible_cpus();

private:
    int fd_;
    std::string name_;
    size_t key_size_, value_size_, value_buf_;
};

template <class K, class V>
class BpfMap {
public:
    BpfMap(int fd, std::string name) : raw_(fd, std::move(name), sizeof(K), sizeof(V), false) {}
    std::optional<V> lookup(const K& k) const {
        V v{};
        if (!raw_.lookup(&k, &v)) return std::nullopt;
        return v;
    }
    void update(const K& k, const V& v) { raw_.update(&k, &v); }
    bool erase(const K& k) { return raw_.erase(&k); }
    template <class Fn>
    void for_each(Fn&& fn) const {
        raw_.for_each_key([&](const void* kp) {
            K k;
            std::memcpy(&k, kp, sizeof k);
            if (auto v = lookup(k)) fn(k, *v);
        });
    }

private:
    RawBpfMap raw_;
};

// A per-CPU map: values come back one per possible CPU; sum() folds them.
template <class K, class V>
class PerCpuBpfMap {
public:
    PerCpuBpfMap(int fd, std::string name) : raw_(fd, std::move(name), sizeof(K), sizeof(V), true) {}
    std::vector<V> lookup(const K& k) const {
        std::vector<uint8_t> buf(raw_.value_buffer_size());
        if (!raw_.lookup(&k, buf.data())) return {};
        size_t stride = (sizeof(V) + 7) & ~size_t{7};
        std::vector<V> out(RawBpfMap::possible_cpus());
        for (size_t i = 0; i < out.size(); i++) std::memcpy(&out[i], buf.data() + i * stride, sizeof(V));
        return out;
    }
    bool erase(const K& k) { return raw_.erase(&k); }
    template <class Fn>
    void for_each_key(Fn&& fn) const {
        raw_.for_each_key([&](const void* kp) {
            K k;
            std::memcpy(&k, kp, sizeof k);
            fn(k);
        });
    }

private:
    RawBpfMap raw_;
};

}  // namespace neutrino
