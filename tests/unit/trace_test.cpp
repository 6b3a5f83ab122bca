#include <gtest/gtest.h>

#include "plinth/observe/trace.hpp"

namespace plinth::observe {
namespace {

TEST(Trace, ParseTraceparent) {
  struct Case {
    const char* name;
    const char* in;
    bool valid;
  } cases[] = {
      {"valid", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", true},
      {"future version longer", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-xyz",
       true},
      {"version ff", "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", false},
      {"uppercase", "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", false},
      {"zero trace", "00-00000000000000000000000000000000-b7ad6b7169203331-01", false},
      {"zero span", "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", false},
      {"v00 trailing", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x", false},
      {"short", "00-abc-def-01", false},
      {"empty", "", false},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_traceparent(c.in).has_value(), c.valid) << c.name;
}

TEST(Trace, StartSpanContinuesOrStarts) {
  auto cont = start_span("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(cont.trace_id, "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(cont.parent_span_id, "b7ad6b7169203331");
  EXPECT_EQ(cont.span_id.size(), 16U);
  EXPECT_NE(cont.span_id, "b7ad6b7169203331");
  EXPECT_TRUE(parse_traceparent(cont.traceparent()).has_value());

  auto fresh = start_span("garbage");
  EXPECT_EQ(fresh.trace_id.size(), 32U);
  EXPECT_TRUE(fresh.parent_span_id.empty());
  EXPECT_TRUE(parse_traceparent(fresh.traceparent()).has_value());
}

}  // namespace
}  // namespace plinth::observe
