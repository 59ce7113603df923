// Errors that carry context ("attach tc ingress on tapc1eef425-c0: Operation
// not permitted"); turned into messages and exit codes only in main().
#pragma once

#include <stdexcept>
#include <string>

namespace neutrino {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// "what: strerror(err)". err is a positive errno (a negative one is negated).
[[noreturn]] void throw_errno(const std::string& what, int err);

}  // namespace neutrino
