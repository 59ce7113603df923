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
        if (!bytes_equal(ia->first, ib->first) || !bytes_equal(ia->second, ib->second))
            return false;
    return true;
}

}  // namespace

bool MapEntries::operator==(const MapEntries& o) const {
    return table_equal(neigh, o.neigh) && table_equal(fdb, o.fdb) && table_equal(flood, o.flood) &&
           table_equal(nets, o.nets) && table_equal(ports, o.ports) &&
           table_equal(port_info, o.port_info) && table_equal(net_info, o.net_info);
}

size_t Plan::writes() const {
    return neigh.upserts.size() + fdb.upserts.size() + flood.upserts.size() +
           nets.upserts.size() + ports.upserts.size() + port_info.upserts.size() +
           net_info.upserts.size();
}

size_t Plan::deletes() const {
    return neigh.deletes.size() + fdb.deletes.size() + flood.deletes.size() +
           nets.deletes.size() + ports.deletes.size() + port_info.deletes.size() +
           net_info.deletes.size();
}

Plan diff(const MapEntries& current, const MapEntries& desired) {
    Plan p;
    p.neigh = diff_table(current.neigh, desired.neigh);
    p.fdb = diff_table(current.fdb, desired.fdb);
    p.flood = diff_table(current.flood, desired.flood);
    p.nets = diff_table(current.nets, desired.nets);
    p.ports = diff_table(current.ports, desired.ports);
    p.port_info = diff_table(current.port_info, desired.port_info);
    p.net_info = diff_table(current.net_info, desired.net_info);
    return p;
}

void apply_plan(MapEntries& e, const Plan& p) {
    apply_table(e.neigh, p.neigh);
    apply_table(e.fdb, p.fdb);
    apply_table(e.flood, p.flood);
    apply_table(e.nets, p.nets);
    apply_table(e.ports, p.ports);
    apply_table(e.port_info, p.port_info);
    apply_table(e.net_info, p.net_info);
}

}  // namespace neutrino
