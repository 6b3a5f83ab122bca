#pragma once
// Random identifiers: request ids, PocketBase-style record ids, W3C trace ids.
// Backed by a per-thread CSPRNG-seeded generator; safe to call from any thread.

#include <cstdint>
#include <string>

namespace plinth::util {

// `length` characters of [a-z0-9], as PocketBase record ids (default 15).
std::string random_id(std::size_t length = 15);

// `bytes` random bytes as lowercase hex (2*bytes characters), never all zero.
std::string random_hex(std::size_t bytes);

// `length` characters of [A-Za-z0-9] from the kernel CSPRNG (secrets, token keys).
std::string random_alnum_secure(std::size_t length);

// Fills `out` with cryptographically strong random bytes (getrandom).
void secure_random(void* out, std::size_t n);

}  // namespace plinth::util
