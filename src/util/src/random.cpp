#include "plinth/util/random.hpp"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <random>
#include <stdexcept>

namespace plinth::util {
namespace {

// A fast per-thread generator seeded from the kernel. Used for ids that must
// be unpredictable enough to not collide, not for secrets (see secure_random).
std::mt19937_64& thread_rng() {
  thread_local std::mt19937_64 rng = [] {
    std::array<std::uint64_t, 4> seed{};
    secure_random(seed.data(), sizeof(seed));
    std::seed_seq seq{seed[0], seed[1], seed[2], seed[3]};
    return std::mt19937_64(seq);
  }();
  return rng;
}

}  // namespace

void secure_random(void* out, std::size_t n) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    ssize_t got = ::getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");
    }
    p += got;
    n -= static_cast<std::size_t>(got);
  }
}

std::string random_id(std::size_t length) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(length, '\0');
  auto& rng = thread_rng();
  std::uniform_int_distribution<int> pick(0, 35);
  for (auto& c : out) c = kAlphabet[pick(rng)];
  return out;
}

std::string time_ordered_id(std::int64_t unix_ms) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";  // in byte order
  constexpr std::int64_t kEpochMs = 1577836800000;                           // 2020-01-01
  constexpr std::uint64_t kSteps = 78364164096;                              // 36^7
  if (unix_ms < 0) {
    unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  }
  auto step = static_cast<std::uint64_t>(std::max<std::int64_t>(0, unix_ms - kEpochMs)) / 36;
  step = std::min(step, kSteps - 1);  // past 2109 ids stop being ordered, nothing else changes
  std::string out(15, '\0');
  for (int i = 6; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kDigits[step % 36];
    step /= 36;
  }
  auto& rng = thread_rng();
  std::uniform_int_distribution<int> pick(0, 35);
  for (std::size_t i = 7; i < out.size(); ++i) out[i] = kAlphabet[pick(rng)];
  return out;
}

std::string random_alnum_secure(std::size_t length) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  out.reserve(length);
  unsigned char buf[64];
  while (out.size() < length) {
    secure_random(buf, sizeof(buf));
    for (unsigned char b : buf) {
      if (b >= 248) continue;  // 248 = 4 * 62: rejection keeps the choice unbiased
      out.push_back(kAlphabet[b % 62]);
      if (out.size() == length) break;
    }
  }
  return out;
}

std::string random_hex(std::size_t bytes) {
  std::string out(bytes * 2, '0');
  fill_random_hex(out.data(), bytes);
  return out;
}

void fill_random_hex(char* out, std::size_t bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto& rng = thread_rng();
  bool all_zero = true;
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < bytes; ++i) {
    if (i % 8 == 0) word = rng();
    auto b = static_cast<unsigned>(word & 0xffU);
    word >>= 8;
    if (b != 0) all_zero = false;
    out[2 * i] = kHex[b >> 4];
    out[2 * i + 1] = kHex[b & 0xfU];
  }
  if (all_zero && bytes > 0) out[2 * bytes - 1] = '1';
}

}  // namespace plinth::util
