#pragma once
// Record tokens as PocketBase signs them: HS256 JWTs keyed by the record's
// tokenKey + the auth collection's `<option>.secret`, lasting `<option>.duration`
// seconds. One place issues and verifies every kind (auth, verification,
// passwordReset, emailChange, file), so each flow shares the same checks.

#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "plinth/core/collection.hpp"
#include "plinth/store/store.hpp"

namespace plinth::api::detail {

// Which token: its `type` claim and the collection option holding its secret
// and duration (PocketBase's names).
struct TokenKind {
  std::string_view type;
  std::string_view option;
};
inline constexpr TokenKind kAuthToken{"auth", "authToken"};
inline constexpr TokenKind kVerificationToken{"verification", "verificationToken"};
inline constexpr TokenKind kPasswordResetToken{"passwordReset", "passwordResetToken"};
inline constexpr TokenKind kEmailChangeToken{"emailChange", "emailChangeToken"};
inline constexpr TokenKind kFileToken{"file", "fileToken"};

// options.<option>.secret and .duration (seconds; 0 when unset).
std::string token_secret(const core::Collection& c, std::string_view option);
std::int64_t token_duration(const core::Collection& c, std::string_view option);

// Signs a token for `record` of auth collection `c`. Claims: id, type,
// collectionId, exp (now + `duration`, or the option's duration when
// `duration` <= 0) plus `extra` (e.g. email, newEmail, refreshable).
// Throws std::runtime_error when the signing key would be empty.
std::string issue_record_token(const core::Collection& c, const boost::json::object& record,
                               TokenKind kind, const boost::json::object& extra = {},
                               std::int64_t duration = 0);

struct VerifiedToken {
  std::shared_ptr<const core::Collection> collection;
  boost::json::object record;  // as stored (tokenKey and password hash included)
  boost::json::object claims;
};

// Verifies a compact token of `kind`: the header is exactly {alg:HS256[,typ:JWT]}
// (no kid/jwk/jku/crit/x5u/...), the claims carry id, collectionId and the
// kind's type, `exp` is present and in the future, `nbf` (when present) is not
// in the future, the collection is an auth collection and the signature holds
// under the record's current key. Anything else: nullopt.
std::optional<VerifiedToken> verify_record_token(store::Store& store, std::string_view token,
                                                 TokenKind kind);

// Seconds since the epoch.
std::int64_t unix_now();

}  // namespace plinth::api::detail
