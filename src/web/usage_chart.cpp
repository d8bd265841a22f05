#include "web/usage_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace stagepass::web {
namespace {

constexpr const char* kColours[] = {"#1db954", "#e22134", "#f59b23", "#2e77d0", "#8d67ab"};
constexpr int kLeft = 56, kRight = 12, kTop = 28, kBottom = 40;

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        // XML 1.0 allows no control characters but TAB, LF, CR.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

double clean(double v) { return std::isfinite(v) && v > 0 ? v : 0; }

// The smallest 1, 2 or 5 times a power of ten at or above v (the y axis' top), at least 1.
double nice_ceiling(double v) {
  if (v <= 1) return 1;
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= v) return m * p;
  return 10 * p;
}

std::string number(double v) {
  char buf[32];
  if (v >= 1e6) {
    std::snprintf(buf, sizeof buf, "%gM", v / 1e6);
  } else if (v >= 1e4) {
    std::snprintf(buf, sizeof buf, "%gk", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%g", v);
  }
  return buf;
}

std::string coord(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string time_label(int64_t t, bool dates) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  if (!gmtime_r(&tt, &tm)) return "";
  char buf[32];
  std::strftime(buf, sizeof buf, dates ? "%b %d" : "%H:%M", &tm);
  return buf;
}

}  // namespace

std::string render_svg_chart(const Chart& c) {
  const int w = std::clamp(c.width, 200, 2000);
  const int h = std::clamp(c.height, 100, 1000);
  const double plot_w = w - kLeft - kRight, plot_h = h - kTop - kBottom;
  const size_t n = c.x.size();
  double top = 0;
  for (const auto& line : c.lines)
    for (size_t i = 0; i < n && i < line.values.size(); ++i)
      top = std::max(top, clean(line.values[i]));
  top = nice_ceiling(top);
  auto px = [&](size_t i) { return kLeft + (n > 1 ? plot_w * i / (n - 1) : plot_w / 2); };
  auto py = [&](double v) { return kTop + plot_h - plot_h * clean(v) / top; };

  std::string s =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"usage-chart\" role=\"img\" "
      "viewBox=\"0 0 " +
      std::to_string(w) + " " + std::to_string(h) + "\" width=\"" + std::to_string(w) +
      "\" height=\"" + std::to_string(h) + "\">";
  s += "<title>" + escape(c.title) + "</title>";
  s += "<text x=\"" + std::to_string(kLeft) + "\" y=\"16\" font-size=\"13\" fill=\"#333\">" +
       escape(c.title) + "</text>";
  // Axes and the y scale (0, half, top).
  const std::string x0 = std::to_string(kLeft), x1 = std::to_string(w - kRight);
  for (double frac : {0.0, 0.5, 1.0}) {
    const std::string y = coord(py(top * frac));
    s += "<line x1=\"" + x0 + "\" y1=\"" + y + "\" x2=\"" + x1 + "\" y2=\"" + y +
         "\" stroke=\"#ddd\" stroke-width=\"1\"/>";
    s += "<text x=\"" + std::to_string(kLeft - 6) + "\" y=\"" + coord(py(top * frac) + 4) +
         "\" font-size=\"11\" fill=\"#666\" text-anchor=\"end\">" + escape(number(top * frac)) +
         "</text>";
  }
  // x labels: first, middle, last.
  if (n > 0) {
    std::vector<size_t> at{0};
    if (n > 2) at.push_back(n / 2);
    if (n > 1) at.push_back(n - 1);
    for (size_t i : at) {
      const char* anchor = i == 0 && n > 1 ? "start" : (i == n - 1 && n > 1 ? "end" : "middle");
      s += "<text x=\"" + coord(px(i)) + "\" y=\"" + std::to_string(h - kBottom + 16) +
           "\" font-size=\"11\" fill=\"#666\" text-anchor=\"" + anchor + "\">" +
           escape(time_label(c.x[i], c.x_dates)) + "</text>";
    }
  } else {
    s += "<text x=\"" + coord(kLeft + plot_w / 2) + "\" y=\"" + coord(kTop + plot_h / 2) +
         "\" font-size=\"12\" fill=\"#666\" text-anchor=\"middle\">No data</text>";
  }
  // One polyline per series, and its legend entry.
  double legend_x = kLeft;
  for (size_t l = 0; l < c.lines.size(); ++l) {
    const auto& line = c.lines[l];
    const char* colour = kColours[l % std::size(kColours)];
    if (n > 0) {
      std::string points;
      for (size_t i = 0; i < n; ++i) {
        if (i) points += ' ';
        points += coord(px(i)) + "," + coord(py(i < line.values.size() ? line.values[i] : 0));
      }
      s += "<polyline fill=\"none\" stroke=\"" + std::string(colour) +
           "\" stroke-width=\"2\" points=\"" + points + "\"><title>" + escape(line.name) +
           "</title></polyline>";
    }
    const std::string ly = std::to_string(h - 8);
    s += "<rect x=\"" + coord(legend_x) + "\" y=\"" + std::to_string(h - 18) +
         "\" width=\"10\" height=\"10\" fill=\"" + colour + "\"/>";
    s += "<text x=\"" + coord(legend_x + 14) + "\" y=\"" + ly +
         "\" font-size=\"11\" fill=\"#333\">" + escape(line.name) + "</text>";
    legend_x += 24 + 7.0 * static_cast<double>(std::min<size_t>(line.name.size(), 40));
  }
  s += "</svg>";
  return s;
}

Chart usage_chart(const UsageWindow& window, const std::string& title) {
  Chart c;
  c.title = title;
  c.x_dates = window.bucket_seconds >= 86400;
  ChartLine requests{"requests", {}}, errors{"errors", {}}, limited{"429s", {}};
  for (const auto& p : window.points) {
    c.x.push_back(p.start);
    requests.values.push_back(static_cast<double>(p.counts.total()));
    errors.values.push_back(static_cast<double>(p.counts.errors));
    limited.values.push_back(static_cast<double>(p.counts.rate_limited));
  }
  c.lines = {std::move(requests), std::move(errors), std::move(limited)};
  return c;
}

std::vector<GroupRow> requests_per_group(const AppUsageSeries& series) {
  std::vector<GroupRow> rows;
  for (size_t g = 0; g < kEndpointGroups; ++g) {
    GroupRow row{group_name(static_cast<EndpointGroup>(g)), {}};
    bool any = false;
    for (const UsageWindow& w : series.windows) {
      row.requests.push_back(w.total.requests[g]);
      any = any || w.total.requests[g] > 0;
    }
    if (any) rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace stagepass::web
