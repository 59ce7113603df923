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
#define NT_PLAN_MEMBER(m, K, V, name) TableDiff<K, V> m;
    NT_COMPILED_MAPS(NT_PLAN_MEMBER)
#undef NT_PLAN_MEMBER

    size_t writes() const;
    size_t deletes() const;
    bool empty() const { return writes() == 0 && deletes() == 0; }
};

Plan diff(const MapEntries& current, const MapEntries& desired);

// Applying a plan to an in-memory MapEntries (what the kernel maps become).
void apply_plan(MapEntries& entries, const Plan& plan);

}  // namespace neutrino
