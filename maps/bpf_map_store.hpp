// The MapStore backed by the datapath's BPF maps.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "maps/bpf_map.hpp"
#include "maps/map_store.hpp"

namespace neutrino {

class BpfMapStore : public MapStore {
public:
    // fds by map name (Datapath::maps()); the store does not own them.
    explicit BpfMapStore(const std::map<std::string, int>& map_fds);
    MapEntries read_all() const override;
    void apply(const Plan& plan) override;

private:
#define NT_STORE_MEMBER(m, K, V, name) std::optional<BpfMap<K, V>> m##_;
    NT_COMPILED_MAPS(NT_STORE_MEMBER)
#undef NT_STORE_MEMBER
};

}  // namespace neutrino
