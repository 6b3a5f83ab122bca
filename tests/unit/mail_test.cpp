// The mail library: templates and placeholders, MIME and quoted-printable,
// HTML to text, SMTP through libcurl to the test sink (AUTH included), and the
// durable outbox over a real store (queue in a transaction, send, retry with
// backoff, give up, rollback).

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include <boost/json.hpp>

#include "plinth/core/collection.hpp"
#include "plinth/core/json.hpp"
#include "plinth/mail/message.hpp"
#include "plinth/mail/outbox.hpp"
#include "plinth/mail/smtp.hpp"
#include "plinth/mail/templates.hpp"
#include "plinth/observe/log.hpp"
#include "plinth/store/store.hpp"
#include "smtp_sink.hpp"
#include "test_support.hpp"

namespace plinth::mail {
namespace {

namespace json = boost::json;

// Undoes quoted-printable (soft breaks and =XX).
std::string qp_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '=' && i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') {
      i += 2;
    } else if (s[i] == '=' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

Message sample(std::string to = "someone@example.com") {
  Message m;
  m.from = {"Support", "support@example.com"};
  m.to.push_back({"", std::move(to)});
  m.subject = "Hello";
  m.html = "<p>Hi</p>";
  return m;
}

TEST(MailTemplates, SubstituteTable) {
  Placeholders p{{"{APP_NAME}", "Acme"}, {"{TOKEN}", "t0k"}, {"{RECORD:name}", "{TOKEN}"}};
  struct Case {
    const char* name;
    const char* in;
    const char* want;
  } cases[] = {
      {"plain", "no placeholders", "no placeholders"},
      {"one", "Welcome to {APP_NAME}", "Welcome to Acme"},
      {"repeated", "{TOKEN}/{TOKEN}", "t0k/t0k"},
      {"unknown kept", "{UNKNOWN} {APP_NAME}", "{UNKNOWN} Acme"},
      {"unclosed brace", "{APP_NAME", "{APP_NAME"},
      {"value not rescanned", "Hi {RECORD:name}", "Hi {TOKEN}"},
      {"adjacent", "{APP_NAME}{TOKEN}", "Acmet0k"},
  };
  for (const auto& c : cases) EXPECT_EQ(substitute(c.in, p), c.want) << c.name;
}

TEST(MailTemplates, RecordPlaceholdersEscapeAndSkipHidden) {
  auto fields = R"([{"name":"id","type":"text","primaryKey":true,"required":true,"system":true},
      {"name":"name","type":"text"},{"name":"age","type":"number"},{"name":"ok","type":"bool"},
      {"name":"secret","type":"text","hidden":true}])";
  auto c = core::collection_from_row("pbc_1", false, "base", "people", fields, "[]", "", "", "", "",
                                     "", "{}", "", "");
  json::object settings{{"meta", {{"appName", "Acme & Co"}, {"appURL", "https://acme.test"}}}};
  json::object record{
      {"id", "abc"}, {"name", "<b>Ann</b>"}, {"age", 42}, {"ok", true}, {"secret", "s3cr3t"}};
  auto p = record_placeholders(settings, c, record);
  EXPECT_EQ(p["{APP_NAME}"], "Acme & Co");
  EXPECT_EQ(p["{APP_URL}"], "https://acme.test");
  EXPECT_EQ(p["{RECORD:name}"], "&lt;b&gt;Ann&lt;/b&gt;");
  EXPECT_EQ(p["{RECORD:age}"], "42");
  EXPECT_EQ(p["{RECORD:ok}"], "true");
  EXPECT_EQ(p.count("{RECORD:secret}"), 0U);
}

TEST(MailTemplates, TemplatesFromAuthOptionsAndRender) {
  auto options = core::default_auth_options();
  for (const char* path :
       {"verificationTemplate", "resetPasswordTemplate", "confirmEmailChangeTemplate",
        "otp.emailTemplate", "authAlert.emailTemplate"}) {
    EXPECT_TRUE(template_at(options, path).has_value()) << path;
  }
  EXPECT_FALSE(template_at(options, "nope").has_value());
  EXPECT_FALSE(template_at(options, "otp.nope").has_value());
  auto t = *template_at(options, "verificationTemplate");
  auto r = render(t, {{"{APP_NAME}", "Acme"}, {"{APP_URL}", "https://a.test"}, {"{TOKEN}", "TKN"}});
  EXPECT_EQ(r.subject, "Verify your Acme email");
  EXPECT_NE(r.html.find("https://a.test/_/#/auth/confirm-verification/TKN"), std::string::npos);
  EXPECT_EQ(r.html.rfind("<!DOCTYPE html>", 0), 0U);
  // A subject is one header line whatever the template says.
  auto r2 = render({"a\r\nBcc: x@y.z", "b"}, {});
  EXPECT_EQ(r2.subject.find('\n'), std::string::npos);
}

