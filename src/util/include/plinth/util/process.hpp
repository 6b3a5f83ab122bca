#pragma once
// Facts about the running process, read from /proc and getrlimit.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace plinth::util {

std::optional<std::uint64_t> resident_memory_bytes();
std::optional<std::uint64_t> open_fd_count();
std::optional<std::uint64_t> max_fd_count();

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
std::uint64_t raise_open_file_limit();

// Names the calling thread (what `top -H`, `ps -L` and perf show), cut to the kernel's 15
// bytes. Best effort: a failure leaves the inherited name.
void name_this_thread(std::string_view name);
// The calling thread's name, as the kernel has it.
std::string this_thread_name();

}  // namespace plinth::util
