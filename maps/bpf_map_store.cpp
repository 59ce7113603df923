#include "maps/bpf_map_store.hpp"

#include "loader/error.hpp"

namespace neutrino {

namespace {

int fd_of(const std::map<std::string, int>& fds, const char* name) {
    auto it = fds.find(name);
    if (it == fds.end()) throw Error(std::string("datapath map ") + name + " is missing");
    return it->second;
}

template <class K, class V>
void read_table(const BpfMap<K, V>& m, Table<K, V>& t) {
    m.for_each([&](const K& k, const V& v) { t[k] = v; });
}

template <class K, class V>
void write_upserts(BpfMap<K, V>& m, const TableDiff<K, V>& d) {
    for (const auto& [k, v] : d.upserts) m.update(k, v);
}

template <class K, class V>
void write_deletes(BpfMap<K, V>& m, const TableDiff<K, V>& d) {
    for (const auto& k : d.deletes) m.erase(k);
}

}  // namespace

BpfMapStore::BpfMapStore(const std::map<std::string, int>& fds)
    : neigh_(fd_of(fds, kMapNeigh), kMapNeigh),
      fdb_(fd_of(fds, kMapFdb), kMapFdb),
      flood_(fd_of(fds, kMapFlood), kMapFlood),
      nets_(fd_of(fds, kMapNets), kMapNets),
      ports_(fd_of(fds, kMapPorts), kMapPorts),
      port_info_(fd_of(fds, kMapPortInfo), kMapPortInfo),
      net_info_(fd_of(fds, kMapNetInfo), kMapNetInfo) {}

MapEntries BpfMapStore::read_all() const {
    MapEntries e;
    read_table(neigh_, e.neigh);
    read_table(fdb_, e.fdb);
    read_table(flood_, e.flood);
    read_table(nets_, e.nets);
    read_table(ports_, e.ports);
    read_table(port_info_, e.port_info);
    read_table(net_info_, e.net_info);
    return e;
}

// Upserts leaves-first (neighbours, FDB and flood slots before the network
// and port entries that make them reachable), deletes roots-first: a packet
// never follows a reference to an entry that is not there yet or any more.
// Within a network, a grown flood list gets its new slots before the count.
void BpfMapStore::apply(const Plan& p) {
    write_upserts(net_info_, p.net_info);
    write_upserts(port_info_, p.port_info);
    write_upserts(neigh_, p.neigh);
    write_upserts(fdb_, p.fdb);
    write_upserts(flood_, p.flood);
    write_upserts(nets_, p.nets);
    write_upserts(ports_, p.ports);

    write_deletes(ports_, p.ports);
    write_deletes(nets_, p.nets);
    write_deletes(flood_, p.flood);
    write_deletes(fdb_, p.fdb);
    write_deletes(neigh_, p.neigh);
    write_deletes(port_info_, p.port_info);
    write_deletes(net_info_, p.net_info);
}

}  // namespace neutrino
