#include "plinth/auth/jwt.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "plinth/auth/secrets.hpp"

namespace plinth::auth {
namespace {

using namespace std::string_literals;

// PocketBase's tests/data fixture: a record auth token and the collection's
// signing key (authToken secret + user tokenKey, concatenated as PocketBase does).
const std::string kPbKey = "O4rvW9FSUyTA3xUuQmXR3wHF2db9bHs19nBHeSgVTxerOsTAl4"s +
                           "MyN3nDlzmHnuCjd35vb6cyIdqNr7Os0PmgiPVDMxmbFToSpBvS";
const std::string kPbHeaderB64 = "eyJhbGciOiJIUzI1NiJ9";
const std::string kPbPayloadB64 =
    "eyJpZCI6InN5d2JoZWNuaDQ2cmhtMCIsInR5cGUiOiJhdXRoIiwiY29sbGVjdGlvbklkIjoicGJjXzMxNDI2MzU4MjMi"
    "LCJleHAiOjI1MjQ2MDQ0NjEsInJlZnJlc2hhYmxlIjp0cnVlfQ";
const std::string kPbSignatureB64 = "UXgO3j-0BumcugrFjbd7j0M4MQvbrLggLlcu_YNGjoY";
const std::string kPbToken = kPbHeaderB64 + "." + kPbPayloadB64 + "." + kPbSignatureB64;
const std::string kPbPayloadJson =
    R"({"id":"sywbhecnh46rhm0","type":"auth","collectionId":"pbc_3142635823",)"
    R"("exp":2524604461,"refreshable":true})";

// Builds a correctly MAC'd token around an arbitrary header, to check that a
// valid signature alone is not enough.
std::string make_token(std::string_view header_json, std::string_view payload_json,
                       std::string_view key) {
  std::string input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
  return input + "." + base64url_encode(hmac_sha256(key, input));
}

template <typename T>
std::string case_name(const testing::TestParamInfo<T>& info) {
  return info.param.name;
}

// ---- base64url ----------------------------------------------------------------

struct Base64Case {
  std::string name;
  std::string raw;
  std::string encoded;
};

class Base64UrlTest : public testing::TestWithParam<Base64Case> {};

TEST_P(Base64UrlTest, EncodesAndDecodes) {
  const auto& c = GetParam();
  EXPECT_EQ(base64url_encode(c.raw), c.encoded);
  EXPECT_EQ(base64url_decode(c.encoded), std::optional<std::string>(c.raw));
}

// RFC 4648 section 10 vectors with the padding removed, plus the two
// characters that differ from standard base64.
INSTANTIATE_TEST_SUITE_P(Rfc4648, Base64UrlTest,
                         testing::Values(Base64Case{"empty", "", ""}, Base64Case{"f", "f", "Zg"},
                                         Base64Case{"fo", "fo", "Zm8"},
                                         Base64Case{"foo", "foo", "Zm9v"},
                                         Base64Case{"foob", "foob", "Zm9vYg"},
                                         Base64Case{"fooba", "fooba", "Zm9vYmE"},
                                         Base64Case{"foobar", "foobar", "Zm9vYmFy"},
                                         Base64Case{"url_alphabet", "\xfb\xff", "-_8"},
                                         Base64Case{"nul_bytes", "\0\0\0"s, "AAAA"},
                                         Base64Case{"jwt_header", R"({"alg":"HS256","typ":"JWT"})",
                                                    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"}),
                         case_name<Base64Case>);

struct RejectCase {
  std::string name;
  std::string input;
};

class Base64UrlRejectTest : public testing::TestWithParam<RejectCase> {};

TEST_P(Base64UrlRejectTest, Rejects) {
  EXPECT_EQ(base64url_decode(GetParam().input), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, Base64UrlRejectTest,
    testing::Values(RejectCase{"padding", "Zg=="}, RejectCase{"single_pad", "Zm8="},
                    RejectCase{"standard_plus", "+_8"}, RejectCase{"standard_slash", "-/8"},
                    RejectCase{"impossible_length", "Zm9vY"}, RejectCase{"one_char", "Z"},
                    RejectCase{"nonzero_trailing_bits_2", "Zh"},
                    RejectCase{"nonzero_trailing_bits_3", "Zm9"}, RejectCase{"space", "Zm 9v"},
                    RejectCase{"newline", "Zm9v\n"}, RejectCase{"dot", "Zm9v.Zg"},
                    RejectCase{"nul", "Zm\0v"s}, RejectCase{"high_byte", "Zm9\xc3"}),
    case_name<RejectCase>);

TEST(Base64UrlTest, AllByteValuesRoundTrip) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t len = 0; len <= all.size(); len += 37) {
    const std::string raw = all.substr(0, len);
    const std::string encoded = base64url_encode(raw);
    EXPECT_EQ(encoded.find_first_of("+/="), std::string::npos);
    EXPECT_EQ(base64url_decode(encoded), std::optional<std::string>(raw)) << "len " << len;
  }
}

// Every length from 0 to 64 and every position of a bad character, against a bit-at-a-time
// reading of RFC 4648: the codec works in blocks of three bytes and four characters, and its
// tails (one or two bytes, two or three characters) are where a block codec goes wrong.
TEST(Base64UrlTest, AgreesWithABitByBitCodecAtEveryLength) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  auto reference_encode = [](std::string_view raw) {
    std::string out;
    std::size_t bits = raw.size() * 8;
    for (std::size_t at = 0; at < bits; at += 6) {
      unsigned v = 0;
      for (std::size_t b = at; b < at + 6; ++b) {
        unsigned bit = b < bits ? (static_cast<unsigned char>(raw[b / 8]) >> (7 - b % 8)) & 1U : 0U;
        v = (v << 1) | bit;
      }
      out.push_back(kAlphabet[v]);
    }
    return out;
  };
  std::uint32_t seed = 12345;
  auto next = [&] {
    seed = seed * 1664525U + 1013904223U;
    return static_cast<char>(seed >> 24);
  };
  for (std::size_t len = 0; len <= 64; ++len) {
    std::string raw;
    for (std::size_t i = 0; i < len; ++i) raw.push_back(next());
    const std::string encoded = base64url_encode(raw);
    ASSERT_EQ(encoded, reference_encode(raw)) << "len " << len;
    ASSERT_EQ(base64url_decode(encoded), std::optional<std::string>(raw)) << "len " << len;
    for (std::size_t at = 0; at < encoded.size(); ++at) {
      std::string bad = encoded;
      bad[at] = '=';
      EXPECT_EQ(base64url_decode(bad), std::nullopt) << "len " << len << " at " << at;
    }
    // The last character of a tail carries padding bits: with any of them set, it is refused.
    if (len % 3 != 0) {
      std::string flipped = encoded;
      auto pos = kAlphabet.find(flipped.back());
      flipped.back() = kAlphabet[pos ^ 1U];
      EXPECT_EQ(base64url_decode(flipped), std::nullopt) << "len " << len;
    }
  }
}

// ---- header_alg -----------------------------------------------------------------

struct AlgCase {
  std::string name;
  std::string header;
  std::optional<std::string> alg;
};

class HeaderAlgTest : public testing::TestWithParam<AlgCase> {};

TEST_P(HeaderAlgTest, ExtractsAlg) {
  EXPECT_EQ(header_alg(GetParam().header), GetParam().alg);
}

std::string nested(int depth) {
  const auto n = static_cast<std::size_t>(depth);
  return R"({"x":)" + std::string(n, '[') + "1" + std::string(n, ']') + R"(,"alg":"HS256"})";
}

INSTANTIATE_TEST_SUITE_P(
    Headers, HeaderAlgTest,
    testing::Values(
        AlgCase{"pocketbase", R"({"alg":"HS256"})", "HS256"},
        AlgCase{"with_typ", R"({"alg":"HS256","typ":"JWT"})", "HS256"},
        AlgCase{"typ_first", R"({"typ":"JWT","alg":"HS256"})", "HS256"},
        AlgCase{"whitespace", " \t\r\n{ \"alg\" : \"HS256\" }\n", "HS256"},
        AlgCase{"none", R"({"alg":"none"})", "none"},
        AlgCase{"escaped_key", R"({"a\u006cg":"HS256"})", "HS256"},
        AlgCase{"escaped_value", R"({"alg":"HS\u0032\u0035\u0036"})", "HS256"},
        AlgCase{"nested_alg_ignored", R"({"x":{"alg":"none"},"alg":"HS256"})", "HS256"},
        AlgCase{"other_values",
                R"({"a":[1,-2.5e+3,0,true,false,null,"s\"\\\/\b\f\n\r\t"],)"
                R"("b":{},"c":[],"d":"\ud83d\udd11","alg":"HS256"})",
                "HS256"},
        AlgCase{"nesting_at_limit", nested(15), "HS256"},
        AlgCase{"nesting_over_limit", nested(16), std::nullopt},
        AlgCase{"empty_object", "{}", std::nullopt},
        AlgCase{"no_alg", R"({"typ":"JWT"})", std::nullopt},
        AlgCase{"alg_null", R"({"alg":null})", std::nullopt},
        AlgCase{"alg_number", R"({"alg":256})", std::nullopt},
        AlgCase{"alg_array", R"({"alg":["HS256"]})", std::nullopt},
        AlgCase{"alg_object", R"({"alg":{"v":"HS256"}})", std::nullopt},
        AlgCase{"alg_uppercase_key", R"({"ALG":"HS256"})", std::nullopt},
        AlgCase{"duplicate_alg", R"({"alg":"HS256","alg":"none"})", std::nullopt},
        AlgCase{"duplicate_alg_same_value", R"({"alg":"HS256","alg":"HS256"})", std::nullopt},
        AlgCase{"duplicate_alg_escaped", R"({"alg":"HS256","\u0061lg":"none"})", std::nullopt},
        AlgCase{"trailing_bytes", R"({"alg":"HS256"}x)", std::nullopt},
        AlgCase{"two_objects", R"({"alg":"HS256"}{"alg":"none"})", std::nullopt},
        AlgCase{"array_top_level", R"(["alg","HS256"])", std::nullopt},
        AlgCase{"string_top_level", R"("HS256")", std::nullopt}, AlgCase{"empty", "", std::nullopt},
        AlgCase{"unterminated_object", R"({"alg":"HS256")", std::nullopt},
        AlgCase{"unterminated_string", R"({"alg":"HS256)", std::nullopt},
        AlgCase{"trailing_comma", R"({"alg":"HS256",})", std::nullopt},
        AlgCase{"leading_comma", R"({,"alg":"HS256"})", std::nullopt},
        AlgCase{"missing_colon", R"({"alg" "HS256"})", std::nullopt},
        AlgCase{"single_quotes", R"({'alg':'HS256'})", std::nullopt},
        AlgCase{"unquoted_key", R"({alg:"HS256"})", std::nullopt},
        AlgCase{"raw_control_char", "{\"alg\":\"HS\t256\"}", std::nullopt},
        AlgCase{"invalid_escape", R"({"alg":"HS\x32"})", std::nullopt},
        AlgCase{"short_unicode_escape", R"({"alg":"\u004"})", std::nullopt},
        AlgCase{"lone_high_surrogate", R"({"x":"\ud83d","alg":"HS256"})", std::nullopt},
        AlgCase{"lone_low_surrogate", R"({"x":"\udd11","alg":"HS256"})", std::nullopt},
        AlgCase{"leading_zero_number", R"({"x":01,"alg":"HS256"})", std::nullopt},
        AlgCase{"bare_minus", R"({"x":-,"alg":"HS256"})", std::nullopt},
        AlgCase{"dot_without_digits", R"({"x":1.,"alg":"HS256"})", std::nullopt},
        AlgCase{"bad_literal", R"({"x":tru,"alg":"HS256"})", std::nullopt},
        AlgCase{"nul_inside", "{\"alg\":\"HS256\"}\0"s, std::nullopt}),
    case_name<AlgCase>);

