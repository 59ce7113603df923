// One Neutrino instance: the pinned datapath of one host (a real host, or a
// simulated one in a test namespace). Runs the pipeline
//   State -> compile -> diff against the live maps -> apply -> attach/detach
// and answers inspection queries from the pinned maps.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loader/bpffs.hpp"
#include "loader/tc_attach.hpp"
#include "maps/compile.hpp"
#include "maps/diff.hpp"
#include "maps/state.hpp"

namespace neutrino {

class Datapath;

struct InstanceOptions {
    std::string name = "default";
    std::string netns;  // named netns holding the taps ("" = the loader's own)
    std::string bpffs = kDefaultBpffs;
    TcMode tc_mode = TcMode::Auto;
};

struct ApplyResult {
    std::string host;
    bool dry_run = false;
    Plan plan;
    std::vector<LocalPort> ports;    // local ports wired (or to be wired)
    std::vector<LocalPort> pending;  // bound here but their tap does not exist
    std::vector<std::string> attached;  // "tapX ingress", ...
    std::vector<std::string> detached;
};

struct UpgradeResult {
    struct Program {
        std::string name, old_tag, new_tag;
    };
    std::vector<Program> programs;    // programs whose code changed (empty: same build)
    std::vector<std::string> updated;  // hooks moved to the new programs ("tapX ingress", ...)
};

struct PortRow {
    std::string id, name, ifname;
    uint32_t ifindex = 0, port_tag = 0, net_id = 0;
    uint32_t policy_id = 0;  // its security-group table, shared by ports with the same groups
    std::string network_id, network_name;
    MacAddr mac;
    uint32_t flags = 0, mtu = 0;
    std::vector<IpAddr> ips;
    nt_port_stats stats{};
};

struct FdbRow {
    uint32_t net_id = 0;
    std::string network_id;
    MacAddr mac;
    uint32_t flags = 0, ifindex = 0;
    std::string ifname, port_id;
    IpAddr vtep;
};

struct RuleRow {
    uint32_t rule_tag = 0;
    std::string rule_id, sg_id, sg_name, description;
    nt_counter flows{};  // flows this rule admitted
};

struct CtRow {
    nt_ct_key key{};
    nt_ct_entry entry{};
    IpAddr src, dst;
    uint64_t age_ns = 0, idle_ns = 0;
    std::string port_id, port_name, rule_id;
};

struct AllowedAddress {
    MacAddr mac;
    Cidr ip;
};

// A port with its effective policy: what it may send as, which rules apply.
struct PortDetail {
    PortRow port;
    std::vector<MacAddr> allowed_macs;
    std::vector<AllowedAddress> allowed_addresses;
    std::vector<RuleRow> rules;
};

struct UplinkRow {
    uint32_t ifindex = 0;
    std::string ifname;
    nt_uplink_stats stats{};
};

struct TunnelView {
    IpAddr local;  // this host's tunnel address (zero: none)
    uint32_t tunnel_ifindex = 0;
    std::vector<IpAddr> vteps;  // remote hosts
    std::vector<UplinkRow> uplinks;
};

// A route of one router as the datapath holds it (nt_routes).
struct RouteRow {
    uint32_t router_id = 0;
    std::string router, router_name;  // Neutron id and name
    Cidr destination;
    std::string type;  // "connected" | "via"
    IpAddr nexthop;    // via only
    uint32_t net_id = 0;
    std::string network_id, network_name;  // the egress network
    MacAddr mac;  // the router's MAC there
};

// A router this host routes for, with its interfaces (gateway addresses).
struct RouterRow {
    uint32_t router_id = 0;
    std::string id, name;
    struct Interface {
        std::string network_id, network_name;
        MacAddr mac;
        std::vector<IpAddr> ips;
    };
    std::vector<Interface> interfaces;
    size_t routes = 0;
    // Default SNAT as this host does it: none, here (the SNAT host, with its
    // port range), or sent to the SNAT host's tunnel endpoint.
    enum class Snat { None, Here, Elsewhere } snat = Snat::None;
    IpAddr snat_address, snat_host;  // the external address; Elsewhere: where to
    uint16_t port_min = 0, port_max = 0;
};

// A SNAT binding (both directions of one flow) with its counters.
struct NatRow {
    std::string router, router_name;
    uint8_t proto = 0;
    IpAddr fixed, external, remote;
    uint16_t fixed_port = 0, external_port = 0, remote_port = 0;  // ICMP: echo ids
    uint8_t state = 0;  // enum nt_nat_state
    uint64_t idle_ns = 0;
    nt_counter out{}, in{};
};

// A floating IP this host translates.
struct FipRow {
    std::string router, router_name;
    IpAddr floating, fixed;
};

// A network as this host's datapath knows it (nt_nets, nt_flood).
struct NetworkRow {
    uint32_t net_id = 0;
    std::string id, name;
    uint32_t type = 0;    // enum nt_net_type
    uint32_t segment = 0; // VLAN id, VNI or GRE key (0: none)
    uint32_t mtu = 0;
    bool admin_up = false, external = false;
    std::string uplink;   // interface carrying it off the host ("" none)
    struct FloodSlot {
        std::string target;  // local tap, or "VTEP a.b.c.d"
    };
    std::vector<FloodSlot> flood;
};

// An address the ARP/ND responder answers (nt_neigh), or a next hop the
// uplink learned from ARP on an external network (nt_ext_neigh).
struct NeighRow {
    uint32_t net_id = 0;
    std::string network_id, network_name;
    IpAddr ip;
    MacAddr mac;
    std::string kind;     // port, router, learned
    bool remote = false;  // the owner is bound to another host
    std::string port_id;  // port (local)
};

struct DropRow {
    uint32_t reason = 0;
    std::string name, description;
    nt_counter counter{};
};

// Which host of the state this is: the requested name, else the machine's
// hostname when the state names it, else the only host. Throws otherwise.
std::string resolve_host(const State& state, const std::string& requested);

class Instance {
public:
    explicit Instance(InstanceOptions opts);
    ~Instance();

