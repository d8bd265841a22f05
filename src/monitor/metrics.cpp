#include "monitor/metrics.hpp"

#include <charconv>
#include <cmath>
#include <mutex>
#include <sstream>

namespace stagepass {

void Metrics::describe(const std::string& family, const std::string& type,
                       const std::string& help) {
  std::unique_lock lk(mu_);
  families_[family] = {type, help};
}

void Metrics::inc(const std::string& series, uint64_t n) {
  counter(series).fetch_add(n, std::memory_order_relaxed);
}

std::atomic<uint64_t>& Metrics::counter(const std::string& series) {
  {
    std::shared_lock lk(mu_);
    auto it = counters_.find(series);
    if (it != counters_.end()) return *it->second;
  }
  std::unique_lock lk(mu_);
  auto& c = counters_[series];
  if (!c) c = std::make_unique<std::atomic<uint64_t>>(0);
  return *c;
}

void Metrics::gauge(const std::string& series, std::function<double()> read) {
  std::unique_lock lk(mu_);
  gauges_[series] = std::move(read);
}

// A sample value as Prometheus reads it: the shortest text that reads back as the same double.
// (A stream's default 6 significant digits turned a counter of 1,234,567 into 1.23457e+06:
// a rate over a minute of such a counter was rounded to steps of 0.17 a second.)
std::string Metrics::sample(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? std::string(buf, end) : "NaN";
}

std::string Metrics::render() const {
  std::shared_lock lk(mu_);
  std::ostringstream out;
  auto family_of = [](const std::string& series) { return series.substr(0, series.find('{')); };
  std::string last;
  auto header = [&](const std::string& series) {
    auto f = family_of(series);
    if (f == last) return;
    last = f;
    if (auto it = families_.find(f); it != families_.end()) {
      out << "# HELP " << f << " " << it->second.second << "\n# TYPE " << f << " "
          << it->second.first << "\n";
    }
  };
  for (const auto& [series, value] : counters_) {
    header(series);
    out << series << " " << value->load(std::memory_order_relaxed) << "\n";
  }
  for (const auto& [series, read] : gauges_) {
    header(series);
    out << series << " " << sample(read()) << "\n";
  }
  return out.str();
}

}  // namespace stagepass
