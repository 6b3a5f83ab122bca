#include "plinth/auth/secrets.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

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

namespace {

// One HMAC-SHA-256 context per thread, fetched once: OpenSSL's one-shot HMAC() looks the
// algorithm up on every call, and libsodium's SHA-256 is portable C (no SHA extensions), three
// times slower here than OpenSSL's on a 100-byte key (token key + collection secret).
struct MacContext {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
  MacContext() {
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (ctx && EVP_MAC_CTX_set_params(ctx, params) != 1) {
      EVP_MAC_CTX_free(ctx);
      ctx = nullptr;
    }
  }
  ~MacContext() {
    EVP_MAC_CTX_free(ctx);  // cleanses the key schedule
    EVP_MAC_free(mac);
    OPENSSL_cleanse(key.data(), key.size());
  }
  // The key the context holds: setting a key costs two SHA-256 blocks (three for a key
  // longer than a block, as token keys are); the same key again only restores that state.
  // A refresh verifies and signs with one key, and a client's requests share it.
  std::string key;
  bool keyed = false;
  MacContext(const MacContext&) = delete;
  MacContext& operator=(const MacContext&) = delete;
};

}  // namespace

std::string hmac_sha256(std::string_view key, std::string_view data) {
  thread_local MacContext m;
  std::array<unsigned char, 32> mac{};
  std::size_t len = 0;
  // A null key pointer means "the key set before"; a key is otherwise passed as a non-null
  // pointer (bytes_of), even an empty one.
  bool same = m.keyed && constant_time_equals(key, m.key);
  if (!same) {
    OPENSSL_cleanse(m.key.data(), m.key.size());
    m.key.assign(key);
  }
  m.keyed = false;  // until this call succeeds
  if (!m.ctx ||
      EVP_MAC_init(m.ctx, same ? nullptr : bytes_of(key), same ? 0 : key.size(), nullptr) != 1 ||
      EVP_MAC_update(m.ctx, bytes_of(data), data.size()) != 1 ||
      EVP_MAC_final(m.ctx, mac.data(), &len, mac.size()) != 1 || len != mac.size()) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  m.keyed = true;
  return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace plinth::auth