    const InstanceOptions& options() const { return opts_; }
    const PinPaths& pins() const { return pins_; }
    bool exists() const { return pins_.exists(); }

    // dry_run: compute the plan against the live maps (or against nothing
    // when the instance does not exist) and change nothing.
    ApplyResult apply(const State& state, const std::string& host, bool dry_run);
    // Replace the programs with this build's (or those in objects_dir),
    // keeping maps and hooks; every hook is swapped atomically. Idempotent.
    UpgradeResult upgrade(const std::optional<std::string>& objects_dir);
    // Detach every recorded attachment, unpin everything. Idempotent.
    void destroy();

    std::vector<PortRow> ports() const;
    std::vector<FdbRow> fdb() const;
    std::vector<TcAttachment> attachments() const;
    std::vector<DropRow> drops() const;
    std::vector<RuleRow> rules() const;
    std::vector<CtRow> conntrack() const;
    size_t ct_flush(const std::optional<uint32_t>& zone);  // entries removed
    nt_ct_gc_stats ct_gc_stats() const;
    PortDetail port_detail(const std::string& id_or_name) const;
    TunnelView tunnels() const;  // id, id prefix, name or tap
    std::vector<RouterRow> routers() const;
    std::vector<RouteRow> routes() const;
    std::vector<NatRow> nat() const;
    std::vector<FipRow> fips() const;
    std::vector<NetworkRow> networks() const;
    std::vector<NeighRow> neighbours() const;  // responder entries, then learned ones
    MapEntries entries() const;

private:
    Datapath& datapath(bool create) const;
    void require_exists() const;
    // Pin directories of other ABI versions that hold pins (another build's
    // datapath of this instance), and the refusal to touch them.
    std::vector<std::string> other_abi_pins() const;
    void check_abi() const;

    InstanceOptions opts_;
    PinPaths pins_;
    mutable std::unique_ptr<Datapath> dp_;
};

}  // namespace neutrino
