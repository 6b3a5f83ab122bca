#pragma once
// PocketBase's error envelope {"status":N,"message":"...","data":{...}} and the
// typed ApiError that handlers throw for domain errors. The pipeline turns an
// ApiError into the envelope in exactly one place.

#include <stdexcept>
#include <string>
#include <string_view>

#include "plinth/http/message.hpp"

namespace plinth::http {

// PocketBase's default message for a status (e.g. 404 -> "The requested resource wasn't found.").
std::string_view default_message(int status);

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string data_json = "{}")
      : std::runtime_error(message),
        status_(status),
        message_(std::move(message)),
        data_json_(std::move(data_json)) {}

  explicit ApiError(int status) : ApiError(status, std::string(default_message(status))) {}

  int status() const { return status_; }
  const std::string& message() const { return message_; }
  const std::string& data_json() const { return data_json_; }

 private:
  int status_;
  std::string message_;
  std::string data_json_;
};

// The JSON envelope text. `data_json` must be a JSON object.
std::string error_body(int status, std::string_view message, std::string_view data_json = "{}");
Response error_response(int status, std::string_view message = {},
                        std::string_view data_json = "{}");

}  // namespace plinth::http