// ---- decode_unverified ------------------------------------------------------------

TEST(DecodeUnverifiedTest, DecodesPocketBaseToken) {
  const auto parts = decode_unverified(kPbToken);
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->header_json, R"({"alg":"HS256"})");
  EXPECT_EQ(parts->payload_json, kPbPayloadJson);
}

// A syntactically valid token of exactly `size` bytes.
std::string token_of_size(std::size_t size) {
  std::string token = kPbHeaderB64 + "." + kPbPayloadB64 + ".";
  const std::size_t fill = size - token.size();
  // Signature lengths must not be 1 mod 4; pad the payload instead if needed.
  const std::size_t sig_len = fill % 4 == 1 ? fill - 2 : fill;
  token = kPbHeaderB64 + "." + kPbPayloadB64 + std::string(fill - sig_len, 'A') + "." +
          std::string(sig_len, 'A');
  return token;
}

TEST(DecodeUnverifiedTest, TokenSizeLimitIsInclusive) {
  const std::string at_limit = token_of_size(kMaxTokenBytes);
  ASSERT_EQ(at_limit.size(), kMaxTokenBytes);
  ASSERT_TRUE(base64url_decode(at_limit.substr(at_limit.rfind('.') + 1)).has_value());
  EXPECT_TRUE(decode_unverified(at_limit).has_value());

  const std::string over_limit = token_of_size(kMaxTokenBytes + 1);
  ASSERT_EQ(over_limit.size(), kMaxTokenBytes + 1);
  EXPECT_FALSE(decode_unverified(over_limit).has_value());
  EXPECT_FALSE(verify_hs256(over_limit, kPbKey));
}

