#include "plinth/auth/password.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace plinth::auth {
namespace {

using namespace std::string_literals;

// PocketBase's own fixture: bcrypt cost 13 of "1234567890".
const std::string kPocketBaseBcrypt =
    "$2a$13$6PP1fpShEsQHpZElw4.BN.vMl/2CMIKc2kpumJM//T4qV4RGUgb6i";
// OpenBSD / crypt_blowfish reference vectors (cost 5, fast).
const std::string kBcryptUStarU = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
const std::string kBcryptUStarUStar =
    "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK";
const std::string kBcryptEmpty = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy";
const std::string kBcrypt72 = "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui";
const std::string k72Chars =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
// Argon2 reference implementation (phc-winner-argon2 src/test.c): "password"
// with salt "somesalt", m=256 KiB, t=2, p=1.
const std::string kArgon2idReference =
    "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";
const std::string kArgon2idTwoLanes =
    "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc";
const std::string kArgon2iReference =
    "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8";

constexpr std::string_view kOwaspPhcPrefix = "$argon2id$v=19$m=19456,t=2,p=1$";

std::string with_prefix(std::string_view prefix, const std::string& bcrypt_2a) {
  return std::string(prefix) + bcrypt_2a.substr(4);
}

struct VerifyCase {
  std::string name;
  std::string password;
  std::string hash;
  bool expected;
};

class VerifyPasswordTest : public testing::TestWithParam<VerifyCase> {};

TEST_P(VerifyPasswordTest, MatchesExpectation) {
  const auto& c = GetParam();
  EXPECT_EQ(verify_password(c.password, c.hash), c.expected);
}

std::string case_name(const testing::TestParamInfo<VerifyCase>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(
    Vectors, VerifyPasswordTest,
    testing::Values(
        VerifyCase{"pocketbase_bcrypt_cost13_correct", "1234567890", kPocketBaseBcrypt, true},
        VerifyCase{"pocketbase_bcrypt_cost13_wrong", "1234567891", kPocketBaseBcrypt, false},
        VerifyCase{"bcrypt_2a_u_star_u", "U*U", kBcryptUStarU, true},
        VerifyCase{"bcrypt_2a_u_star_u_star", "U*U*", kBcryptUStarUStar, true},
        VerifyCase{"bcrypt_2a_empty_password", "", kBcryptEmpty, true},
        VerifyCase{"bcrypt_2a_72_chars", k72Chars, kBcrypt72, true},
        VerifyCase{"bcrypt_ignores_bytes_after_72", k72Chars + "chars after 72 are ignored",
                   kBcrypt72, true},
        // For ASCII passwords $2a$, $2b$ and $2y$ produce the same digest.
        VerifyCase{"bcrypt_2b_prefix", "U*U", with_prefix("$2b$", kBcryptUStarU), true},
        VerifyCase{"bcrypt_2y_prefix", "U*U", with_prefix("$2y$", kBcryptUStarU), true},
        VerifyCase{"bcrypt_wrong_password", "U*V", kBcryptUStarU, false},
        VerifyCase{"bcrypt_password_is_prefix", "U*", kBcryptUStarU, false},
        VerifyCase{"bcrypt_empty_password_against_nonempty", "", kBcryptUStarU, false},
        VerifyCase{"bcrypt_password_with_nul_never_matches", "U*U\0"s, kBcryptUStarU, false},
        VerifyCase{"bcrypt_hash_truncated", "U*U", kBcryptUStarU.substr(0, 59), false},
        VerifyCase{"bcrypt_hash_trailing_garbage", "U*U", kBcryptUStarU + "x", false},
        VerifyCase{"bcrypt_hash_last_char_changed", "U*U", kBcryptUStarU.substr(0, 59) + "X",
                   false},
        VerifyCase{"bcrypt_uppercase_prefix_unknown", "U*U", with_prefix("$2A$", kBcryptUStarU),
                   false},
        VerifyCase{"bcrypt_2x_prefix_not_accepted", "U*U", with_prefix("$2x$", kBcryptUStarU),
                   false},
        VerifyCase{"bcrypt_cost_out_of_range", "U*U",
                   "$2a$99$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", false},
        VerifyCase{"bcrypt_salt_with_invalid_chars", "U*U",
                   "$2a$05$CCCCCCCCCC!!CCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", false},
        VerifyCase{"argon2id_reference_correct", "password", kArgon2idReference, true},
        // Same reference vector with two lanes; libsodium verifies p>1 hashes.
        VerifyCase{"argon2id_reference_two_lanes", "password", kArgon2idTwoLanes, true},
        VerifyCase{"argon2id_reference_wrong", "sassword", kArgon2idReference, false},
        VerifyCase{"argon2id_reference_truncated", "password",
                   kArgon2idReference.substr(0, kArgon2idReference.size() - 1), false},
        VerifyCase{"argon2id_reference_trailing_garbage", "password", kArgon2idReference + "x",
                   false},
        VerifyCase{"argon2id_reference_with_nul_inside", "password",
                   kArgon2idReference.substr(0, 20) + "\0"s + kArgon2idReference.substr(20), false},
        // A valid argon2i hash: only argon2id (and bcrypt) are accepted.
        VerifyCase{"argon2i_rejected_by_policy", "password", kArgon2iReference, false},
        VerifyCase{"malformed_empty", "password", "", false},
        VerifyCase{"malformed_empty_both", "", "", false},
        VerifyCase{"malformed_bcrypt_prefix_only", "password", "$2a$", false},
        VerifyCase{"malformed_argon2id_prefix_only", "password", "$argon2id$", false},
        VerifyCase{"malformed_argon2id_garbage", "password", "$argon2id$garbage", false},
        VerifyCase{
            "malformed_argon2id_zero_memory", "password",
            "$argon2id$v=19$m=0,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
            false},
        VerifyCase{"malformed_1mb", "password", std::string(1 << 20, 'a'), false},
        VerifyCase{"malformed_1mb_bcrypt_prefix", "password", "$2a$" + std::string(1 << 20, 'a'),
                   false},
        VerifyCase{"malformed_1mb_argon2id_prefix", "password",
                   "$argon2id$" + std::string(1 << 20, 'a'), false},
        VerifyCase{"plaintext_stored_hash_is_not_compared", "secret", "secret", false},
        // A genuine sha512-crypt hash of "password": valid, but not a scheme we accept.
        VerifyCase{"sha512_crypt_rejected_by_policy", "password",
                   "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq."
                   "qc.eoxqOmSuNp2xS0ktL3nh/",
                   false}),
    case_name);

struct KindCase {
  std::string name;
  std::string hash;
  HashKind expected;
};

class HashKindTest : public testing::TestWithParam<KindCase> {};

TEST_P(HashKindTest, ClassifiesByPrefix) {
  EXPECT_EQ(hash_kind(GetParam().hash), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Prefixes, HashKindTest,
    testing::Values(KindCase{"argon2id", kArgon2idReference, HashKind::argon2id},
                    KindCase{"argon2id_prefix_only", "$argon2id$", HashKind::argon2id},
                    KindCase{"argon2i", kArgon2iReference, HashKind::unknown},
                    KindCase{"argon2d", "$argon2d$v=19$m=256,t=2,p=1$x$y", HashKind::unknown},
                    KindCase{"bcrypt_2a", kBcryptUStarU, HashKind::bcrypt},
                    KindCase{"bcrypt_2b", with_prefix("$2b$", kBcryptUStarU), HashKind::bcrypt},
                    KindCase{"bcrypt_2y", with_prefix("$2y$", kBcryptUStarU), HashKind::bcrypt},
                    KindCase{"bcrypt_2x", with_prefix("$2x$", kBcryptUStarU), HashKind::unknown},
                    KindCase{"bcrypt_missing_dollar", "2a$05$abc", HashKind::unknown},
                    KindCase{"empty", "", HashKind::unknown},
                    KindCase{"plain_text", "hunter2", HashKind::unknown}),
    [](const auto& info) { return info.param.name; });

struct RehashCase {
  std::string name;
  std::string hash;
  bool expected;
};

class NeedsRehashTest : public testing::TestWithParam<RehashCase> {};

TEST_P(NeedsRehashTest, MatchesExpectation) {
  EXPECT_EQ(needs_rehash(GetParam().hash), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Hashes, NeedsRehashTest,
    testing::Values(RehashCase{"pocketbase_bcrypt", kPocketBaseBcrypt, true},
                    RehashCase{"bcrypt_cost5", kBcryptUStarU, true},
                    RehashCase{"argon2id_weaker_memory", kArgon2idReference, true},
                    RehashCase{"argon2id_weaker_time",
                               "$argon2id$v=19$m=19456,t=1,p=1$c29tZXNhbHQ$nf65EOgLrQMR/"
                               "uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
                               true},
                    RehashCase{"argon2id_stronger_memory",
                               "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/"
                               "uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
                               true},
                    RehashCase{"argon2i", kArgon2iReference, true},
                    RehashCase{"argon2id_garbage", "$argon2id$garbage", true},
                    RehashCase{"empty", "", true},
                    RehashCase{"oversized", "$argon2id$" + std::string(1 << 20, 'a'), true}),
    [](const auto& info) { return info.param.name; });

TEST(HashPasswordTest, UsesOwaspArgon2idParameters) {
  const std::string hash = hash_password("correct horse battery staple");
  ASSERT_TRUE(hash.starts_with(kOwaspPhcPrefix)) << hash;
  // "$argon2id$v=19$m=19456,t=2,p=1$" + 16-byte salt (22 chars) + '$' + 32-byte digest (43 chars).
  EXPECT_EQ(hash.size(), kOwaspPhcPrefix.size() + 22 + 1 + 43) << hash;
  EXPECT_EQ(hash_kind(hash), HashKind::argon2id);
  EXPECT_FALSE(needs_rehash(hash));
}

TEST(HashPasswordTest, SamePasswordHashesDifferently) {
  const std::string first = hash_password("same password");
  const std::string second = hash_password("same password");
  EXPECT_NE(first, second);
  EXPECT_TRUE(verify_password("same password", first));
  EXPECT_TRUE(verify_password("same password", second));
}

struct RoundTripCase {
  std::string name;
  std::string password;
  std::string wrong;
};

class HashRoundTripTest : public testing::TestWithParam<RoundTripCase> {};

TEST_P(HashRoundTripTest, VerifiesOnlyTheOriginal) {
  const auto& c = GetParam();
  const std::string hash = hash_password(c.password);
  EXPECT_TRUE(verify_password(c.password, hash));
  EXPECT_FALSE(verify_password(c.wrong, hash));
}

INSTANTIATE_TEST_SUITE_P(
    Passwords, HashRoundTripTest,
    testing::Values(RoundTripCase{"ascii", "correct horse battery staple",
                                  "correct horse battery stapl"},
                    RoundTripCase{"empty", "", " "},
                    RoundTripCase{"utf8", "p\xC3\xA4sswort-\xF0\x9F\x94\x91", "passwort-"},
                    // argon2id hashes the full byte string, NULs included.
                    RoundTripCase{"embedded_nul", "a\0b"s, "a"},
                    RoundTripCase{"long_1000", std::string(1000, 'x'), std::string(999, 'x')}),
    [](const auto& info) { return info.param.name; });

TEST(VerifyPasswordConcurrencyTest, ParallelVerificationsAgree) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 10;
  const std::string argon_hash = hash_password("parallel");
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        if (!verify_password("U*U", kBcryptUStarU)) ++failures[t];
        if (verify_password("U*V", kBcryptUStarU)) ++failures[t];
        if (i % 5 == 0 && !verify_password("parallel", argon_hash)) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

TEST(Password, Argon2CostCeilingsRefusePlantedHashes) {
  auto good = hash_password("correct horse");
  ASSERT_TRUE(verify_password("correct horse", good));
  // Same salt and digest, parameters raised past the ceilings: refused before
  // any work is done (a planted hash must not make a login allocate 4 GiB).
  auto with_params = [&](std::string_view params) {
    auto start = good.find("$m=");
    auto end = good.find('$', start + 1);
    return good.substr(0, start + 1) + std::string(params) + good.substr(end);
  };
  struct Case {
    const char* name;
    const char* params;
  } cases[] = {
      {"huge memory", "m=4194304,t=2,p=1"},
      {"huge time", "m=19456,t=1000000,p=1"},
      {"many lanes", "m=19456,t=2,p=64"},
      {"zero lanes", "m=19456,t=2,p=0"},
      {"missing t", "m=19456,p=1"},
      {"junk", "m=19x456,t=2,p=1"},
      {"overflowing digits", "m=99999999999999999999999,t=2,p=1"},
  };
  for (const auto& c : cases)
    EXPECT_FALSE(verify_password("correct horse", with_params(c.params))) << c.name;
  EXPECT_TRUE(verify_password("correct horse", with_params("m=19456,t=2,p=1")));
}

}  // namespace
}  // namespace plinth::auth
