#pragma once
// Secret material helpers: random token keys (PocketBase's tokenKey), SHA-256
// and HMAC-SHA256 digests, and a constant-time comparison for secrets.

#include <cstddef>
#include <string>
#include <string_view>

namespace plinth::auth {

// `n` characters of [a-zA-Z0-9] from the kernel CSPRNG, uniformly distributed
// (rejection sampling, no modulo bias). PocketBase uses 50 for tokenKey.
std::string random_token_key(std::size_t n = 50);

// Lowercase hex SHA-256 of `data` (64 characters).
std::string sha256_hex(std::string_view data);

// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view data);

// Compares contents in time independent of where they differ. Lengths are not
// secret: strings of different length compare false immediately.
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace plinth::auth