class DecodeUnverifiedRejectTest : public testing::TestWithParam<RejectCase> {};

TEST_P(DecodeUnverifiedRejectTest, Rejects) {
  EXPECT_FALSE(decode_unverified(GetParam().input).has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, DecodeUnverifiedRejectTest,
    testing::Values(
        RejectCase{"empty", ""}, RejectCase{"one_part", kPbHeaderB64},
        RejectCase{"two_parts", kPbHeaderB64 + "." + kPbPayloadB64},
        RejectCase{"four_parts", kPbToken + ".AAAA"}, RejectCase{"trailing_dot", kPbToken + "."},
        RejectCase{"only_dots", ".."},
        RejectCase{"empty_header", "." + kPbPayloadB64 + "." + kPbSignatureB64},
        RejectCase{"empty_payload", kPbHeaderB64 + ".." + kPbSignatureB64},
        RejectCase{"padded_header", kPbHeaderB64 + "=." + kPbPayloadB64 + "." + kPbSignatureB64},
        RejectCase{"bad_char_in_header",
                   "eyJhbGciOiJIUzI1NiJ9+." + kPbPayloadB64 + "." + kPbSignatureB64},
        RejectCase{"bad_char_in_payload",
                   kPbHeaderB64 + "." + kPbPayloadB64 + "!." + kPbSignatureB64},
        RejectCase{"bad_char_in_signature", kPbHeaderB64 + "." + kPbPayloadB64 + ".UXgO3j+0Bum"},
        RejectCase{"impossible_length_signature", kPbHeaderB64 + "." + kPbPayloadB64 + ".AAAAA"}),
    case_name<RejectCase>);

// ---- verify_hs256 / sign_hs256 ------------------------------------------------------

TEST(VerifyHs256Test, AcceptsPocketBaseToken) {
  EXPECT_TRUE(verify_hs256(kPbToken, kPbKey));
}

TEST(VerifyHs256Test, ReproducesPocketBaseSignatureByteForByte) {
  EXPECT_EQ(make_token(R"({"alg":"HS256"})", kPbPayloadJson, kPbKey), kPbToken);
}

TEST(VerifyHs256Test, RejectsEverySingleCharacterChangeInSignature) {
  const std::size_t sig_start = kPbToken.rfind('.') + 1;
  for (std::size_t i = sig_start; i < kPbToken.size(); ++i) {
    for (char replacement : {'A', 'B', 'Z', 'a', 'b', 'z', '0', '1', '9', '-', '_'}) {
      if (replacement == kPbToken[i]) continue;
      std::string tampered = kPbToken;
      tampered[i] = replacement;
      EXPECT_FALSE(verify_hs256(tampered, kPbKey)) << "position " << i << " -> " << replacement;
    }
  }
}

struct TamperCase {
  std::string name;
  std::string token;
  std::string key;
};

class VerifyHs256RejectTest : public testing::TestWithParam<TamperCase> {};

TEST_P(VerifyHs256RejectTest, Rejects) {
  EXPECT_FALSE(verify_hs256(GetParam().token, GetParam().key));
  // The check on already decoded parts refuses every one of them too.
  if (auto parts = decode_unverified(GetParam().token)) {
    EXPECT_FALSE(verify_hs256(*parts, GetParam().key));
  }
}

TEST(VerifyHs256Test, DecodedPartsVerifyAsTheTokenDoes) {
  auto parts = decode_unverified(kPbToken);
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->signing_input, kPbToken.substr(0, kPbToken.rfind('.')));
  EXPECT_EQ(parts->signature.size(), 32U);
  EXPECT_TRUE(verify_hs256(*parts, kPbKey));
  EXPECT_FALSE(verify_hs256(*parts, kPbKey + "x"));
  EXPECT_FALSE(verify_hs256(*parts, ""));
  auto tampered = *parts;
  tampered.signing_input.back() ^= 1;
  EXPECT_FALSE(verify_hs256(tampered, kPbKey));
  auto other_alg = *parts;
  other_alg.header_json = R"({"alg":"HS512"})";
  EXPECT_FALSE(verify_hs256(other_alg, kPbKey));
}

