// Usage charts for an app's dashboard page (issue 15): a pure function from a series to SVG
// text the page embeds inline (server-rendered; no script, no client-side framework).
//
// Safety contract: every piece of text (title, series names, axis labels) is XML-escaped
// (& < > " '), and the output holds no script, no event-handler attribute, no `style`
// attribute or element (the pages' CSP `style-src 'self'` would refuse inline styles:
// colours are presentation attributes) and no external reference. Values that are negative,
// NaN or infinite are drawn as 0. Deterministic: the same chart gives the same text.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "monitor/app_usage.hpp"

namespace stagepass::web {

struct ChartLine {
  std::string name;            // shown in the legend
  std::vector<double> values;  // one per x; missing ones are drawn as 0
};

struct Chart {
  std::string title;       // the accessible name (<title>) and the heading line
  std::vector<int64_t> x;  // unix seconds of each point, oldest first
  bool x_dates = false;    // label the x axis with dates (else UTC hours:minutes)
  std::vector<ChartLine> lines;
  int width = 640;   // clamped to [200, 2000]
  int height = 220;  // clamped to [100, 1000]
};

// The chart as one <svg> element.
std::string render_svg_chart(const Chart& chart);

// A window of AppUsage as a chart: one line for all requests, one for errors, one for 429s.
Chart usage_chart(const UsageWindow& window, const std::string& title);

// issue15-fix:groups. Requests per endpoint group (monitor/app_usage.hpp's EndpointGroup) in
// each window of a series: one row per group with a request in any window, in group order;
// `requests` has one figure per window of the series (1h, 24h, 30d). No request at all: empty.
struct GroupRow {
  std::string group;  // group_name(): "profile", "search", ...
  std::vector<uint64_t> requests;
};
std::vector<GroupRow> requests_per_group(const AppUsageSeries& series);

}  // namespace stagepass::web
