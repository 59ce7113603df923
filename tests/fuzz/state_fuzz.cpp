// Fuzz target for the desired-state parser and validator: load_state_text
// (JSON parse -> parse_state -> validate_state) on arbitrary bytes.
//
// The one expected rejection is StateError, and it must name at least one
// problem, each in valid UTF-8. Anything else is a bug and ends the run: another exception type
// (nlohmann::json::exception, std::out_of_range, ...) escapes and aborts, a
// sanitizer finding aborts, a broken invariant calls abort().
//
// Built with libFuzzer (-fsanitize=fuzzer) when clang has it; otherwise with
// NT_FUZZ_STANDALONE, whose main() runs each file or directory given on the
// command line once, so the committed corpus is replayed either way.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "maps/state.hpp"

namespace {

[[noreturn]] void broken(const char* what) {
    std::fprintf(stderr, "state_fuzz: invariant broken: %s\n", what);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        neutrino::State state = neutrino::load_state_text(text, "<fuzz>");
        // An accepted state validates clean on its own, too.
        if (!neutrino::validate_state(state).empty()) broken("accepted state has validation issues");
    } catch (const neutrino::StateError& e) {
        if (e.issues().empty()) broken("StateError without issues");
        for (const auto& issue : e.issues()) {
            if (issue.message.empty()) broken("issue without message");
            // Reportable as JSON (`-o json`): each part is valid UTF-8, or dump() throws.
            (void)nlohmann::json({issue.resource, issue.path, issue.message}).dump();
        }
    }
    return 0;
}

#ifdef NT_FUZZ_STANDALONE
// Replay mode: `state_fuzz [-flags...] FILE|DIR...` runs every input once.
// Flags (libFuzzer's, such as -runs=0) are accepted and ignored.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

int main(int argc, char** argv) {
    namespace fs = std::filesystem;
    std::vector<fs::path> inputs;
    for (int i = 1; i < argc; ++i) {
        if (argv[i][0] == '-') continue;
        fs::path p(argv[i]);
        if (fs::is_directory(p)) {
            for (const auto& e : fs::directory_iterator(p))
                if (e.is_regular_file()) inputs.push_back(e.path());
        } else {
            inputs.push_back(p);
        }
    }
    std::sort(inputs.begin(), inputs.end());
    for (const auto& p : inputs) {
        std::ifstream in(p, std::ios::binary);
        if (!in) {
            std::fprintf(stderr, "state_fuzz: cannot read %s\n", p.c_str());
            return 1;
        }
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::fprintf(stderr, "Running: %s\n", p.c_str());
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    }
    std::fprintf(stderr, "state_fuzz (standalone, no libFuzzer): replayed %zu inputs\n", inputs.size());
    return 0;
}
#endif
