#include <gtest/gtest.h>

#include "plinth/observe/metrics.hpp"

namespace plinth::observe {
namespace {

TEST(Metrics, CounterGaugeAndHistogramExposition) {
  Registry reg;
  auto& c = reg.counter("t_requests_total", "Requests.", {"method", "route"});
  c.with({"GET", "/a"}).inc();
  c.with({"GET", "/a"}).inc(2);
  c.with({"POST", "/b\"x"}).inc();
  auto& g = reg.gauge("t_open", "Open.").with({});
  g.add(5);
  g.add(-2);
  auto& h = reg.histogram("t_latency_seconds", "Latency.", {"route"}, {0.1, 1});
  h.with({"/a"}).observe(0.05);
  h.with({"/a"}).observe(0.5);
  h.with({"/a"}).observe(5);
  reg.callback_gauge("t_cb", "Callback.", [] { return 1.5; });
  reg.info("t_build_info", "Build.", {{"version", "1.0"}});

  auto text = reg.expose();
  EXPECT_NE(text.find("# TYPE t_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("t_requests_total{method=\"GET\",route=\"/a\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("t_requests_total{method=\"POST\",route=\"/b\\\"x\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("t_open 3\n"), std::string::npos);
  EXPECT_NE(text.find("t_latency_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("t_latency_seconds_bucket{route=\"/a\",le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("t_latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("t_latency_seconds_sum{route=\"/a\"} 5.55\n"), std::string::npos);
  EXPECT_NE(text.find("t_latency_seconds_count{route=\"/a\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("t_cb 1.5\n"), std::string::npos);
  EXPECT_NE(text.find("t_build_info{version=\"1.0\"} 1\n"), std::string::npos);
}

TEST(Metrics, LabelEscaping) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}

}  // namespace
}  // namespace plinth::observe
