#include "plinth/auth/password.hpp"

#include <crypt.h>
#include <openssl/crypto.h>
#include <sodium.h>

#include <array>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace plinth::auth {
namespace {

static_assert(kArgon2MemLimitBytes >= crypto_pwhash_argon2id_MEMLIMIT_MIN);
static_assert(kArgon2OpsLimit >= crypto_pwhash_argon2id_OPSLIMIT_MIN);

constexpr std::string_view kArgon2idPrefix = "$argon2id$";
constexpr std::array<std::string_view, 3> kBcryptPrefixes = {"$2a$", "$2b$", "$2y$"};

// sodium_init() is idempotent but not meant to race with itself; it only
// picks CPU-specific implementations, so running it once per process is enough.
bool sodium_ready() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] { ok = sodium_init() >= 0; });
  return ok;
}

// libsodium and libxcrypt want C strings; an embedded NUL would silently
// shorten what they see, so such inputs are refused instead.
bool has_nul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

// Copies the stored PHC string into the fixed-size, NUL-terminated buffer
// libsodium's argon2id functions read from.
bool to_phc_buffer(std::string_view hash, std::array<char, crypto_pwhash_argon2id_STRBYTES>& out) {
  if (hash.size() >= out.size() || has_nul(hash)) return false;
  out.fill('\0');
  hash.copy(out.data(), hash.size());
  return true;
}

// Reads "m=..,t=..,p=.." from "$argon2id$v=19$m=19456,t=2,p=1$salt$hash"; false
// when a parameter is missing, malformed or above its ceiling.
bool argon2_params_within_limits(std::string_view hash) {
  auto pos = hash.find("$m=");
  if (pos == std::string_view::npos) return false;
  auto end = hash.find('$', pos + 1);
  if (end == std::string_view::npos) return false;
  auto params = hash.substr(pos + 1, end - pos - 1);  // m=..,t=..,p=..
  std::uint64_t m = 0, t = 0, p = 0;
  bool seen_m = false, seen_t = false, seen_p = false;
  while (!params.empty()) {
    auto comma = params.find(',');
    auto item = params.substr(0, comma);
    params = comma == std::string_view::npos ? std::string_view() : params.substr(comma + 1);
    if (item.size() < 3 || item[1] != '=') return false;
    std::uint64_t v = 0;
    for (char ch : item.substr(2)) {
      if (ch < '0' || ch > '9' || v > (1ULL << 40)) return false;
      v = v * 10 + static_cast<std::uint64_t>(ch - '0');
    }
    if (item[0] == 'm')
      m = v, seen_m = true;
    else if (item[0] == 't')
      t = v, seen_t = true;
    else if (item[0] == 'p')
      p = v, seen_p = true;
    else
      return false;
  }
  return seen_m && seen_t && seen_p && m <= kArgon2MaxMemKiB && t <= kArgon2MaxOps && p >= 1 &&
         p <= kArgon2MaxLanes;
}

bool verify_argon2id(std::string_view plain, std::string_view hash) {
  if (!argon2_params_within_limits(hash)) return false;
  std::array<char, crypto_pwhash_argon2id_STRBYTES> phc{};
  if (!to_phc_buffer(hash, phc)) return false;
  const char* pw = plain.empty() ? "" : plain.data();
  return crypto_pwhash_argon2id_str_verify(phc.data(), pw, plain.size()) == 0;
}

// Wipes a heap buffer that held password material when it goes out of scope.
struct Wiper {
  void* data_;
  std::size_t size_;
  ~Wiper() { OPENSSL_cleanse(data_, size_); }
};

bool verify_bcrypt(std::string_view plain, std::string_view hash) {
  if (has_nul(plain) || has_nul(hash)) return false;
  std::string phrase(plain);
  const std::string setting(hash);
  // crypt_data is ~32 KiB: too big for a coroutine or worker stack. It must
  // start zeroed; make_unique value-initialises it.
  auto data = std::make_unique<crypt_data>();
  const Wiper wipe_phrase{phrase.data(), phrase.size()};
  const Wiper wipe_data{data.get(), sizeof(crypt_data)};

  const char* out = crypt_r(phrase.c_str(), setting.c_str(), data.get());
  // libxcrypt reports errors as NULL or a "*0"/"*1" failure token, which can
  // never equal a valid setting, but checking keeps the intent explicit.
  if (out == nullptr || out[0] == '*') return false;
  const std::string_view computed(out);
  return computed.size() == hash.size() &&
         CRYPTO_memcmp(computed.data(), hash.data(), hash.size()) == 0;
}

}  // namespace

HashKind hash_kind(std::string_view hash) {
  if (hash.starts_with(kArgon2idPrefix)) return HashKind::argon2id;
  for (auto prefix : kBcryptPrefixes) {
    if (hash.starts_with(prefix)) return HashKind::bcrypt;
  }
  return HashKind::unknown;
}

std::string hash_password(std::string_view plain) {
  if (!sodium_ready()) throw std::runtime_error("libsodium initialisation failed");
  std::array<char, crypto_pwhash_argon2id_STRBYTES> out{};
  const char* pw = plain.empty() ? "" : plain.data();
  if (crypto_pwhash_str_alg(out.data(), pw, plain.size(), kArgon2OpsLimit, kArgon2MemLimitBytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("argon2id hashing failed (out of memory?)");
  }
  return std::string(out.data());
}

bool verify_password(std::string_view plain, std::string_view hash) {
  if (hash.size() > kMaxStoredHashBytes) return false;
  switch (hash_kind(hash)) {
    case HashKind::argon2id: return sodium_ready() && verify_argon2id(plain, hash);
    case HashKind::bcrypt: return verify_bcrypt(plain, hash);
    case HashKind::unknown: return false;
  }
  return false;
}

bool needs_rehash(std::string_view hash) {
  if (hash_kind(hash) != HashKind::argon2id || !sodium_ready()) return true;
  std::array<char, crypto_pwhash_argon2id_STRBYTES> phc{};
  if (!to_phc_buffer(hash, phc)) return true;
  // 0: same parameters; 1: different parameters; -1: not a valid argon2id string.
  return crypto_pwhash_argon2id_str_needs_rehash(phc.data(), kArgon2OpsLimit,
                                                 kArgon2MemLimitBytes) != 0;
}

}  // namespace plinth::auth