TEST(MailMessage, HtmlToText) {
  struct Case {
    const char* name;
    const char* html;
    const char* want;
  } cases[] = {
      {"paragraphs", "<p>Hello,</p>\n<p>World</p>", "Hello,\n\nWorld"},
      {"link", "<p><a href=\"https://x.test/a?b=1\">Verify</a></p>",
       "Verify (https://x.test/a?b=1)"},
      {"entities", "<p>a &amp; b &lt;c&gt;</p>", "a & b <c>"},
      {"style dropped", "<style>p{color:red}</style><p>x</p>", "x"},
      {"br", "a<br/>b", "a\nb"},
  };
  for (const auto& c : cases) EXPECT_EQ(html_to_text(c.html), c.want) << c.name;
}

TEST(MailMessage, MimeIsQuotedPrintableAndRoundTrips) {
  auto m = sample();
  m.subject = "Grüße";
  m.html = std::string(200, 'x') + "\n.starts with a dot\nequals = sign and trailing space \n" +
           "ünïcode";
  auto mime = to_mime(m, "Mon, 30 Nov 2026 12:00:00 +0000", "<id@example.com>");
  EXPECT_NE(mime.find("Subject: =?UTF-8?B?"), std::string::npos);
  EXPECT_NE(mime.find("From: \"Support\" <support@example.com>\r\n"), std::string::npos);
  EXPECT_NE(mime.find("To: <someone@example.com>\r\n"), std::string::npos);
  std::size_t pos = 0;
  while (pos < mime.size()) {
    auto eol = mime.find("\r\n", pos);
    ASSERT_NE(eol, std::string::npos) << "every line ends with CRLF";
    EXPECT_LE(eol - pos, 78U) << mime.substr(pos, eol - pos);
    EXPECT_NE(mime[pos], '.') << "no line may start with a dot";
    pos = eol + 2;
  }
  auto html_part = mime.substr(mime.find("text/html"));
  html_part = html_part.substr(html_part.find("\r\n\r\n") + 4);
  html_part = html_part.substr(0, html_part.find("\r\n--plinth-"));
  std::string want = m.html;
  std::string got = qp_decode(html_part);
  for (std::size_t p = 0; (p = got.find("\r\n", p)) != std::string::npos;) got.erase(p, 1);
  EXPECT_EQ(got, want);
}

TEST(MailMessage, JsonRoundTripAndAddressCheck) {
  auto m = sample();
  auto back = message_from_json(to_json(m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->to.at(0).address, "someone@example.com");
  EXPECT_EQ(back->subject, "Hello");
  EXPECT_FALSE(message_from_json(json::object{{"to", json::array{}}}));
  for (const char* ok : {"a@b.c", "first.last+tag@example.com"}) EXPECT_TRUE(valid_address(ok));
  for (const char* bad : {"", "a", "@b", "a@", "a b@c.d", "a@b@c", "a@b>\r\nRCPT TO:<x@y>"})
    EXPECT_FALSE(valid_address(bad)) << bad;
}

TEST(MailSmtp, SendsThroughLibcurlToTheSink) {
  test::SmtpSink sink;
  SmtpConfig cfg;
  cfg.enabled = true;
  cfg.host = "127.0.0.1";
  cfg.port = sink.port();
  cfg.username = "mailer";
  cfg.password = "pa55";
  cfg.auth_method = "PLAIN";
  auto m = sample("to@example.com");
  m.html = "<p>Code: <strong>123456</strong></p>";
  EXPECT_EQ(send_smtp(cfg, m), std::nullopt);
  auto got = sink.wait_for("to@example.com", std::chrono::seconds(5));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->from, "support@example.com");
  EXPECT_EQ(got->auth, "mailer:pa55");
  EXPECT_EQ(got->header("Subject"), "Hello");
  EXPECT_NE(got->decoded_body().find("<strong>123456</strong>"), std::string::npos);
  EXPECT_NE(got->decoded_body().find("Code: 123456"), std::string::npos);
}

