#include "monitor/metrics.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace stagepass {
namespace {

// Gauges that count for ever (the store's writes, the writer's seconds) must keep every digit:
// a rate over a minute of a large counter is the difference of two close values.
TEST(MetricsTest, GaugesRenderEveryDigitOfLargeCounters) {
  Metrics m;
  m.gauge("a_seconds_total", [] { return 1234567.25; });
  m.gauge("b_total", [] { return 98765432.0; });
  m.gauge("c_ratio", [] { return 0.1; });
  const std::string text = m.render();
  EXPECT_NE(text.find("a_seconds_total 1234567.25\n"), std::string::npos) << text;
  EXPECT_NE(text.find("b_total 98765432\n"), std::string::npos) << text;
  EXPECT_NE(text.find("c_ratio 0.1\n"), std::string::npos) << text;
}

TEST(MetricsTest, SamplesThatAreNotNumbersUsePrometheusSpelling) {
  EXPECT_EQ(Metrics::sample(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(Metrics::sample(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(Metrics::sample(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(Metrics::sample(0), "0");
}

}  // namespace
}  // namespace stagepass
