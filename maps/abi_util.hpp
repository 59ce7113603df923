// Small helpers for filling ABI structs: zeroed values (padding included,
// since entries are compared as bytes) and fixed-size NUL-terminated names.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>

namespace neutrino {

template <class T>
T zeroed() {
    T v;
    std::memset(&v, 0, sizeof v);
    return v;
}

// Copies src into a char array, cut to fit, always NUL-terminated.
template <size_t N>
void copy_name(char (&dst)[N], const std::string& src) {
    std::memset(dst, 0, N);
    std::memcpy(dst, src.data(), std::min(src.size(), N - 1));
}

}  // namespace neutrino
