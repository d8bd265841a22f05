#include "monitor/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <chrono>

namespace stagepass::log {
namespace {
std::shared_ptr<spdlog::logger> g_logger;
bool g_access = true;
}  // namespace

void init(bool access_log_enabled) {
  g_access = access_log_enabled;
  g_logger = spdlog::stdout_logger_mt("stagepass");
  g_logger->set_pattern("%v");
  g_logger->flush_on(spdlog::level::warn);
}

bool access_enabled() { return g_access; }

void event(std::string_view level, std::string_view msg, boost::json::object fields) {
  if (!g_logger) return;
  auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch());
  boost::json::object line{{"ts", now.count()}, {"level", level}, {"msg", msg}};
  for (auto& kv : fields) line[kv.key()] = std::move(kv.value());
  g_logger->info(boost::json::serialize(line));
}

}  // namespace stagepass::log
