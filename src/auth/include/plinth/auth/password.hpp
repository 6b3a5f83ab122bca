#pragma once
// Password hashing: new hashes are argon2id (OWASP parameters, PHC string);
// verification also accepts the bcrypt hashes PocketBase stores, so imported
// users can log in and be rehashed on success (see needs_rehash).
// Every function is thread-safe and never throws on a malformed stored hash.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace plinth::auth {

// OWASP password storage cheat sheet, argon2id option 2: m=19 MiB, t=2, p=1.
inline constexpr std::size_t kArgon2MemLimitBytes = std::size_t{19} * 1024 * 1024;
inline constexpr std::uint64_t kArgon2OpsLimit = 2;

// Stored hashes longer than this are rejected before any parsing; real PHC and
// bcrypt strings are well under 128 characters.
inline constexpr std::size_t kMaxStoredHashBytes = 512;
// Cost ceilings for verifying a stored argon2id hash: a hash planted in the
// database with a huge m or t would otherwise make one login allocate or spin
// without bound. Verification of such a hash fails.
inline constexpr std::uint64_t kArgon2MaxMemKiB = 256 * 1024;  // 256 MiB
inline constexpr std::uint64_t kArgon2MaxOps = 10;
inline constexpr std::uint64_t kArgon2MaxLanes = 8;

enum class HashKind { argon2id, bcrypt, unknown };

// Classifies a stored hash by its prefix only; it does not validate the rest.
HashKind hash_kind(std::string_view hash);

// Returns "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>" with a fresh random
// salt. Throws std::runtime_error only if libsodium cannot run (out of memory).
std::string hash_password(std::string_view plain);

// True iff `plain` matches `hash` (argon2id PHC string or $2a$/$2b$/$2y$ bcrypt).
// Unknown or malformed hashes yield false. bcrypt only looks at the first 72
// bytes of the password, as every bcrypt implementation (including Go's) does;
// a password containing a NUL byte never matches a bcrypt hash.
bool verify_password(std::string_view plain, std::string_view hash);

// True when `hash` should be replaced by hash_password() after a successful
// login: bcrypt, argon2id with parameters other than ours, or unrecognised.
bool needs_rehash(std::string_view hash);

}  // namespace plinth::auth
