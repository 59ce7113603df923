// diff and in-memory apply of MapEntries.
#include "maps/diff.hpp"

namespace neutrino {

namespace {

template <class K, class V>
TableDiff<K, V> diff_table(const Table<K, V>& cur, const Table<K, V>& want) {
    TableDiff<K, V> d;
    for (const auto& [k, v] : want) {
        auto it = cur.find(k);
        if (it == cur.end() || !bytes_equal(it->second, v)) d.upserts.emplace_back(k, v);
    }
    for (const auto& [k, v] : cur)
        if (!want.count(k)) d.deletes.push_back(k);
    return d;
}

template <class K, class V>
void apply_table(Table<K, V>& t, const TableDiff<K, V>& d) {
    for (const auto& [k, v] : d.upserts) t[k] = v;
    for (const auto& k : d.deletes) t.erase(k);
}

template <class K, class V>
bool table_equal(const Table<K, V>& a, const Table<K, V>& b) {
    if (a.size() != b.size()) return false;
    for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib)
        if (!bytes_equal(ia->first, ib->first) || !bytes_equal(ia->second, ib->second)) return false;
    return true;
}

}  // namespace

size_t MapEntries::size() const {
    size_t n = 0;
#define NT_SIZE(m, K, V, name) n += m.size();
    NT_COMPILED_MAPS(NT_SIZE)
#undef NT_SIZE
    return n;
}

bool MapEntries::operator==(const MapEntries& o) const {
    bool eq = true;
#define NT_EQ(m, K, V, name) eq = eq && table_equal(m, o.m);
    NT_COMPILED_MAPS(NT_EQ)
#undef NT_EQ
    return eq;
}

size_t Plan::writes() const {
    size_t n = 0;
#define NT_WRITES(m, K, V, name) n += m.upserts.size();
    NT_COMPILED_MAPS(NT_WRITES)
#undef NT_WRITES
    return n;
}

size_t Plan::deletes() const {
    size_t n = 0;
#define NT_DELETES(m, K, V, name) n += m.deletes.size();
    NT_COMPILED_MAPS(NT_DELETES)
#undef NT_DELETES
    return n;
}

Plan diff(const MapEntries& current, const MapEntries& desired) {
    Plan p;
#define NT_DIFF(m, K, V, name) p.m = diff_table(current.m, desired.m);
    NT_COMPILED_MAPS(NT_DIFF)
#undef NT_DIFF
    return p;
}

void apply_plan(MapEntries& e, const Plan& p) {
#define NT_APPLY(m, K, V, name) apply_table(e.m, p.m);
    NT_COMPILED_MAPS(NT_APPLY)
#undef NT_APPLY
}

}  // namespace neutrino
