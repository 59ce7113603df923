// The ABI as the loaded BPF object sees it: the map structs in the
// program's BTF have the sizes and member offsets the C++ side compiled with.
// abi.h asserts sizes on each side separately; this compares the two sides
// (clang -target bpf vs the host compiler), and covers nt_ct_gc, whose BPF
// and userspace declarations differ by design.
//
// Members are matched by name and only those listed are checked, so adding
// a field to abi.h does not break this test; moving or resizing one does.
#include <bpf/bpf.h>
#include <bpf/btf.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "fixture.hpp"

namespace nt_test {
namespace {

struct Field {
    const char* name;
    size_t offset;
};

struct Layout {
    const char* btf_name;  // the struct as BPF declares it
    size_t size;           // sizeof of the C++ declaration
    std::vector<Field> fields;
};

#define NT_FIELD(type, member) Field{#member, offsetof(type, member)}

const std::vector<Layout>& layouts() {
    static const std::vector<Layout> all = {
        {"nt_port_key", sizeof(nt_port_key), {NT_FIELD(nt_port_key, ifindex)}},
        {"nt_port",
         sizeof(nt_port),
         {NT_FIELD(nt_port, net_id), NT_FIELD(nt_port, flags), NT_FIELD(nt_port, mac), NT_FIELD(nt_port, mtu),
          NT_FIELD(nt_port, port_tag), NT_FIELD(nt_port, policy_gen), NT_FIELD(nt_port, policy_id),
          NT_FIELD(nt_port, ip)}},
        {"nt_net_key", sizeof(nt_net_key), {NT_FIELD(nt_net_key, net_id)}},
        {"nt_net",
         sizeof(nt_net),
         {NT_FIELD(nt_net, type), NT_FIELD(nt_net, seg_id), NT_FIELD(nt_net, mtu), NT_FIELD(nt_net, flags),
          NT_FIELD(nt_net, flood_count)}},
        {"nt_fdb_key", sizeof(nt_fdb_key), {NT_FIELD(nt_fdb_key, net_id), NT_FIELD(nt_fdb_key, mac)}},
        {"nt_fdb_entry",
         sizeof(nt_fdb_entry),
         {NT_FIELD(nt_fdb_entry, ifindex), NT_FIELD(nt_fdb_entry, router_id), NT_FIELD(nt_fdb_entry, flags),
          NT_FIELD(nt_fdb_entry, vtep), NT_FIELD(nt_fdb_entry, router_ip)}},
        {"nt_route_key",
         sizeof(nt_route_key),
         {NT_FIELD(nt_route_key, prefixlen), NT_FIELD(nt_route_key, router_id), NT_FIELD(nt_route_key, dst)}},
        {"nt_route",
         sizeof(nt_route),
         {NT_FIELD(nt_route, net_id), NT_FIELD(nt_route, flags), NT_FIELD(nt_route, nexthop),
          NT_FIELD(nt_route, mac)}},
        {"nt_router_info", sizeof(nt_router_info), {NT_FIELD(nt_router_info, id), NT_FIELD(nt_router_info, name)}},
        {"nt_flood_key", sizeof(nt_flood_key), {NT_FIELD(nt_flood_key, net_id), NT_FIELD(nt_flood_key, slot)}},
        {"nt_flood_entry",
         sizeof(nt_flood_entry),
         {NT_FIELD(nt_flood_entry, ifindex), NT_FIELD(nt_flood_entry, flags), NT_FIELD(nt_flood_entry, vtep)}},
        {"nt_neigh_key", sizeof(nt_neigh_key), {NT_FIELD(nt_neigh_key, net_id), NT_FIELD(nt_neigh_key, ip)}},
        {"nt_neigh",
         sizeof(nt_neigh),
         {NT_FIELD(nt_neigh, mac), NT_FIELD(nt_neigh, flags), NT_FIELD(nt_neigh, port_tag)}},
        {"nt_counter", sizeof(nt_counter), {NT_FIELD(nt_counter, packets), NT_FIELD(nt_counter, bytes)}},
        {"nt_port_stats",
         sizeof(nt_port_stats),
         {NT_FIELD(nt_port_stats, from_vm), NT_FIELD(nt_port_stats, to_vm), NT_FIELD(nt_port_stats, arp_reply),
          NT_FIELD(nt_port_stats, flooded), NT_FIELD(nt_port_stats, dropped)}},
        {"nt_sg_remote_key",
         sizeof(nt_sg_remote_key),
         {NT_FIELD(nt_sg_remote_key, prefixlen), NT_FIELD(nt_sg_remote_key, policy_id),
          NT_FIELD(nt_sg_remote_key, dir), NT_FIELD(nt_sg_remote_key, family), NT_FIELD(nt_sg_remote_key, ip)}},
        {"nt_sg_class", sizeof(nt_sg_class), {NT_FIELD(nt_sg_class, class_id)}},
        {"nt_sg_ports_key",
         sizeof(nt_sg_ports_key),
         {NT_FIELD(nt_sg_ports_key, prefixlen), NT_FIELD(nt_sg_ports_key, policy_id),
          NT_FIELD(nt_sg_ports_key, class_id), NT_FIELD(nt_sg_ports_key, dir), NT_FIELD(nt_sg_ports_key, family),
          NT_FIELD(nt_sg_ports_key, proto), NT_FIELD(nt_sg_ports_key, port)}},
        {"nt_sg_match", sizeof(nt_sg_match), {NT_FIELD(nt_sg_match, rule_tag)}},
        {"nt_addr_key",
         sizeof(nt_addr_key),
         {NT_FIELD(nt_addr_key, prefixlen), NT_FIELD(nt_addr_key, port_tag), NT_FIELD(nt_addr_key, mac),
          NT_FIELD(nt_addr_key, ip)}},
        {"nt_addr_allow", sizeof(nt_addr_allow), {NT_FIELD(nt_addr_allow, flags)}},
        {"nt_ct_key",
         sizeof(nt_ct_key),
         {NT_FIELD(nt_ct_key, zone), NT_FIELD(nt_ct_key, proto), NT_FIELD(nt_ct_key, family),
          NT_FIELD(nt_ct_key, src), NT_FIELD(nt_ct_key, dst), NT_FIELD(nt_ct_key, sport),
          NT_FIELD(nt_ct_key, dport)}},
        {"nt_ct_entry",
         sizeof(nt_ct_entry),
         {NT_FIELD(nt_ct_entry, created_ns), NT_FIELD(nt_ct_entry, last_seen_ns), NT_FIELD(nt_ct_entry, packets),
          NT_FIELD(nt_ct_entry, rule_tag), NT_FIELD(nt_ct_entry, policy_gen), NT_FIELD(nt_ct_entry, state),
          NT_FIELD(nt_ct_entry, origin), NT_FIELD(nt_ct_entry, flags), NT_FIELD(nt_ct_entry, sg_port)}},
        // BPF holds a struct bpf_timer where userspace sees two words.
        {"nt_ct_gc_state", sizeof(nt_ct_gc_value), {NT_FIELD(nt_ct_gc_value, stats)}},
        {"nt_rule_info", sizeof(nt_rule_info), {NT_FIELD(nt_rule_info, rule_id), NT_FIELD(nt_rule_info, sg_id)}},
        {"nt_port_info",
         sizeof(nt_port_info),
         {NT_FIELD(nt_port_info, id), NT_FIELD(nt_port_info, name), NT_FIELD(nt_port_info, ifname),
          NT_FIELD(nt_port_info, ifindex), NT_FIELD(nt_port_info, net_id)}},
        {"nt_net_info", sizeof(nt_net_info), {NT_FIELD(nt_net_info, id), NT_FIELD(nt_net_info, name)}},
        {"nt_attach_key",
         sizeof(nt_attach_key),
         {NT_FIELD(nt_attach_key, ifindex), NT_FIELD(nt_attach_key, ingress)}},
        {"nt_attach",
         sizeof(nt_attach),
         {NT_FIELD(nt_attach, mode), NT_FIELD(nt_attach, flags), NT_FIELD(nt_attach, prog_id),
          NT_FIELD(nt_attach, ifname), NT_FIELD(nt_attach, netns)}},
        // (nt_mon_event is no map value: not in BTF; abi.h asserts its size.)
        {"nt_mon_config",
         sizeof(nt_mon_config),
         {NT_FIELD(nt_mon_config, owner), NT_FIELD(nt_mon_config, ifindex), NT_FIELD(nt_mon_config, reasons),
          NT_FIELD(nt_mon_config, interval_ns), NT_FIELD(nt_mon_config, burst)}},
        {"nt_mon_state",
         sizeof(nt_mon_state),
         {NT_FIELD(nt_mon_state, credit_ns), NT_FIELD(nt_mon_state, last_ns), NT_FIELD(nt_mon_state, emitted),
          NT_FIELD(nt_mon_state, suppressed), NT_FIELD(nt_mon_state, lost)}},
    };
    return all;
}

#undef NT_FIELD

// Bit offset of the member called name, or -1 when the struct has none.
// Members of anonymous unions and structs count as the struct's own, as in C.
int64_t member_bit_offset(const btf* b, const btf_type* t, const std::string& name) {
    for (__u16 i = 0; i < btf_vlen(t); i++) {
        const btf_member& m = btf_members(t)[i];
        const char* n = btf__name_by_offset(b, m.name_off);
        if (name == n) return btf_member_bit_offset(t, i);
        if (n && *n) continue;
        const btf_type* inner = btf__type_by_id(b, btf__resolve_type(b, m.type));
        if (!inner || !(btf_is_struct(inner) || btf_is_union(inner))) continue;
        if (int64_t off = member_bit_offset(b, inner, name); off >= 0) return btf_member_bit_offset(t, i) + off;
    }
    return -1;
}

struct BtfDeleter {
    void operator()(btf* b) const { btf__free(b); }
};

// The BTF the kernel holds for a loaded program (its object's types).
std::unique_ptr<btf, BtfDeleter> program_btf(int prog_fd) {
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0 || info.btf_id == 0) return nullptr;
    return std::unique_ptr<btf, BtfDeleter>(btf__load_from_kernel_by_id(info.btf_id));
}

class AbiBtf : public TapDatapathTest {};

TEST_F(AbiBtf, MapStructsMatchTheLoadedObject) {
    auto b = program_btf(ingress_fd());
    ASSERT_TRUE(b) << "tap_ingress was loaded without BTF";

    for (const auto& l : layouts()) {
        SCOPED_TRACE(l.btf_name);
        __s32 id = btf__find_by_name_kind(b.get(), l.btf_name, BTF_KIND_STRUCT);
        ASSERT_GT(id, 0) << "struct " << l.btf_name << " is not in the object's BTF";
        EXPECT_EQ(btf__resolve_size(b.get(), static_cast<__u32>(id)), static_cast<__s64>(l.size)) << "size";
        const btf_type* t = btf__type_by_id(b.get(), static_cast<__u32>(id));
        for (const auto& f : l.fields)
            EXPECT_EQ(member_bit_offset(b.get(), t, f.name), static_cast<int64_t>(f.offset * 8))
                << "bit offset of " << f.name << " (-1: BPF has no such member)";
    }
    __s32 ip = btf__find_by_name_kind(b.get(), "nt_ip", BTF_KIND_UNION);
    ASSERT_GT(ip, 0);
    EXPECT_EQ(btf__resolve_size(b.get(), static_cast<__u32>(ip)), static_cast<__s64>(sizeof(nt_ip)));
}

}  // namespace
}  // namespace nt_test
