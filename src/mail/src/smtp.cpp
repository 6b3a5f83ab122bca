#include "plinth/mail/smtp.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

#include "plinth/util/random.hpp"

namespace plinth::mail {
namespace json = boost::json;

namespace {

std::string str(const json::object& o, std::string_view k) {
  auto* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

struct Upload {
  std::string data;
  std::size_t offset = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t nitems, void* user) {
  auto* u = static_cast<Upload*>(user);
  std::size_t n = std::min(size * nitems, u->data.size() - u->offset);
  std::copy_n(u->data.data() + u->offset, n, buffer);
  u->offset += n;
  return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancel = static_cast<const std::atomic<bool>*>(user);
  return cancel && cancel->load() ? 1 : 0;
}

// curl_global_init is not thread-safe before libcurl 7.84; do it once.
void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

SmtpConfig smtp_config_from_settings(const json::object& settings) {
  SmtpConfig c;
  const json::object* s = settings.if_contains("smtp") ? settings.at("smtp").if_object() : nullptr;
  if (!s) return c;
  if (auto* e = s->if_contains("enabled"); e && e->is_bool()) c.enabled = e->get_bool();
  c.host = str(*s, "host");
  if (auto* p = s->if_contains("port")) {
    if (p->is_int64()) c.port = static_cast<int>(p->get_int64());
    if (p->is_uint64()) c.port = static_cast<int>(p->get_uint64());
    if (p->is_double()) c.port = static_cast<int>(p->get_double());
  }
  c.username = str(*s, "username");
  c.password = str(*s, "password");
  c.auth_method = str(*s, "authMethod");
  if (auto* t = s->if_contains("tls"); t && t->is_bool()) c.tls = t->get_bool();
  c.local_name = str(*s, "localName");
  return c;
}

Address sender_from_settings(const json::object& settings) {
  const json::object* meta =
      settings.if_contains("meta") ? settings.at("meta").if_object() : nullptr;
  if (!meta) return {};
  return {str(*meta, "senderName"), str(*meta, "senderAddress")};
}

std::optional<std::string> send_smtp(const SmtpConfig& config, const Message& m,
                                     const std::atomic<bool>* cancel, int* reply_code) {
  if (reply_code) *reply_code = 0;
  if (!config.enabled) return "SMTP is not enabled in the settings";
  if (config.host.empty()) return "no SMTP host in the settings";
  if (config.port <= 0 || config.port > 65535) return "invalid SMTP port";
  if (!valid_address(m.from.address)) return "invalid sender address";
  for (const auto& a : m.to) {
    if (!valid_address(a.address)) return "invalid recipient address";
  }
  global_init();
  CURL* curl = curl_easy_init();
  if (!curl) return "cannot initialise libcurl";

  std::string host = config.host;
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  std::string url = std::string(config.tls ? "smtps://" : "smtp://") + host + ":" +
                    std::to_string(config.port) + "/" +
                    (config.local_name.empty() ? std::string("localhost") : config.local_name);
  Upload upload;
  std::string domain = m.from.address.substr(m.from.address.rfind('@') + 1);
  upload.data = to_mime(m, rfc5322_now(), "<" + util::random_hex(16) + "@" + domain + ">");
  std::string from = "<" + m.from.address + ">";
  curl_slist* rcpt = nullptr;
  for (const auto& a : m.to) rcpt = curl_slist_append(rcpt, ("<" + a.address + ">").c_str());
  char errbuf[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(config.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config.total_timeout.count()));
  // smtps:// is TLS from the first byte. Otherwise STARTTLS is used whenever
  // the server offers it, and is required before credentials are sent to
  // anything but this machine (as Go's net/smtp PlainAuth, which PocketBase uses).
  bool loopback = config.host == "localhost" || config.host == "127.0.0.1" || config.host == "::1";
  bool must_encrypt = !config.username.empty() && !loopback;
  curl_easy_setopt(curl, CURLOPT_USE_SSL,
                   static_cast<long>(must_encrypt ? CURLUSESSL_ALL : CURLUSESSL_TRY));
  if (!config.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, config.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, config.password.c_str());
    if (!config.auth_method.empty()) {
      std::string opts = "AUTH=" + config.auth_method;
      curl_easy_setopt(curl, CURLOPT_LOGIN_OPTIONS, opts.c_str());
    }
  }
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(upload.data.size()));

  if (cancel) {
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, cancel);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  }
  CURLcode rc = curl_easy_perform(curl);
  std::optional<std::string> error;
  if (rc != CURLE_OK) {
    error = std::string(curl_easy_strerror(rc));
    if (errbuf[0]) error = *error + ": " + errbuf;
  }
  if (reply_code) {
    long code = 0;
    if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK)
      *reply_code = static_cast<int>(code);
  }
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  return error;
}

}  // namespace plinth::mail
