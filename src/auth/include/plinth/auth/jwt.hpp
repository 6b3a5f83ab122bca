#pragma once
// HS256 JSON Web Tokens, byte-compatible with PocketBase's auth tokens:
// unpadded base64url, header {"alg":"HS256","typ":"JWT"}, HMAC-SHA256.
// Only the signature and the pinned algorithm are checked here; claims
// (exp, type, collectionId, ...) are the caller's business.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace plinth::auth {

// Tokens longer than this are rejected unparsed. PocketBase tokens are ~250
// bytes; 8 KiB leaves room for custom claims while bounding work per request.
inline constexpr std::size_t kMaxTokenBytes = std::size_t{8} * 1024;

// RFC 4648 section 5 alphabet without '=' padding.
std::string base64url_encode(std::string_view data);

// Strict inverse of base64url_encode: rejects padding, characters outside the
// alphabet, impossible lengths and non-zero trailing bits, so every byte
// string has exactly one accepted encoding.
std::optional<std::string> base64url_decode(std::string_view text);

// Signs `payload_json` (used verbatim) with `key`. Throws std::invalid_argument
// for an empty key: signing with it would be a configuration bug.
std::string sign_hs256(std::string_view payload_json, std::string_view key);

struct JwtParts {
  std::string header_json;
  std::string payload_json;
  std::string signature;      // decoded bytes
  std::string signing_input;  // "header.payload" as sent
};

// Splits and decodes a compact JWT without checking its signature. Requires
// exactly three dot-separated base64url parts, a non-empty header and payload,
// and a total size of at most kMaxTokenBytes.
std::optional<JwtParts> decode_unverified(std::string_view token);

// Returns the "alg" member of a JOSE header when the header is a well-formed
// JSON object holding exactly one "alg" key whose value is a string.
std::optional<std::string> header_alg(std::string_view header_json);

// True iff the token decodes, its header's alg is exactly "HS256", and its
// signature equals HMAC-SHA256(key, header.payload) (compared in constant
// time). An empty key never verifies.
bool verify_hs256(std::string_view token, std::string_view key);
// The same check for a token decode_unverified has already split and decoded.
bool verify_hs256(const JwtParts& parts, std::string_view key);

}  // namespace plinth::auth