TEST(MailSmtp, ImplicitTlsDoesNotFallBackToPlain) {
  test::SmtpSink sink;  // speaks plain SMTP only
  SmtpConfig cfg;
  cfg.enabled = true;
  cfg.host = "127.0.0.1";
  cfg.port = sink.port();
  cfg.tls = true;
  cfg.total_timeout = std::chrono::seconds(10);
  EXPECT_TRUE(send_smtp(cfg, sample("tls@example.com")).has_value());
  EXPECT_EQ(sink.count_to("tls@example.com"), 0U);
}

TEST(MailSmtp, FailuresAreReportedNotThrown) {
  auto m = sample();
  SmtpConfig off;
  EXPECT_EQ(send_smtp(off, m), "SMTP is not enabled in the settings");
  SmtpConfig down;
  down.enabled = true;
  down.host = "127.0.0.1";
  down.port = test::SmtpSink::free_port();
  down.password = "never-in-errors";
  down.username = "u";
  auto err = send_smtp(down, m);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->find("never-in-errors"), std::string::npos);
  auto bad = sample("x@y.z>\r\nDATA");
  EXPECT_EQ(send_smtp(down, bad), "invalid recipient address");
}

TEST(MailOutbox, RetryDelayDoublesUpToTheCap) {
  OutboxOptions o;
  o.retry_base = std::chrono::milliseconds(1000);
  o.retry_max = std::chrono::milliseconds(10000);
  EXPECT_EQ(retry_delay(o, 1).count(), 1000);
  EXPECT_EQ(retry_delay(o, 2).count(), 2000);
  EXPECT_EQ(retry_delay(o, 4).count(), 8000);
  EXPECT_EQ(retry_delay(o, 5).count(), 10000);
  EXPECT_EQ(retry_delay(o, 500).count(), 10000);
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = store::open_sqlite_store({.dir = dir_.path()}); }
  std::string queue(const Message& m) {
    std::string id;
    store_->transaction([&](store::Tx& tx) { id = Outbox::enqueue(tx, m); });
    return id;
  }
  json::object row(const std::string& id) {
    return *store_->get_record(store::mail_outbox_table(), id);
  }
  test::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  observe::Logger logger_{-1};
};

TEST_F(OutboxTest, QueuedInATransactionSentOnceAndBodyDropped) {
  std::vector<Message> sent;
  Outbox outbox(*store_, logger_, {},
                [&](const Message& m, const std::atomic<bool>&) -> std::optional<std::string> {
                  sent.push_back(m);
                  return std::nullopt;
                });
  auto id = queue(sample());
  EXPECT_EQ(outbox.pending(), 1);
  EXPECT_EQ(outbox.drain_once(now_ms()), 1U);
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(sent[0].subject, "Hello");
  auto r = row(id);
  EXPECT_EQ(r.at("status").as_string(), "sent");
  EXPECT_EQ(r.at("message").at("html").as_string(), "");
  EXPECT_EQ(outbox.drain_once(now_ms() + 3600000), 0U) << "never sent twice";
  EXPECT_EQ(outbox.pending(), 0);
  EXPECT_EQ(outbox.stats().sent, 1U);
  auto listed = outbox.list(10);
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_FALSE(listed[0].contains("message"));
}

TEST_F(OutboxTest, SentRowsArePrunedAfterKeepSent) {
  OutboxOptions o;
  o.keep_sent = std::chrono::hours(24);
  Outbox outbox(*store_, logger_, o, [](const Message&, const std::atomic<bool>&) {
    return std::optional<std::string>();
  });
  auto sent_id = queue(sample());
  outbox.drain_once(now_ms());
  auto waiting_id = queue(sample());
  EXPECT_EQ(outbox.prune(now_ms()), 0U) << "just sent: kept";
  EXPECT_EQ(outbox.prune(now_ms() + 25LL * 3600 * 1000), 1U);
  EXPECT_FALSE(store_->get_record(store::mail_outbox_table(), sent_id));
  EXPECT_TRUE(store_->get_record(store::mail_outbox_table(), waiting_id)) << "pending rows stay";
}