const std::string kForgedPayloadJson =
    R"({"id":"sywbhecnh46rhm0","type":"auth","collectionId":"pbc_3142635823",)"
    R"("exp":2524604461,"refreshable":true,"admin":true})";

INSTANTIATE_TEST_SUITE_P(
    Tampered, VerifyHs256RejectTest,
    testing::Values(
        TamperCase{
            "changed_payload",
            kPbHeaderB64 + "." + base64url_encode(kForgedPayloadJson) + "." + kPbSignatureB64,
            kPbKey},
        TamperCase{"different_key", kPbToken, kPbKey + "x"},
        TamperCase{"key_prefix", kPbToken, kPbKey.substr(0, 50)},
        TamperCase{"empty_key", kPbToken, ""},
        TamperCase{
            "alg_none_header_swapped",
            base64url_encode(R"({"alg":"none"})") + "." + kPbPayloadB64 + "." + kPbSignatureB64,
            kPbKey},
        TamperCase{"alg_none_empty_signature",
                   base64url_encode(R"({"alg":"none"})") + "." + kPbPayloadB64 + ".", kPbKey},
        TamperCase{"alg_none_valid_mac", make_token(R"({"alg":"none"})", kPbPayloadJson, kPbKey),
                   kPbKey},
        TamperCase{"alg_hs512_valid_mac", make_token(R"({"alg":"HS512"})", kPbPayloadJson, kPbKey),
                   kPbKey},
        TamperCase{"alg_rs256_valid_mac", make_token(R"({"alg":"RS256"})", kPbPayloadJson, kPbKey),
                   kPbKey},
        TamperCase{"alg_lowercase_valid_mac",
                   make_token(R"({"alg":"hs256"})", kPbPayloadJson, kPbKey), kPbKey},
        TamperCase{"alg_missing_valid_mac", make_token(R"({"typ":"JWT"})", kPbPayloadJson, kPbKey),
                   kPbKey},
        TamperCase{"alg_not_string_valid_mac",
                   make_token(R"({"alg":["HS256"]})", kPbPayloadJson, kPbKey), kPbKey},
        TamperCase{"alg_duplicate_valid_mac",
                   make_token(R"({"alg":"HS256","alg":"none"})", kPbPayloadJson, kPbKey), kPbKey},
        TamperCase{"header_not_json_valid_mac", make_token("HS256", kPbPayloadJson, kPbKey),
                   kPbKey},
        TamperCase{"signature_removed", kPbHeaderB64 + "." + kPbPayloadB64 + ".", kPbKey},
        TamperCase{"signature_truncated", kPbToken.substr(0, kPbToken.size() - 4), kPbKey},
        TamperCase{"signature_extended", kPbToken + "AAAA", kPbKey},
        TamperCase{"signature_padded", kPbToken + "=", kPbKey},
        TamperCase{
            "signature_standard_base64",
            kPbHeaderB64 + "." + kPbPayloadB64 + ".UXgO3j+0BumcugrFjbd7j0M4MQvbrLggLlcu/YNGjoY",
            kPbKey},
        TamperCase{"extra_segment", kPbToken + ".AAAA", kPbKey},
        TamperCase{"header_and_payload_swapped",
                   kPbPayloadB64 + "." + kPbHeaderB64 + "." + kPbSignatureB64, kPbKey},
        TamperCase{"empty_token", "", kPbKey}),
    case_name<TamperCase>);

