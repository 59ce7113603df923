// Where compiled entries live. The real store is the pinned BPF maps
// (maps/bpf_map_store.cpp); tests use MemoryMapStore. apply() is the one
// place where desired state turns into kernel writes.
#pragma once

#include "maps/diff.hpp"

namespace neutrino {

class MapStore {
public:
    virtual ~MapStore() = default;
    virtual MapEntries read_all() const = 0;
    // Performs the plan in an order that never shows a packet a dangling
    // reference: all upserts leaves-first, then all deletes roots-first.
    virtual void apply(const Plan& plan) = 0;
};

class MemoryMapStore : public MapStore {
public:
    MapEntries read_all() const override { return entries_; }
    void apply(const Plan& plan) override {
        apply_plan(entries_, plan);
        writes_ += plan.writes();
        deletes_ += plan.deletes();
    }
    size_t writes() const { return writes_; }
    size_t deletes() const { return deletes_; }

private:
    MapEntries entries_;
    size_t writes_ = 0;
    size_t deletes_ = 0;
};

}  // namespace neutrino