TEST_F(OutboxTest, RolledBackTransactionQueuesNothing) {
  Outbox outbox(*store_, logger_, {}, [](const Message&, const std::atomic<bool>&) {
    return std::optional<std::string>();
  });
  EXPECT_THROW(store_->transaction([&](store::Tx& tx) {
    Outbox::enqueue(tx, sample());
    throw std::runtime_error("the change failed");
  }),
               std::runtime_error);
  EXPECT_EQ(outbox.pending(), 0);
  EXPECT_EQ(outbox.drain_once(now_ms()), 0U);
}

TEST_F(OutboxTest, FailuresRetryWithBackoffThenSucceed) {
  OutboxOptions o;
  o.retry_base = std::chrono::milliseconds(1000);
  o.retry_max = std::chrono::milliseconds(60000);
  int calls = 0;
  bool up = false;
  Outbox outbox(*store_, logger_, o,
                [&](const Message&, const std::atomic<bool>&) -> std::optional<std::string> {
                  ++calls;
                  if (!up) return std::string("connection refused");
                  return std::nullopt;
                });
  auto id = queue(sample());
  auto t0 = now_ms();
  EXPECT_EQ(outbox.drain_once(t0), 1U);
  auto r = row(id);
  EXPECT_EQ(r.at("status").as_string(), "pending");
  EXPECT_EQ(r.at("attempts").to_number<int>(), 1);
  EXPECT_EQ(r.at("lastError").as_string(), "connection refused");
  auto next = r.at("nextAttempt").to_number<std::int64_t>();
  EXPECT_GE(next, t0 + 1000);
  EXPECT_EQ(outbox.drain_once(next - 1), 0U) << "not retried before it is due";
  EXPECT_EQ(outbox.drain_once(next), 1U);
  auto next2 = row(id).at("nextAttempt").to_number<std::int64_t>();
  EXPECT_GE(next2 - next, 2000) << "the delay doubles";
  up = true;
  EXPECT_EQ(outbox.drain_once(next2), 1U);
  EXPECT_EQ(row(id).at("status").as_string(), "sent");
  EXPECT_EQ(row(id).at("attempts").to_number<int>(), 3);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(outbox.stats().failed_attempts, 2U);
}

TEST_F(OutboxTest, GivesUpAfterMaxAttemptsAndKeepsTheRow) {
  OutboxOptions o;
  o.max_attempts = 3;
  o.retry_base = std::chrono::milliseconds(1);
  o.retry_max = std::chrono::milliseconds(1);
  Outbox outbox(*store_, logger_, o, [](const Message&, const std::atomic<bool>&) {
    return std::optional<std::string>("550 rejected");
  });
  auto id = queue(sample());
  auto far = now_ms() + 3600000;
  for (int i = 0; i < 5; ++i) outbox.drain_once(far + i * 1000);
  auto r = row(id);
  EXPECT_EQ(r.at("status").as_string(), "failed");
  EXPECT_EQ(r.at("attempts").to_number<int>(), 3);
  EXPECT_EQ(r.at("lastError").as_string(), "550 rejected");
  EXPECT_EQ(outbox.stats().given_up, 1U);
  EXPECT_EQ(outbox.pending(), 0);
}

