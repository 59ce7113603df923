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

BpfMapStore::BpfMapStore(const std::map<std::string, int>& fds) {
#define NT_STORE_OPEN(m, K, V, name) m##_.emplace(fd_of(fds, name), name);
    NT_COMPILED_MAPS(NT_STORE_OPEN)
#undef NT_STORE_OPEN
}

MapEntries BpfMapStore::read_all() const {
    MapEntries e;
#define NT_STORE_READ(m, K, V, name) read_table(*m##_, e.m);
    NT_COMPILED_MAPS(NT_STORE_READ)
#undef NT_STORE_READ
    return e;
}

// Upserts in list order (leaves first: names, classifier, neighbours, FDB and
// flood slots before the network and port entries that make them reachable),
// then deletes in reverse order (roots first): a packet never follows a
// reference to an entry that is not there yet or any more. A grown flood list
// gets its new slots before the network's count.
void BpfMapStore::apply(const Plan& p) {
#define NT_STORE_UPSERT(m, K, V, name) write_upserts(*m##_, p.m);
    NT_COMPILED_MAPS(NT_STORE_UPSERT)
#undef NT_STORE_UPSERT
    write_deletes(*ports_, p.ports);
    write_deletes(*provider_, p.provider);
    write_deletes(*tun_nets_, p.tun_nets);
    write_deletes(*nets_, p.nets);
    write_deletes(*flood_, p.flood);
    write_deletes(*fdb_, p.fdb);
    write_deletes(*neigh_, p.neigh);
    write_deletes(*routes_, p.routes);
    write_deletes(*snat_, p.snat);
    write_deletes(*fips_, p.fips);
    write_deletes(*vteps_, p.vteps);
    write_deletes(*config_, p.config);
    write_deletes(*sg_remote_, p.sg_remote);
    write_deletes(*sg_ports_, p.sg_ports);
    write_deletes(*addrs_, p.addrs);
    write_deletes(*port_info_, p.port_info);
    write_deletes(*router_info_, p.router_info);
    write_deletes(*net_info_, p.net_info);
    write_deletes(*rule_info_, p.rule_info);
    write_deletes(*dhcp_, p.dhcp);
}

}  // namespace neutrino
