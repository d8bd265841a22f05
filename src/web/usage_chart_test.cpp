// The dashboard's SVG charts: escaped text, no script, the scale and points a reader expects.
#include "web/usage_chart.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace stagepass::web {
namespace {

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

Chart three_points() {
  Chart c;
  c.title = "Requests, last hour";
  c.x = {1800000000, 1800000060, 1800000120};
  c.lines = {{"requests", {0, 50, 100}}, {"errors", {1, 2, 3}}};
  c.width = 400;
  c.height = 200;
  return c;
}

TEST(UsageChart, IsOneSvgElementWithATitleAndALinePerSeries) {
  const std::string svg = render_svg_chart(three_points());
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_TRUE(svg.ends_with("</svg>"));
  EXPECT_EQ(count(svg, "<svg"), 1u);
  EXPECT_NE(svg.find("<title>Requests, last hour</title>"), std::string::npos);
  EXPECT_EQ(count(svg, "<polyline"), 2u);
  EXPECT_NE(svg.find("viewBox=\"0 0 400 200\""), std::string::npos);
  EXPECT_EQ(svg, render_svg_chart(three_points()));  // deterministic
}

TEST(UsageChart, PointsSpanThePlotAndTheTopValueTouchesTheScale) {
  const std::string svg = render_svg_chart(three_points());
  // Plot: x from 56 to 400-12=388; y from 28 to 200-40=160. Max 100 -> scale top 100.
  EXPECT_NE(svg.find("points=\"56.0,160.0 222.0,94.0 388.0,28.0\""), std::string::npos) << svg;
  EXPECT_NE(svg.find(">100</text>"), std::string::npos);  // the y axis' top label
  EXPECT_NE(svg.find(">50</text>"), std::string::npos);
  EXPECT_NE(svg.find(">08:00</text>"), std::string::npos);  // 2027-01-15T08:00:00Z, UTC
  EXPECT_NE(svg.find(">08:02</text>"), std::string::npos);
}

TEST(UsageChart, EscapesEveryTextAndCarriesNoScriptOrStyle) {
  Chart c = three_points();
  c.title = "<script>alert(1)</script>\" onload='x' &";
  c.lines[0].name = "<img src=x onerror=alert(1)>";
  const std::string svg = render_svg_chart(c);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("<img"), std::string::npos);
  EXPECT_EQ(svg.find("onload='"), std::string::npos);
  EXPECT_EQ(svg.find("style"), std::string::npos);
  EXPECT_NE(svg.find("&lt;script&gt;alert(1)&lt;/script&gt;&quot; onload=&#39;x&#39; &amp;"),
            std::string::npos);
  EXPECT_NE(svg.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
}

TEST(UsageChart, BadValuesAreZeroAndAnEmptySeriesSaysSo) {
  Chart c = three_points();
  c.lines = {{"requests", {std::nan(""), -5, std::numeric_limits<double>::infinity()}}};
  const std::string svg = render_svg_chart(c);
  EXPECT_NE(svg.find("points=\"56.0,160.0 222.0,160.0 388.0,160.0\""), std::string::npos) << svg;
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  Chart empty;
  empty.title = "Nothing yet";
  EXPECT_NE(render_svg_chart(empty).find(">No data</text>"), std::string::npos);
}

TEST(UsageChart, UsageWindowsBecomeRequestsErrorsAndLimits) {
  AppUsage usage;
  usage.note("app", EndpointGroup::kSearch, 200, "u", "g");
  usage.note("app", EndpointGroup::kSearch, 429, "u", "g");
  usage.fold(1800000000);
  auto series = usage.usage("app", 1800000000);
  Chart c = usage_chart(series.windows[2], "Last 30 days");
  EXPECT_TRUE(c.x_dates);
  ASSERT_EQ(c.lines.size(), 3u);
  EXPECT_EQ(c.x.size(), 30u);
  EXPECT_EQ(c.lines[0].values.back(), 2);
  EXPECT_EQ(c.lines[2].values.back(), 1);
  EXPECT_NE(render_svg_chart(c).find("<title>429s</title>"), std::string::npos);
}

// issue15-fix:groups: the app page's breakdown, one row per group used, a figure per window.
TEST(UsageChart, RequestsPerGroupHasARowPerGroupUsedAndAFigurePerWindow) {
  AppUsage usage;
  const int64_t t = 1800000000 - 1800000000 % 3600;
  usage.note("app", EndpointGroup::kPlayer, 200, "u", "g");  // two hours ago: day and month only
  usage.fold(t - 7200);
  for (int i = 0; i < 3; ++i) usage.note("app", EndpointGroup::kSearch, 200, "u", "g");
  usage.note("app", EndpointGroup::kProfile, 429, "u", "g");
  usage.fold(t);
  auto rows = requests_per_group(usage.usage("app", t + 1));
  ASSERT_EQ(rows.size(), 3u);  // in group order: profile, player, search
  EXPECT_EQ(rows[0].group, "profile");
  EXPECT_EQ(rows[0].requests, (std::vector<uint64_t>{1, 1, 1}));
  EXPECT_EQ(rows[1].group, "player");
  EXPECT_EQ(rows[1].requests, (std::vector<uint64_t>{0, 1, 1}));
  EXPECT_EQ(rows[2].group, "search");
  EXPECT_EQ(rows[2].requests, (std::vector<uint64_t>{3, 3, 3}));
  EXPECT_TRUE(requests_per_group(usage.usage("unused", t)).empty());
}

}  // namespace
}  // namespace stagepass::web