TEST_F(OutboxTest, SenderThreadDeliversToTheSink) {
  test::SmtpSink sink;
  auto settings = store_->settings();
  settings["smtp"] = json::object{{"enabled", true}, {"host", "127.0.0.1"}, {"port", sink.port()}};
  store_->save_settings(settings);
  Outbox outbox(*store_, logger_, {}, smtp_sender(*store_));
  outbox.start();
  queue(sample("thread@example.com"));
  outbox.notify();
  EXPECT_TRUE(sink.wait_for("thread@example.com", std::chrono::seconds(10)));
  // The sink has the message; the sender records it once the SMTP session ends.
  for (int i = 0; i < 200 && outbox.stats().sent == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  outbox.stop();
  EXPECT_EQ(outbox.stats().sent, 1U);
}

TEST_F(OutboxTest, StopCancelsASendInProgress) {
  // A server that accepts connections (the kernel's backlog) but never greets.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto settings = store_->settings();
  settings["smtp"] =
      json::object{{"enabled", true}, {"host", "127.0.0.1"}, {"port", ntohs(addr.sin_port)}};
  store_->save_settings(settings);
  Outbox outbox(*store_, logger_, {}, smtp_sender(*store_));
  auto id = queue(sample());
  outbox.start();
  outbox.notify();
  // Let the sender connect and wait for the greeting that never comes.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  outbox.stop();
  ::close(fd);
  auto r = row(id);
  EXPECT_EQ(r.at("status").as_string(), "pending") << "kept for the next start";
  EXPECT_EQ(r.at("attempts").to_number<int>(), 0) << "a cancelled send is not a failed attempt";
  EXPECT_LE(r.at("nextAttempt").to_number<std::int64_t>(), now_ms()) << "due at the next start";
  EXPECT_EQ(outbox.stats().failed_attempts, 0U);
}

TEST_F(OutboxTest, RowIsClaimedBeforeItIsSent) {
  std::string id;
  std::int64_t next_during_send = 0;
  Outbox outbox(*store_, logger_, {},
                [&](const Message&, const std::atomic<bool>&) -> std::optional<SendError> {
                  next_during_send = row(id).at("nextAttempt").to_number<std::int64_t>();
                  return std::nullopt;
                });
  id = queue(sample());
  auto now = now_ms();
  EXPECT_EQ(outbox.drain_once(now), 1U);
  // Were the outcome lost now, the row would not be due again before the retry delay.
  EXPECT_GE(next_during_send, now + OutboxOptions{}.retry_base.count());
  EXPECT_EQ(row(id).at("status").as_string(), "sent");
}

TEST_F(OutboxTest, PermanentRefusalIsFinalAndDropsTheContent) {
  int calls = 0;
  Outbox outbox(*store_, logger_, {},
                [&](const Message&, const std::atomic<bool>&) -> std::optional<SendError> {
                  ++calls;
                  return SendError("550 no such user", true);
                });
  auto id = queue(sample());
  EXPECT_EQ(outbox.drain_once(now_ms()), 1U);
  EXPECT_EQ(outbox.drain_once(now_ms() + 3600000), 0U);
  EXPECT_EQ(calls, 1);
  auto r = row(id);
  EXPECT_EQ(r.at("status").as_string(), "failed");
  EXPECT_EQ(r.at("attempts").to_number<int>(), 1);
  EXPECT_EQ(r.at("lastError").as_string(), "550 no such user");
  EXPECT_EQ(r.at("subject").as_string(), "");
  EXPECT_EQ(r.at("message").at("subject").as_string(), "");
  EXPECT_EQ(r.at("message").at("html").as_string(), "");
  EXPECT_EQ(outbox.stats().given_up, 1U);
}

TEST_F(OutboxTest, SmtpRefusalOfTheRecipientIsPermanent) {
  test::SmtpSink sink;
  auto settings = store_->settings();
  settings["smtp"] = json::object{{"enabled", true}, {"host", "127.0.0.1"}, {"port", sink.port()}};
  store_->save_settings(settings);
  Outbox outbox(*store_, logger_, {}, smtp_sender(*store_), smtp_state(*store_));
  auto id = queue(sample("nobody" + std::string(test::kRejectedDomain)));
  EXPECT_EQ(outbox.drain_once(now_ms()), 1U);
  auto r = row(id);
  EXPECT_EQ(r.at("status").as_string(), "failed") << r.at("lastError").as_string();
  EXPECT_EQ(r.at("attempts").to_number<int>(), 1);
  EXPECT_NE(std::string(r.at("lastError").as_string()).find("550"), std::string::npos)
      << r.at("lastError").as_string();
}

TEST_F(OutboxTest, DisabledSenderLeavesRowsAloneAndNewSettingsMakeThemDue) {
  SenderState state{.enabled = false, .config = "a"};
  bool up = false;
  int calls = 0;
  Outbox outbox(
      *store_, logger_, {},
      [&](const Message&, const std::atomic<bool>&) -> std::optional<SendError> {
        ++calls;
        if (!up) return SendError("connection refused");
        return std::nullopt;
      },
      [&] { return state; });
  auto id = queue(sample());
  auto now = now_ms();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(outbox.drain_once(now + i * 1000), 0U);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(row(id).at("attempts").to_number<int>(), 0) << "no attempt counted while disabled";

  state.enabled = true;
  EXPECT_EQ(outbox.drain_once(now), 1U);
  auto next = row(id).at("nextAttempt").to_number<std::int64_t>();
  EXPECT_GT(next, now);
  EXPECT_EQ(outbox.drain_once(now + 1), 0U) << "backing off";
  // New settings: the row is due at once, not after its backoff.
  state.config = "b";
  up = true;
  EXPECT_EQ(outbox.drain_once(now + 1), 1U);
  EXPECT_EQ(row(id).at("status").as_string(), "sent");
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace plinth::mail
