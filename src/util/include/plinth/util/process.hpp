#pragma once
// Facts about the running process, read from /proc and getrlimit.

#include <cstdint>
#include <optional>

namespace plinth::util {

std::optional<std::uint64_t> resident_memory_bytes();
std::optional<std::uint64_t> open_fd_count();
std::optional<std::uint64_t> max_fd_count();

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
std::uint64_t raise_open_file_limit();

}  // namespace plinth::util
