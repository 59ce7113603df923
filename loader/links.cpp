#include "loader/links.hpp"

#include <net/if.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
#include <linux/neighbour.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "loader/error.hpp"
#include "loader/log.hpp"

namespace neutrino {

namespace {

struct SockDeleter {
    void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct LinkDeleter {
    void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrDeleter {
    void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using Sock = std::unique_ptr<nl_sock, SockDeleter>;
using Link = std::unique_ptr<rtnl_link, LinkDeleter>;
using Addr = std::unique_ptr<nl_addr, AddrDeleter>;

[[noreturn]] void throw_nl(const std::string& what, int err) {
    throw Error(what + ": " + nl_geterror(err));
}

Sock route_socket() {
    Sock s(nl_socket_alloc());
    if (!s) throw Error("netlink: out of memory");
    int err = nl_connect(s.get(), NETLINK_ROUTE);
    if (err < 0) throw_nl("netlink connect", err);
    return s;
}

Link get_link(nl_sock* s, const std::string& name) {
    rtnl_link* l = nullptr;
    int err = rtnl_link_get_kernel(s, 0, name.c_str(), &l);
    if (err < 0) throw_nl("interface " + name, err);
    return Link(l);
}

Addr mac_addr(const MacAddr& m) {
    return Addr(nl_addr_build(AF_LLC, m.b.data(), m.b.size()));
}

}  // namespace

std::map<std::string, uint32_t> list_interfaces() {
    std::map<std::string, uint32_t> out;
    auto s = route_socket();
    nl_cache* cache = nullptr;
    int err = rtnl_link_alloc_cache(s.get(), AF_UNSPEC, &cache);
    if (err < 0) throw_nl("list interfaces", err);
    for (nl_object* o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
        auto* l = reinterpret_cast<rtnl_link*>(o);
        out[rtnl_link_get_name(l)] = static_cast<uint32_t>(rtnl_link_get_ifindex(l));
    }
    nl_cache_free(cache);
    return out;
}

std::optional<uint32_t> find_ifindex(const std::string& name) {
    unsigned idx = if_nametoindex(name.c_str());
    if (!idx) return std::nullopt;
    return idx;
}

void create_veth(const std::string& name, const std::string& peer_name, int peer_netns_fd,
                 const std::optional<MacAddr>& peer_mac) {
    auto s = route_socket();
    Link link(rtnl_link_veth_alloc());
    if (!link) throw Error("veth " + name + ": out of memory");
    rtnl_link_set_name(link.get(), name.c_str());
    rtnl_link* peer = rtnl_link_veth_get_peer(link.get());
    rtnl_link_set_name(peer, peer_name.c_str());
    if (peer_netns_fd >= 0) rtnl_link_set_ns_fd(peer, peer_netns_fd);
    Addr mac;
    if (peer_mac) {
        mac = mac_addr(*peer_mac);
        rtnl_link_set_addr(peer, mac.get());
    }
    int err = rtnl_link_add(s.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL);
    rtnl_link_put(peer);
    if (err < 0) throw_nl("create veth " + name + " <-> " + peer_name, err);
}

void delete_link(const std::string& name) {
    auto s = route_socket();
    rtnl_link* l = nullptr;
    if (rtnl_link_get_kernel(s.get(), 0, name.c_str(), &l) < 0) return;
    Link link(l);
    int err = rtnl_link_delete(s.get(), link.get());
    if (err < 0) throw_nl("delete interface " + name, err);
}

void set_link_up(const std::string& name) {
    auto s = route_socket();
    auto link = get_link(s.get(), name);
    Link change(rtnl_link_alloc());
    rtnl_link_set_flags(change.get(), IFF_UP);
    int err = rtnl_link_change(s.get(), link.get(), change.get(), 0);
    if (err < 0) throw_nl("set " + name + " up", err);
}

void set_link_mtu(const std::string& name, uint32_t mtu) {
    auto s = route_socket();
    auto link = get_link(s.get(), name);
    Link change(rtnl_link_alloc());
    rtnl_link_set_mtu(change.get(), mtu);
    int err = rtnl_link_change(s.get(), link.get(), change.get(), 0);
    if (err < 0) throw_nl("set " + name + " mtu " + std::to_string(mtu), err);
}

void add_address(const std::string& name, const IpAddr& ip, int prefix) {
    auto s = route_socket();
    auto link = get_link(s.get(), name);
    std::unique_ptr<rtnl_addr, void (*)(rtnl_addr*)> addr(rtnl_addr_alloc(), rtnl_addr_put);
    rtnl_addr_set_ifindex(addr.get(), rtnl_link_get_ifindex(link.get()));
    nl_addr* local = nullptr;
    std::string text = ip.str() + "/" + std::to_string(prefix);
    int err = nl_addr_parse(text.c_str(), ip.is_v4() ? AF_INET : AF_INET6, &local);
    if (err < 0) throw_nl("address " + text, err);
    Addr owned(local);
    rtnl_addr_set_local(addr.get(), local);
    err = rtnl_addr_add(s.get(), addr.get(), 0);
    if (err < 0) throw_nl("add " + text + " to " + name, err);
}

MacAddr link_mac(const std::string& name) {
    auto s = route_socket();
    auto link = get_link(s.get(), name);
    MacAddr m;
    nl_addr* a = rtnl_link_get_addr(link.get());
    if (a && nl_addr_get_len(a) == 6)
        std::memcpy(m.b.data(), nl_addr_get_binary_addr(a), 6);
    return m;
}

std::optional<std::string> interface_with_address(const IpAddr& want) {
    auto s = route_socket();
    nl_cache* cache = nullptr;
    int err = rtnl_addr_alloc_cache(s.get(), &cache);
    if (err < 0) throw_nl("list addresses", err);
    std::optional<int> ifindex;
    for (nl_object* o = nl_cache_get_first(cache); o && !ifindex; o = nl_cache_get_next(o)) {
        auto* a = reinterpret_cast<rtnl_addr*>(o);
        nl_addr* local = rtnl_addr_get_local(a);
        if (!local) continue;
        char buf[64];
        nl_addr2str(local, buf, sizeof buf);
        std::string text(buf);
        if (auto slash = text.find('/'); slash != std::string::npos) text.resize(slash);
        if (auto ip = IpAddr::parse(text); ip && *ip == want) ifindex = rtnl_addr_get_ifindex(a);
    }
    nl_cache_free(cache);
    if (!ifindex) return std::nullopt;
    char name[IF_NAMESIZE] = {};
    if (!if_indextoname(static_cast<unsigned>(*ifindex), name)) return std::nullopt;
    return std::string(name);
}

bool enable_ipv4_forwarding(const std::string& ifname) {
    // /proc/sys/net follows the calling thread's network namespace.
    const std::string path = "/proc/sys/net/ipv4/conf/" + ifname + "/forwarding";
    FILE* f = std::fopen(path.c_str(), "r+");
    if (!f) throw_errno("open " + path, errno);
    int c = std::fgetc(f);
    bool changed = c != '1';
    if (changed) {
        std::rewind(f);
        std::fputs("1\n", f);
    }
    if (std::fclose(f) != 0) throw_errno("write " + path, errno);
    return changed;
}

void prime_neighbour(const std::string& ifname, const IpAddr& addr) {
    auto s = route_socket();
    auto link = get_link(s.get(), ifname);
    std::unique_ptr<rtnl_neigh, void (*)(rtnl_neigh*)> n(rtnl_neigh_alloc(), rtnl_neigh_put);
    rtnl_neigh_set_ifindex(n.get(), rtnl_link_get_ifindex(link.get()));
    nl_addr* dst = nullptr;
    int err = nl_addr_parse(addr.str().c_str(), addr.is_v4() ? AF_INET : AF_INET6, &dst);
    if (err < 0) throw_nl("address " + addr.str(), err);
    Addr owned(dst);
    rtnl_neigh_set_dst(n.get(), dst);
    rtnl_neigh_set_flags(n.get(), NTF_USE);
    rtnl_neigh_set_state(n.get(), NUD_NONE);
    err = rtnl_neigh_add(s.get(), n.get(), NLM_F_CREATE | NLM_F_REPLACE);
    if (err < 0) spdlog::debug("prime neighbour {} on {}: {}", addr.str(), ifname, nl_geterror(err));
}

}  // namespace neutrino
