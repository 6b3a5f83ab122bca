#pragma once
// Random identifiers: request ids, PocketBase-style record ids, W3C trace ids.
// Backed by a per-thread CSPRNG-seeded generator; safe to call from any thread.

#include <cstdint>
#include <string>

namespace plinth::util {

// `length` characters of [a-z0-9], as PocketBase record ids (default 15).
std::string random_id(std::size_t length = 15);

// A record id like random_id(15), whose first 7 characters count 36 ms steps since
// 2020-01-01 UTC (base 36 in byte order, in order until the year 2109) and whose other 8 are
// random (41 bits): ids made in later steps sort after, so an index of ids grows at one end
// instead of on a random page per insert. `unix_ms` is for tests; -1 = now.
std::string time_ordered_id(std::int64_t unix_ms = -1);

// `bytes` random bytes as lowercase hex (2*bytes characters), never all zero.
std::string random_hex(std::size_t bytes);
// The same written to `out` (2*bytes characters, no terminator).
void fill_random_hex(char* out, std::size_t bytes);

// `length` characters of [A-Za-z0-9] from the kernel CSPRNG (secrets, token keys).
std::string random_alnum_secure(std::size_t length);

// Fills `out` with cryptographically strong random bytes (getrandom).
void secure_random(void* out, std::size_t n);

}  // namespace plinth::util
