// Assertions on the problems parse_state/validate_state report, shared by
// the state unit tests.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "maps/state.hpp"

namespace neutrino::test {

inline std::string dump(const std::vector<StateIssue>& issues) {
    std::string s;
    for (const auto& i : issues) s += "\n  " + i.str();
    return s.empty() ? " (no issues)" : s;
}

// There is an issue at `path` for `resource` whose message contains every word.
inline testing::AssertionResult has_issue(const std::vector<StateIssue>& issues, const std::string& resource,
                                   const std::string& path, std::initializer_list<std::string> words) {
    for (const auto& i : issues) {
        if (i.path != path) continue;
        if (i.resource != resource)
            return testing::AssertionFailure() << "issue at " << path << " names " << i.resource << ", not "
                                               << resource;
        for (const auto& w : words)
            if (i.message.find(w) == std::string::npos)
                return testing::AssertionFailure() << "message '" << i.message << "' lacks '" << w << "'";
        return testing::AssertionSuccess();
    }
    return testing::AssertionFailure() << "no issue at " << path << "; got:" << dump(issues);
}

// As has_issue, and it is the only issue.
inline testing::AssertionResult only_issue(const std::vector<StateIssue>& issues, const std::string& resource,
                                    const std::string& path, std::initializer_list<std::string> words) {
    if (issues.size() != 1) return testing::AssertionFailure() << "expected one issue, got:" << dump(issues);
    return has_issue(issues, resource, path, words);
}

}  // namespace neutrino::test
