// Shared pieces of the neutrino CLI: global options and output helpers.
// Commands call the library (loader/, maps/); none of them touches a map.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "loader/instance.hpp"

namespace neutrino::cli {

struct Globals {
    std::string instance = "default";
    std::string netns;
    std::string output = "text";  // text | json
    std::string tc_mode = "auto";
    std::string bpffs = kDefaultBpffs;
    int verbose = 0;

    bool json() const { return output == "json"; }
    InstanceOptions instance_options() const;
};

// A plain aligned table for people; scripts use -o json.
class TextTable {
public:
    explicit TextTable(std::vector<std::string> header) : rows_{std::move(header)} {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    std::string str() const;

private:
    std::vector<std::vector<std::string>> rows_;
};

void print_json(const nlohmann::json& j);

nlohmann::json to_json(const ApplyResult& r);
std::string to_text(const ApplyResult& r);
nlohmann::json ports_json(const std::vector<PortRow>& rows);
std::string ports_text(const std::vector<PortRow>& rows);
nlohmann::json fdb_json(const std::vector<FdbRow>& rows);
std::string fdb_text(const std::vector<FdbRow>& rows);
nlohmann::json drops_json(const std::vector<DropRow>& rows);
std::string drops_text(const std::vector<DropRow>& rows, bool all);
nlohmann::json rules_json(const std::vector<RuleRow>& rows);
std::string rules_text(const std::vector<RuleRow>& rows);
nlohmann::json ct_json(const std::vector<CtRow>& rows);
std::string ct_text(const std::vector<CtRow>& rows);
nlohmann::json port_detail_json(const PortDetail& d);
std::string port_detail_text(const PortDetail& d);
const char* ct_state_name(uint8_t state);
nlohmann::json attachments_json(const std::vector<TcAttachment>& rows);
std::string attachments_text(const std::vector<TcAttachment>& rows);

std::string net_type_name(uint32_t abi_type);
// Whether a user's reference names a resource: its name, its full id, or
// the first 8+ characters of its id.
bool ref_matches(const std::string& ref, const std::string& id, const std::string& name);
std::string port_flags_text(uint32_t flags);
std::string fdb_flags_text(uint32_t flags);

// demo up|down|run: the built-in sandbox (tools/cli_demo.cpp).
int demo_up(const Globals& g, const std::string& state_file, const std::string& prefix);
int demo_down(const Globals& g, const std::string& state_file, const std::string& prefix);
int demo_run(const Globals& g, const std::string& state_file, const std::string& prefix);
std::string default_demo_state();

}  // namespace neutrino::cli
