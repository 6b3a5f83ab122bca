#include "plinth/auth/secrets.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <array>
#include <climits>
#include <stdexcept>

#include "plinth/util/random.hpp"

namespace plinth::auth {
namespace {

constexpr std::string_view kTokenAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
// Largest multiple of the alphabet size that fits in a byte: bytes at or above
// it are discarded so that `byte % 62` is uniform.
constexpr unsigned kAcceptBelow = 256 - 256 % kTokenAlphabet.size();
static_assert(kAcceptBelow == 248);

// Never dereferenced when the length is zero, but OpenSSL prefers non-null.
const unsigned char* bytes_of(std::string_view s) {
  static constexpr unsigned char kEmpty[1] = {0};
  return s.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string random_token_key(std::size_t n) {
  std::string out;
  out.reserve(n);
  std::array<unsigned char, 64> pool{};
  while (out.size() < n) {
    util::secure_random(pool.data(), pool.size());
    for (unsigned char b : pool) {
      if (b >= kAcceptBelow) continue;
      out.push_back(kTokenAlphabet[b % kTokenAlphabet.size()]);
      if (out.size() == n) break;
    }
  }
  OPENSSL_cleanse(pool.data(), pool.size());
  return out;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  if (EVP_Digest(bytes_of(data), data.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(std::size_t{len} * 2, '\0');
  for (std::size_t i = 0; i < len; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0x0f];
  }
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  // libsodium's HMAC-SHA-256 takes keys of any length and allocates nothing; OpenSSL 3's
  // one-shot HMAC() looks the algorithm up again on every call (a third of a token check).
  crypto_auth_hmacsha256_state st;
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  if (crypto_auth_hmacsha256_init(&st, bytes_of(key), key.size()) != 0 ||
      crypto_auth_hmacsha256_update(&st, bytes_of(data), data.size()) != 0 ||
      crypto_auth_hmacsha256_final(&st, mac.data()) != 0) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  sodium_memzero(&st, sizeof st);
  return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace plinth::auth
