// The DHCP ABI as the loaded BPF object sees it: nt_dhcp_config and
// nt_dhcp_stats in the program's BTF have the sizes and member offsets the
// C++ side compiled with, and the maps have those value sizes.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "loader/datapath.hpp"
#include "maps/compile_dhcp.hpp"
#include "neutrino/abi.h"

namespace nt_test {
namespace {

struct BtfFree {
    void operator()(btf* b) const { btf__free(b); }
};

int64_t bit_offset(const btf* b, const btf_type* t, const std::string& name) {
    for (__u16 i = 0; i < btf_vlen(t); i++)
        if (name == btf__name_by_offset(b, btf_members(t)[i].name_off)) return btf_member_bit_offset(t, i);
    return -1;
}

#define NT_DHCP_FIELD(type, member) std::pair<std::string, size_t>{#member, offsetof(type, member)}

TEST(DhcpAbi, StructsAndMapsMatchTheLoadedObject) {
    auto dp = neutrino::Datapath::load(std::nullopt);
    bpf_prog_info info{};
    __u32 len = sizeof info;
    ASSERT_EQ(bpf_obj_get_info_by_fd(dp->tap_ingress_fd(), &info, &len), 0);
    std::unique_ptr<btf, BtfFree> b(btf__load_from_kernel_by_id(info.btf_id));
    ASSERT_TRUE(b) << "tap_ingress was loaded without BTF";

    struct Layout {
        const char* name;
        size_t size;
        std::vector<std::pair<std::string, size_t>> fields;
    };
    const std::vector<Layout> layouts = {
        {"nt_dhcp_config",
         sizeof(nt_dhcp_config),
         {NT_DHCP_FIELD(nt_dhcp_config, yiaddr), NT_DHCP_FIELD(nt_dhcp_config, netmask),
          NT_DHCP_FIELD(nt_dhcp_config, router), NT_DHCP_FIELD(nt_dhcp_config, server_id),
          NT_DHCP_FIELD(nt_dhcp_config, lease_secs), NT_DHCP_FIELD(nt_dhcp_config, mtu),
          NT_DHCP_FIELD(nt_dhcp_config, opts_len), NT_DHCP_FIELD(nt_dhcp_config, server_mac),
          NT_DHCP_FIELD(nt_dhcp_config, flags), NT_DHCP_FIELD(nt_dhcp_config, prefix_len),
          NT_DHCP_FIELD(nt_dhcp_config, opts)}},
        {"nt_dhcp_stats", sizeof(nt_dhcp_stats), {NT_DHCP_FIELD(nt_dhcp_stats, count)}},
    };
    for (const auto& l : layouts) {
        SCOPED_TRACE(l.name);
        __s32 id = btf__find_by_name_kind(b.get(), l.name, BTF_KIND_STRUCT);
        ASSERT_GT(id, 0) << "not in the object's BTF";
        EXPECT_EQ(btf__resolve_size(b.get(), static_cast<__u32>(id)), static_cast<__s64>(l.size));
        const btf_type* t = btf__type_by_id(b.get(), static_cast<__u32>(id));
        for (const auto& [name, off] : l.fields)
            EXPECT_EQ(bit_offset(b.get(), t, name), static_cast<int64_t>(off * 8)) << name;
    }

    for (auto [map, key, value] : {std::tuple{neutrino::kDhcpConfigMap, sizeof(__u32), sizeof(nt_dhcp_config)},
                                   std::tuple{neutrino::kDhcpStatsMap, sizeof(__u32), sizeof(nt_dhcp_stats)}}) {
        bpf_map_info mi{};
        __u32 mlen = sizeof mi;
        ASSERT_EQ(bpf_obj_get_info_by_fd(dp->map_fd(map), &mi, &mlen), 0) << map;
        EXPECT_EQ(mi.key_size, key) << map;
        EXPECT_EQ(mi.value_size, value) << map;
    }
}

#undef NT_DHCP_FIELD

}  // namespace
}  // namespace nt_test
