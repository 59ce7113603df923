#include "maps/drop_reasons.hpp"

namespace neutrino {

const std::vector<DropReasonInfo>& drop_reasons() {
    static const std::vector<DropReasonInfo> all = [] {
        std::vector<DropReasonInfo> v = {
#define NT_DROP_ROW(n, num, str, desc) {num, str, desc},
            NT_DROP_REASONS(NT_DROP_ROW)
#undef NT_DROP_ROW
        };
        v.erase(v.begin());  // NT_DROP_NONE is never counted
        return v;
    }();
    return all;
}

const char* drop_reason_name(uint32_t reason) {
    for (const auto& r : drop_reasons())
        if (r.number == reason) return r.name;
    return "unknown";
}

}  // namespace neutrino
