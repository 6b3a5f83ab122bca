#pragma once
// Human-friendly flag values: durations ("250ms", "30s", "2m", "1h"; a bare
// number is seconds) and byte sizes ("512", "64KiB", "32MiB", "1GB").

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace plinth::app {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view s);
std::optional<std::uint64_t> parse_bytes(std::string_view s);

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
// "127.0.0.1:8090", "[::1]:8090", ":8090" (all interfaces), "localhost:0".
std::optional<HostPort> parse_host_port(std::string_view s);

}  // namespace plinth::app
