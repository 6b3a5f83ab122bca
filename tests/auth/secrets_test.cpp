#include "plinth/auth/secrets.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <set>
#include <string>

namespace plinth::auth {
namespace {

using namespace std::string_literals;

std::string to_hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0f]);
  }
  return out;
}

template <typename T>
std::string case_name(const testing::TestParamInfo<T>& info) {
  return info.param.name;
}

bool is_alnum_ascii(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// ---- random_token_key -----------------------------------------------------------

TEST(RandomTokenKeyTest, DefaultsToPocketBaseLength) {
  EXPECT_EQ(random_token_key().size(), 50U);
}

class RandomTokenKeyLengthTest : public testing::TestWithParam<std::size_t> {};

TEST_P(RandomTokenKeyLengthTest, HasRequestedLengthAndAlphabet) {
  const std::string key = random_token_key(GetParam());
  EXPECT_EQ(key.size(), GetParam());
  EXPECT_TRUE(std::all_of(key.begin(), key.end(), is_alnum_ascii)) << key;
}

INSTANTIATE_TEST_SUITE_P(Lengths, RandomTokenKeyLengthTest,
                         testing::Values(0, 1, 50, 63, 64, 65, 255, 4096),
                         [](const auto& info) { return "n" + std::to_string(info.param); });

TEST(RandomTokenKeyTest, KeysDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(random_token_key());
  EXPECT_EQ(seen.size(), 100U);
}

TEST(RandomTokenKeyTest, CharactersAreRoughlyUniform) {
  // 62 symbols x 2000 expected hits each; the standard deviation is ~44, so a
  // +-400 band is ~9 sigma. A modulo-biased generator (256 % 62 = 8 favoured
  // symbols) would put those 8 at ~2060, so this checks coverage and gross
  // skew rather than the bias itself; the bias is excluded by construction.
  constexpr std::size_t kPerSymbol = 2000;
  const std::string key = random_token_key(62 * kPerSymbol);
  std::array<std::size_t, 256> counts{};
  for (unsigned char c : key) ++counts[c];
  std::size_t symbols = 0;
  for (std::size_t c = 0; c < counts.size(); ++c) {
    if (counts[c] == 0) continue;
    ++symbols;
    EXPECT_TRUE(is_alnum_ascii(static_cast<char>(c)));
    EXPECT_GT(counts[c], kPerSymbol - 400) << static_cast<char>(c);
    EXPECT_LT(counts[c], kPerSymbol + 400) << static_cast<char>(c);
  }
  EXPECT_EQ(symbols, 62U);
}

// ---- sha256_hex -------------------------------------------------------------------

struct DigestCase {
  std::string name;
  std::string input;
  std::string hex;
};

class Sha256HexTest : public testing::TestWithParam<DigestCase> {};

TEST_P(Sha256HexTest, MatchesFips180Vector) {
  EXPECT_EQ(sha256_hex(GetParam().input), GetParam().hex);
}

INSTANTIATE_TEST_SUITE_P(
    Fips180, Sha256HexTest,
    testing::Values(
        DigestCase{"empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        DigestCase{"abc", "abc",
                   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        DigestCase{"two_blocks", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        DigestCase{"million_a", std::string(1000000, 'a'),
                   "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"}),
    case_name<DigestCase>);

// ---- hmac_sha256 --------------------------------------------------------------------

struct MacCase {
  std::string name;
  std::string key;
  std::string data;
  std::string hex;
};

class HmacSha256Test : public testing::TestWithParam<MacCase> {};

TEST_P(HmacSha256Test, MatchesRfc4231Vector) {
  const std::string mac = hmac_sha256(GetParam().key, GetParam().data);
  EXPECT_EQ(mac.size(), 32U);
  EXPECT_EQ(to_hex(mac), GetParam().hex);
}

TEST(HmacSha256, AnEmptyKeyIsAKeyNotThePreviousOne) {
  // The context is reused per thread: an empty key must not fall back to the last key used.
  EXPECT_EQ(to_hex(hmac_sha256("some earlier key", "The quick brown fox")),
            to_hex(hmac_sha256("some earlier key", "The quick brown fox")));
  EXPECT_EQ(to_hex(hmac_sha256("", "The quick brown fox")),
            "831d2f46d18799176d0da02650e0e477509404e5a1cca13bf3c028f4f4884cd7");
  EXPECT_EQ(to_hex(hmac_sha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HmacSha256, AKeyUsedAgainGivesTheSameMacsAsAFreshOne) {
  // The context keeps the last key's state: the same key again (with other data), a key that
  // differs only in its last byte, and a longer key sharing its prefix must each get their own
  // MAC. Case 6 and 7 of RFC 4231 share their 131-byte key; "Jefe" is case 2.
  const std::string long_key(131, '\xaa');
  const std::string case6 = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
  const std::string case7 = "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2";
  const std::string data6 = "Test Using Larger Than Block-Size Key - Hash Key First";
  const std::string data7 =
      "This is a test using a larger than block-size key and a larger than block-size data. The "
      "key needs to be hashed before being used by the HMAC algorithm.";
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(to_hex(hmac_sha256(long_key, data6)), case6);
    EXPECT_EQ(to_hex(hmac_sha256(long_key, data7)), case7);
    EXPECT_EQ(to_hex(hmac_sha256(long_key, data6)), case6);
    std::string near = long_key;
    near.back() = '\xab';
    EXPECT_NE(to_hex(hmac_sha256(near, data6)), case6);
    EXPECT_NE(to_hex(hmac_sha256(long_key + "x", data6)), case6);
    EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }
}

std::string key_1_to_25() {
  std::string key;
  for (char c = 1; c <= 25; ++c) key.push_back(c);
  return key;
}

INSTANTIATE_TEST_SUITE_P(
    Rfc4231, HmacSha256Test,
    testing::Values(
        MacCase{"case1", std::string(20, '\x0b'), "Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        MacCase{"case2_short_key", "Jefe", "what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        MacCase{"case3", std::string(20, '\xaa'), std::string(50, '\xdd'),
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        MacCase{"case4", key_1_to_25(), std::string(50, '\xcd'),
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        MacCase{"case6_key_longer_than_block", std::string(131, '\xaa'),
                "Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        MacCase{"case7_long_key_and_data", std::string(131, '\xaa'),
                "This is a test using a larger than block-size key and a larger than block-size "
                "data. The key needs to be hashed before being used by the HMAC algorithm.",
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
        MacCase{"empty_key_and_data", "", "",
                "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"}),
    case_name<MacCase>);

// ---- constant_time_equals -----------------------------------------------------------

struct EqualsCase {
  std::string name;
  std::string a;
  std::string b;
  bool expected;
};

class ConstantTimeEqualsTest : public testing::TestWithParam<EqualsCase> {};

TEST_P(ConstantTimeEqualsTest, ComparesContents) {
  const auto& c = GetParam();
  EXPECT_EQ(constant_time_equals(c.a, c.b), c.expected);
  EXPECT_EQ(constant_time_equals(c.b, c.a), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Pairs, ConstantTimeEqualsTest,
    testing::Values(EqualsCase{"equal", "s3cret-token", "s3cret-token", true},
                    EqualsCase{"both_empty", "", "", true}, EqualsCase{"one_empty", "", "a", false},
                    EqualsCase{"first_byte_differs", "a3cret", "s3cret", false},
                    EqualsCase{"last_byte_differs", "s3creT", "s3cret", false},
                    EqualsCase{"prefix", "s3cre", "s3cret", false},
                    EqualsCase{"case_differs", "TOKEN", "token", false},
                    EqualsCase{"differs_after_nul", "a\0b"s, "a\0c"s, false},
                    EqualsCase{"equal_with_nul", "a\0b"s, "a\0b"s, true},
                    EqualsCase{"high_bytes", "\xff\xfe", "\xff\xfe", true}),
    case_name<EqualsCase>);

}  // namespace
}  // namespace plinth::auth
