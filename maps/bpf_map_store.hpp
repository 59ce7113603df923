// The MapStore backed by the datapath's BPF maps.
#pragma once

#include <map>
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
    BpfMap<nt_neigh_key, nt_neigh> neigh_;
    BpfMap<nt_fdb_key, nt_fdb_entry> fdb_;
    BpfMap<nt_flood_key, nt_flood_entry> flood_;
    BpfMap<nt_net_key, nt_net> nets_;
    BpfMap<nt_port_key, nt_port> ports_;
    BpfMap<__u32, nt_port_info> port_info_;
    BpfMap<nt_net_key, nt_net_info> net_info_;
};

}  // namespace neutrino