struct SignCase {
  std::string name;
  std::string payload;
  std::string key;
};

class SignHs256Test : public testing::TestWithParam<SignCase> {};

TEST_P(SignHs256Test, RoundTrips) {
  const auto& c = GetParam();
  const std::string token = sign_hs256(c.payload, c.key);
  EXPECT_TRUE(token.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.")) << token;
  EXPECT_TRUE(verify_hs256(token, c.key));
  EXPECT_FALSE(verify_hs256(token, c.key + "!"));
  const auto parts = decode_unverified(token);
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->header_json, R"({"alg":"HS256","typ":"JWT"})");
  EXPECT_EQ(parts->payload_json, c.payload);
}

INSTANTIATE_TEST_SUITE_P(
    Payloads, SignHs256Test,
    testing::Values(SignCase{"pocketbase_claims", kPbPayloadJson, kPbKey},
                    SignCase{"empty_object", "{}", "k"},
                    SignCase{"unicode_claims", R"({"name":"J\u00fcrgen","emoji":"🔑"})", "secret"},
                    SignCase{"binary_key", R"({"id":"x"})", "\0\x01\xff key"s},
                    SignCase{"long_key", R"({"id":"x"})", std::string(300, 'k')}),
    case_name<SignCase>);

TEST(SignHs256Test, EmptyKeyIsRejected) {
  EXPECT_THROW(sign_hs256("{}", ""), std::invalid_argument);
}

TEST(SignHs256Test, IsDeterministic) {
  EXPECT_EQ(sign_hs256(kPbPayloadJson, kPbKey), sign_hs256(kPbPayloadJson, kPbKey));
  EXPECT_NE(sign_hs256(kPbPayloadJson, kPbKey), sign_hs256(kPbPayloadJson, kPbKey + "2"));
}

}  // namespace
}  // namespace plinth::auth
