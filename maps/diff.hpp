// diff: what apply must write and delete to turn one MapEntries into another.
#pragma once

#include <utility>
#include <vector>

#include "maps/entries.hpp"

namespace neutrino {

template <class K, class V>
struct TableDiff {
    std::vector<std::pair<K, V>> upserts;  // added or changed
    std::vector<K> deletes;
    size_t size() const { return upserts.size() + deletes.size(); }
};

struct Plan {
    TableDiff<nt_neigh_key, nt_neigh> neigh;
    TableDiff<nt_fdb_key, nt_fdb_entry> fdb;
    TableDiff<nt_flood_key, nt_flood_entry> flood;
    TableDiff<nt_net_key, nt_net> nets;
    TableDiff<nt_port_key, nt_port> ports;
    TableDiff<__u32, nt_port_info> port_info;
    TableDiff<nt_net_key, nt_net_info> net_info;

    size_t writes() const;
    size_t deletes() const;
    bool empty() const { return writes() == 0 && deletes() == 0; }
};

Plan diff(const MapEntries& current, const MapEntries& desired);

// Applying a plan to an in-memory MapEntries (what the kernel maps become).
void apply_plan(MapEntries& entries, const Plan& plan);

}  // namespace neutrino
