// JSON-lines logging for operators: one JSON object per line on standard output, written
// through spdlog (asynchronous-safe, thread-safe). Never pass secrets in fields.
#pragma once

#include <boost/json/object.hpp>
#include <string_view>

namespace stagepass::log {

void init(bool access_log_enabled);
bool access_enabled();
// {"ts":..., "level":..., "msg":..., ...fields}
void event(std::string_view level, std::string_view msg, boost::json::object fields = {});

}  // namespace stagepass::log
