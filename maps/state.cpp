// State lookups, issue formatting and the load entry points (parse + validate).
#include "maps/state.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace neutrino {

namespace {

template <typename T, typename Key>
const T* find_by(const std::vector<T>& v, const std::string& key, Key T::*field) {
    for (const T& x : v)
        if (x.*field == key) return &x;
    return nullptr;
}

std::string what_text(const std::vector<StateIssue>& issues) {
    std::string s = "invalid desired state (" + std::to_string(issues.size()) +
                    (issues.size() == 1 ? " problem):" : " problems):");
    for (const auto& i : issues) s += "\n" + i.str();
    return s;
}

// 1-based line and column of a byte offset, for humans reading the message.
std::pair<size_t, size_t> line_col(const std::string& text, size_t byte) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < byte && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            col = 1;
        } else {
            ++col;
        }
    }
    return {line, col};
}

// The part of nlohmann's message after `sep`, with bytes past ASCII written
// as \xNN: its "last read: '...'" quotes raw input, which may not be UTF-8,
// and every message must be (it is printed, and reported in JSON).
std::string json_error_detail(const std::string& what, const char* sep) {
    std::string detail = what;
    if (auto p = detail.find(sep); p != std::string::npos) detail = detail.substr(p + std::strlen(sep));
    std::string out;
    for (unsigned char c : detail) {
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            static const char* digits = "0123456789ABCDEF";
            out += std::string("\\x") + digits[c >> 4] + digits[c & 0xf];
        }
    }
    return out;
}

}  // namespace

const Host* State::find_host(const std::string& name) const { return find_by(hosts, name, &Host::name); }
const Network* State::find_network(const std::string& id) const { return find_by(networks, id, &Network::id); }
const Subnet* State::find_subnet(const std::string& id) const { return find_by(subnets, id, &Subnet::id); }
const Port* State::find_port(const std::string& id) const { return find_by(ports, id, &Port::id); }
const SecurityGroup* State::find_security_group(const std::string& id) const {
    return find_by(security_groups, id, &SecurityGroup::id);
}
const Router* State::find_router(const std::string& id) const { return find_by(routers, id, &Router::id); }

const char* to_string(NetworkType t) {
    switch (t) {
    case NetworkType::Local: return "local";
    case NetworkType::Flat: return "flat";
    case NetworkType::Vlan: return "vlan";
    case NetworkType::Vxlan: return "vxlan";
    case NetworkType::Gre: return "gre";
    }
    return "?";
}

bool Port::is_vm_port() const { return device_owner.rfind("network:", 0) != 0; }

std::string StateIssue::str() const {
    std::string s;
    if (!resource.empty()) s += resource + ": ";
    if (!path.empty()) s += path + ": ";
    return s + message;
}

StateError::StateError(std::vector<StateIssue> issues)
    : std::runtime_error(what_text(issues)), issues_(std::move(issues)) {}

std::string default_interface_name(const std::string& port_id) { return "tap" + port_id.substr(0, 11); }

State load_state_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw StateError({{"", "", "cannot open " + path + ": " + std::strerror(errno)}});
    std::ostringstream buf;
    buf << in.rdbuf();
    if (in.bad()) throw StateError({{"", "", "cannot read " + path + ": " + std::strerror(errno)}});
    return load_state_text(buf.str(), path);
}

State load_state_text(const std::string& text, const std::string& origin) {
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        // e.what() is "[json.exception.parse_error.101] parse error at line L,
        // column C: detail"; keep the detail, state the position ourselves.
        auto [line, col] = line_col(text, e.byte > 0 ? e.byte - 1 : 0);
        throw StateError({{"", "",
                           origin + ": invalid JSON at byte " + std::to_string(e.byte) + " (line " +
                               std::to_string(line) + ", column " + std::to_string(col) +
                               "): " + json_error_detail(e.what(), ": ")}});
    } catch (const nlohmann::json::out_of_range& e) {
        // A number beyond a double's range (1e400) is out_of_range.406, with
        // no position: "[json.exception.out_of_range.406] number overflow parsing '1e400'".
        throw StateError({{"", "", origin + ": invalid JSON: " + json_error_detail(e.what(), "] ")}});
    }
    State state = parse_state(doc);
    auto issues = validate_state(state);
    if (!issues.empty()) throw StateError(std::move(issues));
    return state;
}

}  // namespace neutrino
