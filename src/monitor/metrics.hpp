// Metrics: counters and gauges rendered in Prometheus text format for GET /metrics.
// A series is named with its labels, e.g. `stagepass_api_requests_total{status="200"}`.
// Thread safety: safe from any thread; counting an existing series takes a shared lock.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>

namespace stagepass {

class Metrics {
 public:
  // Declares a metric family once (HELP/TYPE lines).
  void describe(const std::string& family, const std::string& type, const std::string& help);
  void inc(const std::string& series, uint64_t n = 1);
  // The counter of a series, created at 0 if new; the reference stays valid as long as the
  // Metrics, so hot paths resolve their series once and add to it directly.
  std::atomic<uint64_t>& counter(const std::string& series);
  // A gauge read at render time.
  void gauge(const std::string& series, std::function<double()> read);
  std::string render() const;
  // One sample value in Prometheus text: exact (shortest round-trip), NaN, +Inf or -Inf.
  static std::string sample(double v);

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, std::pair<std::string, std::string>> families_;  // type, help
  std::map<std::string, std::unique_ptr<std::atomic<uint64_t>>> counters_;
  std::map<std::string, std::function<double()>> gauges_;
};

}  // namespace stagepass
