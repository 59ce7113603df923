// Names and descriptions of the datapath's drop reasons, from the one list
// in include/neutrino/drop_reasons.h.
#pragma once

#include <cstdint>
#include <vector>

#include "neutrino/drop_reasons.h"

namespace neutrino {

struct DropReasonInfo {
    uint32_t number;
    const char* name;         // "spoofed-mac"
    const char* description;  // what it means for an operator
};

// Every reason except NT_DROP_NONE, in number order.
const std::vector<DropReasonInfo>& drop_reasons();
const char* drop_reason_name(uint32_t reason);  // "unknown" for numbers not in the list

}  // namespace neutrino
